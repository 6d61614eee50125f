"""Who may do what on the cluster's NATS servers: mutual TLS, and a role per certificate.

Every connection to a NATS server of the cluster (members, routers, the rebalance command, the
servers' own routes to each other) is TLS with a client certificate of the deployment's CA
(the one `limes pki dev-certs` makes, or a real one). nats-server 2.9's `verify_and_map`
then takes the certificate's subject (RFC 4514, e.g. `CN=matcher-member,OU=service,O=...`) as
the user name: a certificate of that CA whose subject is not one of the roles below is refused
like one without a certificate. So a station's or an officer's certificate opens nothing here.

Roles (the CN of a `service` certificate):

- member (CN matcher-member) may publish JetStream requests (read the stream, make its reader
  consumers, read the table) and heartbeats (`member.*` in the table); never a gallery change;
- router (CN matcher-router) may also publish gallery changes (`limes.gallery.>`) and gallery
  configurations (`gallery.*` in the table);
- admin (CN matcher-admin) may publish anything: the stream's and the table's set-up, the
  assignment (`limes matcher rebalance`).

Nobody but `admin` may delete, purge or reconfigure a stream, or delete a message of one.
Everyone may subscribe only to reply inboxes (`_INBOX.>`): JetStream answers and pull
deliveries come there.
"""
from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509

from proto.tls import TlsFiles

ROLES = ("member", "router", "admin")
TABLE = "$KV.limes_matcher"
STREAM_ADMINISTRATION = ["$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>", "$JS.API.STREAM.UPDATE.>",
                         "$JS.API.STREAM.MSG.DELETE.>"]
PUBLISH = {
    "member": ["$JS.API.>", f"{TABLE}.member.>"],
    "router": ["$JS.API.>", f"{TABLE}.member.>", f"{TABLE}.gallery.>", "limes.gallery.>"],
    "admin": [">"],
}


def common_name(role: str) -> str:
    """The CN of the service certificate that holds `role`."""
    if role not in ROLES:
        raise ValueError(f"unknown NATS role {role!r} (one of {', '.join(ROLES)})")
    return f"matcher-{role}"


def subject_of(certificate: Path) -> str:
    """The certificate's subject as nats-server's verify_and_map names the user (RFC 4514: CN first)."""
    return x509.load_pem_x509_certificate(Path(certificate).read_bytes()).subject.rfc4514_string()


def authorization(role_certificates: dict[str, Path]) -> str:
    """The `authorization` block of a nats-server configuration: one user per role, named by the
    subject of that role's certificate."""
    users = []
    for role, certificate in role_certificates.items():
        deny = [] if role == "admin" else STREAM_ADMINISTRATION
        users.append(f"    {{ user: {_quoted(subject_of(certificate))}\n"
                     f"      permissions: {{ publish: {{ allow: {_list(PUBLISH[role])}, deny: {_list(deny)} }},\n"
                     f"                     subscribe: {{ allow: {_list(['_INBOX.>'])} }} }} }}")
    return "authorization {\n  users = [\n" + "\n".join(users) + "\n  ]\n}\n"


def server_tls(files: TlsFiles, *, map_users: bool) -> str:
    """A `tls` block: the server's certificate, client certificates of `files.ca` required (and, with
    `map_users`, their subjects taken as user names)."""
    mode = "verify_and_map: true" if map_users else "verify: true"
    return (f"tls {{\n  cert_file: {_quoted(files.certificate)}\n  key_file: {_quoted(files.key)}\n"
            f"  ca_file: {_quoted(files.ca)}\n  {mode}\n  timeout: 5\n}}\n")


def client_context(files: TlsFiles) -> ssl.SSLContext:
    """What a NATS client presents and trusts: its certificate, and servers certified by the CA."""
    files.read()  # a clear TlsError for files that do not load or do not belong together
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(files.ca))
    context.load_cert_chain(str(files.certificate), str(files.key))
    return context


def _quoted(value) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _list(values: list[str]) -> str:
    return "[" + ", ".join(_quoted(v) for v in values) + "]"
