"""Mutual TLS for every Limes gRPC connection, and who is at the other end.

Servers (central, the matcher) require a client certificate issued by their
CA; clients verify the server's certificate against the same CA and present
their own. A client certificate names its holder in the subject: CN is the
name (a station id, a user name), OU the kind (`station`, `user`, `service`);
`proto.dev_pki` issues such certificates for the demo and the tests.

Plaintext is possible only when asked for by name (`plaintext=True`, the
commands' `--plaintext`, `plaintext = true` in a gate's configuration): it
carries no verified identity and is for development only.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import grpc

KINDS = ("station", "user", "service")
# The property of grpc's auth context that holds the verified client certificate.
_PEER_CERTIFICATE = "x509_pem_cert"


class TlsError(ValueError):
    """TLS files that do not load or do not fit together; or neither TLS nor plaintext chosen."""


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of one party: the CA it trusts, its own certificate and its private key."""

    ca: Path
    certificate: Path
    key: Path

    def read(self) -> tuple[bytes, bytes, bytes]:
        """(ca, certificate, key) as bytes, checked to load and to belong together; TlsError otherwise."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        data = []
        for what, path in (("CA", self.ca), ("certificate", self.certificate), ("key", self.key)):
            try:
                data.append(Path(path).read_bytes())
            except OSError as exc:
                raise TlsError(f"TLS {what} {path}: cannot read: {exc.strerror or exc}") from exc
        ca, certificate, key = data
        try:
            x509.load_pem_x509_certificates(ca)
        except ValueError as exc:
            raise TlsError(f"TLS CA {self.ca}: not a PEM certificate: {exc}") from exc
        try:
            own = x509.load_pem_x509_certificate(certificate)
        except ValueError as exc:
            raise TlsError(f"TLS certificate {self.certificate}: not a PEM certificate: {exc}") from exc
        try:
            private = serialization.load_pem_private_key(key, password=None)
        except (ValueError, TypeError) as exc:
            raise TlsError(f"TLS key {self.key}: not an unencrypted PEM private key: {exc}") from exc
        public = serialization.PublicFormat.SubjectPublicKeyInfo
        if (private.public_key().public_bytes(serialization.Encoding.DER, public)
                != own.public_key().public_bytes(serialization.Encoding.DER, public)):
            raise TlsError(f"TLS key {self.key} does not belong to certificate {self.certificate}")
        return ca, certificate, key

    def server_credentials(self) -> grpc.ServerCredentials:
        """Serve with this certificate; callers must present a certificate issued by the CA."""
        ca, certificate, key = self.read()
        return grpc.ssl_server_credentials([(key, certificate)], root_certificates=ca, require_client_auth=True)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Verify the server against the CA and present this certificate."""
        ca, certificate, key = self.read()
        return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=certificate)

    @classmethod
    def from_options(cls, ca: str | Path | None, certificate: str | Path | None, key: str | Path | None,
                     plaintext: bool, who: str) -> TlsFiles | None:
        """The files of --tls-ca/--tls-cert/--tls-key, or None with --plaintext; TlsError for anything else.

        `who` names the party in messages ("central serve", "the gate").
        """
        given = [value for value in (ca, certificate, key) if value]
        if plaintext:
            if given:
                raise TlsError(f"{who}: plaintext and TLS files exclude each other; choose one")
            return None
        if len(given) != 3:
            raise TlsError(f"{who}: mutual TLS needs a CA, a certificate and a key "
                           "(`limes pki dev-certs` makes them for development), or plaintext chosen explicitly")
        return cls(Path(ca), Path(certificate), Path(key))


def require_choice(tls: TlsFiles | None, plaintext: bool, who: str) -> None:
    """TlsError unless exactly one of TLS files and plaintext is chosen: plaintext is never a default."""
    if tls is None and not plaintext:
        raise TlsError(f"{who}: give TLS files, or choose plaintext explicitly (development only)")
    if tls is not None and plaintext:
        raise TlsError(f"{who}: plaintext and TLS files exclude each other; choose one")


def add_port(server: grpc.Server, address: str, tls: TlsFiles | None, plaintext: bool = False) -> int:
    """Listen on `address` with mutual TLS (or in plaintext, when chosen); the bound port. OSError when none."""
    require_choice(tls, plaintext, f"server on {address}")
    port = (server.add_insecure_port(address) if tls is None
            else server.add_secure_port(address, tls.server_credentials()))
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    return port


def open_channel(address: str, tls: TlsFiles | None = None, *, plaintext: bool = False,
                 options: list[tuple[str, object]] | None = None) -> grpc.Channel:
    """A channel to `address` over mutual TLS, or in plaintext when chosen; TlsError when neither."""
    require_choice(tls, plaintext, f"channel to {address}")
    if tls is None:
        return grpc.insecure_channel(address, options=options)
    return grpc.secure_channel(address, tls.channel_credentials(), options=options)


@dataclass(frozen=True)
class PeerIdentity:
    """Who a verified client certificate names: kind (station, user, service, or '' if none) and name."""

    kind: str
    name: str


def peer_identity(context: grpc.ServicerContext) -> PeerIdentity | None:
    """The holder of the caller's verified client certificate; None on a plaintext connection.

    grpc has verified the certificate against the server's CA before any call
    reaches a servicer; here its subject is only read.
    """
    auth = context.auth_context() or {}
    pem = auth.get(_PEER_CERTIFICATE)
    if not pem:
        return None
    return certificate_identity(pem[0])


@functools.lru_cache(maxsize=4096)
def certificate_identity(pem: bytes) -> PeerIdentity:
    """Who a PEM certificate names (cached: the same few certificates come with every call)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    subject = x509.load_pem_x509_certificate(pem).subject

    def one(oid) -> str:
        values = subject.get_attributes_for_oid(oid)
        return str(values[0].value) if len(values) == 1 else ""
    kind, name = one(NameOID.ORGANIZATIONAL_UNIT_NAME), one(NameOID.COMMON_NAME)
    return PeerIdentity(kind if kind in KINDS and name else "", name)


def add_tls_arguments(parser, own: str) -> None:
    """--tls-ca, --tls-cert, --tls-key and --plaintext on a command; `own` says whose certificate it is."""
    group = parser.add_argument_group("transport security (mutual TLS unless --plaintext)")
    group.add_argument("--tls-ca", metavar="PEM", default=None, help="the CA that issued the peers' certificates")
    group.add_argument("--tls-cert", metavar="PEM", default=None, help=f"{own} certificate")
    group.add_argument("--tls-key", metavar="PEM", default=None, help=f"{own} private key")
    group.add_argument("--plaintext", action="store_true",
                       help="no TLS: identities unverified, traffic readable (development only)")


def tls_from_arguments(args, who: str) -> TlsFiles | None:
    """The TlsFiles the flags of add_tls_arguments name (None for --plaintext); TlsError when they do not fit."""
    tls = TlsFiles.from_options(args.tls_ca, args.tls_cert, args.tls_key, args.plaintext, who)
    if tls is not None:
        tls.read()  # a missing or mismatched file is reported now, by name, not at the first handshake
    return tls
