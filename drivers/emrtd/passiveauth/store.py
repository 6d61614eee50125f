"""The trust anchors of passive authentication: CSCA certificates, loaded
from PEM/DER files or from signed CSCA master lists, and the CRLs their
CSCAs issued."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.passiveauth import masterlist
from drivers.emrtd.passiveauth.keys import public_key
from drivers.emrtd.passiveauth.signatures import verify_signed_content

# What cryptography raises on a malformed certificate or CRL: a name attribute of the wrong
# ASN.1 type (a BIT STRING where a string belongs) is a TypeError there, not a ValueError.
DECODE_ERRORS = (ValueError, TypeError, x509.InvalidVersion)

CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")
MASTER_LIST_SUFFIXES = (".ml",)
CRL_SUFFIXES = (".crl",)


class StoreError(ValueError):
    """A certificate, master list or CRL that cannot be trusted or read; says which and why."""


@dataclass(frozen=True)
class MasterListLoad:
    added: int  # CSCAs new to the store
    listed: int  # CSCAs in the list
    skipped: int  # entries not loadable or not CA certificates (some national lists carry odd ones)


def as_utc(at: dt.datetime | None) -> dt.datetime:
    """`at` as an aware datetime: None means now, a naive one is taken as UTC."""
    at = at or dt.datetime.now(dt.timezone.utc)
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def load_certificate(der: bytes) -> x509.Certificate:
    """A DER certificate, with the fields passive authentication reads decoded
    now: cryptography parses names lazily, and a bad one must fail here, with
    one of DECODE_ERRORS, not later in the middle of a check."""
    certificate = x509.load_der_x509_certificate(der)
    _ = (certificate.subject, certificate.issuer, certificate.serial_number,
         certificate.not_valid_before_utc, certificate.not_valid_after_utc)
    return certificate


def valid_at(certificate: x509.Certificate, at: dt.datetime) -> bool:
    return certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc


def is_issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except UnsupportedAlgorithm:  # perhaps an issuer key with explicit EC parameters
        return _is_signed_by_named_ec_key(certificate, issuer)
    except (InvalidSignature, ValueError, TypeError):  # name, key type, signature
        return False
    return True


def _is_signed_by_named_ec_key(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        key = public_key(issuer)
    except UnsupportedAlgorithm:
        return False
    if certificate.issuer != issuer.subject or not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(certificate.signature, certificate.tbs_certificate_bytes,
                   certificate.signature_algorithm_parameters)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


class CscaStore:
    def __init__(self) -> None:
        self._cscas: dict[bytes, x509.Certificate] = {}  # keyed by DER: loading twice adds once
        self._crls: list[x509.CertificateRevocationList] = []

    @classmethod
    def from_certificates(cls, certificates: list[x509.Certificate | bytes]) -> "CscaStore":
        store = cls()
        for certificate in certificates:
            store.add_certificate(certificate)
        return store

    @property
    def cscas(self) -> tuple[x509.Certificate, ...]:
        return tuple(self._cscas.values())

    @property
    def crls(self) -> tuple[x509.CertificateRevocationList, ...]:
        return tuple(self._crls)

    def add_certificate(self, certificate: x509.Certificate | bytes) -> bool:
        """Add a CSCA (object, PEM or DER); False when it was already there."""
        if isinstance(certificate, bytes):
            certificate = _load_certificates(certificate, "certificate")[0]
        if not _is_ca(certificate):
            raise StoreError(f"{certificate.subject.rfc4514_string()} is not a CA certificate, so not a CSCA")
        der = certificate.public_bytes(serialization.Encoding.DER)
        if der in self._cscas:
            return False
        self._cscas[der] = certificate
        return True

    def issuers_of(self, certificate: x509.Certificate) -> list[x509.Certificate]:
        """CSCAs whose subject is the certificate's issuer (several during key roll-over)."""
        return [csca for csca in self._cscas.values() if csca.subject == certificate.issuer]

    def add_master_list(self, data: bytes, *, at: dt.datetime | None = None,
                        trust_list_issuer: bool = False) -> MasterListLoad:
        """Verify a CSCA master list and add the CSCAs it lists.

        The Master List Signer must be issued by a CSCA already in the store;
        with trust_list_issuer a CSCA from the list itself may vouch for it
        (bootstrapping from a list obtained out of band, which proves only
        that the list is intact, not who made it).
        """
        at = as_utc(at)
        try:
            parsed = masterlist.parse(data)
        except LdsError as exc:
            raise StoreError(f"master list unreadable: {exc.reason}") from exc
        if parsed.signed.signer_certificate is None:
            raise StoreError("master list carries no signer certificate")
        try:
            signer = load_certificate(parsed.signed.signer_certificate)
        except DECODE_ERRORS as exc:
            raise StoreError(f"master list signer certificate does not decode: {exc}") from exc
        reason = verify_signed_content(parsed.signed, signer)
        if reason:
            raise StoreError(f"master list signature invalid: {reason}")
        _require_master_list_signer(signer)
        if not valid_at(signer, at):
            raise StoreError(f"master list signer {signer.subject.rfc4514_string()} not valid at {at:%Y-%m-%d}")

        listed, skipped = [], 0
        for der in parsed.certificates:
            try:
                certificate = load_certificate(der)
            except DECODE_ERRORS:
                skipped += 1
                continue
            if _is_ca(certificate):
                listed.append(certificate)
            else:
                skipped += 1
        anchors = list(self._cscas.values()) + (listed if trust_list_issuer else [])
        if not any(anchor.subject == signer.issuer and is_issued_by(signer, anchor) for anchor in anchors):
            raise StoreError(f"master list signer {signer.subject.rfc4514_string()} is not issued by a trusted CSCA")
        added = sum(self.add_certificate(c) for c in listed)
        return MasterListLoad(added, len(listed), skipped)

    def add_crl(self, crl: x509.CertificateRevocationList | bytes) -> None:
        """Add a CRL after checking it is signed by a CSCA in the store."""
        if isinstance(crl, bytes):
            crl = _load_crl(crl)
        issuers = [c for c in self._cscas.values() if c.subject == crl.issuer]
        if not issuers:
            raise StoreError(f"CRL issuer {crl.issuer.rfc4514_string()} is not a CSCA in the store")
        if not any(crl.is_signature_valid(public_key(c)) for c in issuers):  # type: ignore[arg-type]
            raise StoreError(f"CRL signature of {crl.issuer.rfc4514_string()} does not verify")
        self._crls.append(crl)

    def crl_for(self, csca: x509.Certificate) -> x509.CertificateRevocationList | None:
        """The newest CRL issued by this CSCA (its signature was checked on loading)."""
        own = [crl for crl in self._crls
               if crl.issuer == csca.subject and crl.is_signature_valid(public_key(csca))]  # type: ignore[arg-type]
        return max(own, key=lambda crl: crl.last_update_utc, default=None)

    def load_file(self, path: Path | str) -> None:
        """Load one file, by suffix: certificate(s), master list (.ml) or CRL (.crl).
        A .pem holding a CRL is recognised by its PEM label."""
        path = Path(path)
        data = path.read_bytes()
        suffix = path.suffix.lower()
        if suffix in MASTER_LIST_SUFFIXES:
            self.add_master_list(data)
        elif suffix in CRL_SUFFIXES or b"-----BEGIN X509 CRL-----" in data:
            self.add_crl(data)
        else:
            for certificate in _load_certificates(data, str(path)):
                self.add_certificate(certificate)

    def load_dir(self, directory: Path | str) -> None:
        """Load every certificate, then every master list, then every CRL in a
        directory: CRLs and lists are checked against the CSCAs loaded first."""
        files = sorted(p for p in Path(directory).iterdir() if p.is_file())

        def is_crl(p: Path) -> bool:
            return p.suffix.lower() in CRL_SUFFIXES or (
                p.suffix.lower() == ".pem" and b"-----BEGIN X509 CRL-----" in p.read_bytes())

        crls = [p for p in files if is_crl(p)]
        lists = [p for p in files if p.suffix.lower() in MASTER_LIST_SUFFIXES]
        certificates = [p for p in files if p.suffix.lower() in CERTIFICATE_SUFFIXES and p not in crls]
        for path in certificates + lists + crls:
            self.load_file(path)


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False
    except ValueError:  # an extension cryptography cannot decode
        return False


def _require_master_list_signer(signer: x509.Certificate) -> None:
    try:
        usages = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):  # absent, or undecodable
        usages = []
    if x509.ObjectIdentifier(masterlist.MASTER_LIST_SIGNER_EKU) not in usages:
        raise StoreError("master list signer lacks the cscaMasterListSigningKey extended key usage")


def _load_certificates(data: bytes, what: str) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN" in data:
            ders = [c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(data)]
        else:
            ders = [data]
        return [load_certificate(der) for der in ders]
    except DECODE_ERRORS as exc:
        raise StoreError(f"{what}: not a PEM or DER certificate ({exc})") from exc


def _load_crl(data: bytes) -> x509.CertificateRevocationList:
    try:
        crl = x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
        _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc, list(crl))  # decode now, see load_certificate
        return crl
    except DECODE_ERRORS as exc:
        raise StoreError(f"not a PEM or DER CRL ({exc})") from exc
