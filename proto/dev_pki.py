"""A development PKI for mutual TLS between the Limes services: one local CA,
a server certificate for central and the matcher, a client certificate per
station and user. For the demo, the tests and trying things out;
a real deployment issues these from its own CA (the subject layout below is
all the services need, see proto.tls).

Every certificate names its holder in the subject: CN is the name (the station
id, the user name), OU the kind (`station`, `user`; `service` for the server
certificate). The server certificate is valid for localhost, 127.0.0.1 and ::1
(and any --host given) and may also act as a client, so that central can call
the matcher with it.

Files in the output folder (keys unencrypted, mode 0600):

    ca.pem, ca.key                              the CA (its key issues more certificates later)
    server.pem, server.key                      central and matcher
    station-ID.pem, station-ID.key              one per station (gate or desk)
    user-NAME.pem, user-NAME.key                one per officer tool or administrator
    service-NAME.pem, service-NAME.key          a service's client certificate (DevPki.service)
    listener-NAME.pem, listener-NAME.key        one service's own server certificate (DevPki.listener)

Run again on the same folder to add stations or users: the CA and every
certificate already there are kept.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from proto.tls import KINDS, TlsFiles

ORGANISATION = "Limes development PKI"
CA_DAYS = 3 * 365
LEAF_DAYS = 365
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# Names become file names and certificate subjects: keep them plain (the station ids of central are such).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


_ISSUING = threading.Lock()


class DevPkiError(ValueError):
    """A name that cannot be a certificate holder, or a CA folder that does not load."""


@dataclass
class Issued:
    """What dev_certs did: every file set by holder, and which of them were made now."""

    folder: Path
    ca: Path
    server: TlsFiles
    stations: dict[str, TlsFiles] = field(default_factory=dict)
    users: dict[str, TlsFiles] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # file names, in the order made

    def as_dict(self) -> dict:
        def files(tls: TlsFiles) -> dict:
            return {"certificate": str(tls.certificate), "key": str(tls.key)}
        return {"folder": str(self.folder), "ca": str(self.ca), "server": files(self.server),
                "stations": {k: files(v) for k, v in self.stations.items()},
                "users": {k: files(v) for k, v in self.users.items()},
                "created": self.created}


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise DevPkiError(f"{name!r}: a certificate holder's name is 1 to 64 letters, digits, '.', '_' or '-', "
                          "starting with a letter or digit")
    return name


class DevPki:
    """The CA of one folder, created on first use; issues certificates into that folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.created: list[str] = []
        self.ca_path = self.folder / "ca.pem"
        ca_key_path = self.folder / "ca.key"
        if self.ca_path.exists() and ca_key_path.exists():
            try:
                self._ca_cert = x509.load_pem_x509_certificate(self.ca_path.read_bytes())
                self._ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
            except ValueError as exc:
                raise DevPkiError(f"{self.folder}: ca.pem or ca.key does not load: {exc}") from exc
        elif self.ca_path.exists() or ca_key_path.exists():
            raise DevPkiError(f"{self.folder}: has only one of ca.pem and ca.key; remove it or use another folder")
        else:
            self._ca_key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                              x509.NameAttribute(NameOID.COMMON_NAME, "Limes development CA")])
            now = _now()
            self._ca_cert = (
                x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self._ca_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=True, crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._ca_key.public_key()), critical=False)
                .sign(self._ca_key, hashes.SHA256()))
            _write_key(ca_key_path, self._ca_key)
            _write_atomically(self.ca_path, self._ca_cert.public_bytes(serialization.Encoding.PEM))
            self.created += ["ca.pem", "ca.key"]

    def server(self, hosts: tuple[str, ...] = ()) -> TlsFiles:
        """The services' certificate: loopback plus `hosts` as subject alternative names.

        One already there is kept when it names every host asked for, else issued anew (same CA).
        """
        names = list(dict.fromkeys((*LOOPBACK_HOSTS, *hosts)))
        existing = self.folder / "server.pem"
        if existing.exists() and not {str(_general_name(h).value) for h in names} <= _names_in(existing):
            existing.unlink()
        return self._issue("server", "service", "limes-services", names, server=True)

    def station(self, station_id: str) -> TlsFiles:
        return self._issue(f"station-{check_name(station_id)}", "station", station_id)

    def user(self, name: str) -> TlsFiles:
        return self._issue(f"user-{check_name(name)}", "user", name)

    def service(self, name: str) -> TlsFiles:
        """A client certificate of kind `service` named `name` (e.g. a clustered matcher's NATS role)."""
        return self._issue(f"service-{check_name(name)}", "service", name)

    def listener(self, name: str, *, client: bool = False, hosts: tuple[str, ...] = ()) -> TlsFiles:
        """A server certificate of one service's own (kind `service`, CN `name`), for loopback plus `hosts`.

        Unlike `server()`, it is a client certificate too only with `client` (a matcher router, which
        presents it to its members): a matcher member's, which only serves, cannot be used to call anyone.
        """
        hosts = list(dict.fromkeys((*LOOPBACK_HOSTS, *hosts)))
        return self._issue(f"listener-{check_name(name)}", "service", name, hosts, server=True, client=client)

    def _issue(self, stem: str, kind: str, name: str, hosts: list[str] = (), server: bool = False,
               client: bool = True) -> TlsFiles:
        assert kind in KINDS
        files = TlsFiles(self.ca_path, self.folder / f"{stem}.pem", self.folder / f"{stem}.key")
        with _ISSUING:  # threads asking for the same holder at once get one certificate
            if not (files.certificate.exists() and files.key.exists()):
                self._write(files, kind, name, hosts, server, client)
        return files

    def _write(self, files: TlsFiles, kind: str, name: str, hosts: list[str], server: bool, client: bool) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                                     x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, kind),
                                     x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH] * server + [ExtendedKeyUsageOID.CLIENT_AUTH] * client),
                critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                           critical=False))
        if hosts:
            builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]),
                                            critical=False)
        certificate = builder.sign(self._ca_key, hashes.SHA256())
        _write_key(files.key, key)
        _write_atomically(files.certificate, certificate.public_bytes(serialization.Encoding.PEM))
        self.created += [files.certificate.name, files.key.name]


def dev_certs(folder: Path, stations: tuple[str, ...] = ("DEMO-EGATE-01",), users: tuple[str, ...] = ("demo-admin",),
              hosts: tuple[str, ...] = ()) -> Issued:
    """The CA, the server certificate and a client certificate per station and user, in `folder`."""
    for name in (*stations, *users):
        check_name(name)
    pki = DevPki(folder)
    issued = Issued(pki.folder, pki.ca_path, pki.server(tuple(hosts)))
    issued.stations = {s: pki.station(s) for s in stations}
    issued.users = {u: pki.user(u) for u in users}
    issued.created = list(pki.created)
    return issued


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _names_in(certificate: Path) -> set[str]:
    try:
        names = x509.load_pem_x509_certificate(certificate.read_bytes()).extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return set()
    return {str(name.value) for name in names}


def _write_key(path: Path, key) -> None:
    _write_atomically(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()), mode=0o600)


def _write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Whole or not at all: a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(partial, path)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
