"""A partner's revoked certificates: the CRLs its CAs publish, checked on every call it makes to us.

Trust in a partner is per CA (central.federation.trust): without a CRL, a partner certificate that was
stolen or mis-issued would be accepted until the whole partner is removed from the trust file. A partner
table may name its CAs' CRLs (`crl = ["de-ca.crl"]`, PEM or DER). Once it does:

- each CRL must be signed by one of that partner's CAs (checked when the trust file is read);
- a certificate is refused when its CA's CRL lists its serial number, when its CA has no CRL among
  them, or when that CRL's nextUpdate has passed: an out-of-date list cannot say that nothing was
  revoked since, so the partner is refused until a current one is put in place;
- a CRL file replaced on disk is read again at the next call (no restart), and one that no longer
  reads or verifies refuses every call of that partner rather than fall back to trusting it.

Pure but for reading the files; `refusal` is what the Federation service asks.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509


class RevocationError(ValueError):
    """A CRL that does not read, or is not signed by the partner's CA; the message names the file."""


def read_crl(path: Path, cas: list[x509.Certificate]) -> tuple[x509.CertificateRevocationList, x509.Certificate]:
    """The CRL in `path` (PEM or DER) and the one of `cas` that signed it; RevocationError when none did."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RevocationError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        crl = x509.load_pem_x509_crl(data) if data.lstrip().startswith(b"-----BEGIN") else x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise RevocationError(f"{path}: not a CRL (PEM or DER): {exc}") from None
    for ca in cas:
        if ca.subject == crl.issuer and _signed_by(crl, ca):
            return crl, ca
    raise RevocationError(f"{path}: the CRL of {crl.issuer.rfc4514_string()[:120]} is signed by none of the "
                          "partner's CAs")


def _signed_by(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(ca.public_key())
    except TypeError:  # a key kind CRLs cannot be signed with
        return False


@dataclass
class PartnerRevocations:
    """The CRLs one partner's trust table names, read again when a file changes on disk."""

    paths: tuple[Path, ...]
    cas: list[x509.Certificate]
    _read: dict[Path, tuple[int, tuple[x509.CertificateRevocationList, x509.Certificate] | RevocationError]] = \
        field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refusal(self, certificate: x509.Certificate, issuer: x509.Certificate, now: dt.datetime) -> str | None:
        """Why `certificate`, which the partner's CA `issuer` signed, must be refused at `now`, or None when
        that CA's current CRL does not list it. Without CRLs, None."""
        if not self.paths:
            return None
        lists = [self._current(path) for path in self.paths]
        broken = [str(entry) for entry in lists if isinstance(entry, RevocationError)]
        if broken:
            return f"the partner's CRL cannot be used, so none of its certificates is trusted: {broken[0]}"
        # By the signing key, not the name: two CAs of one partner may bear the same name.
        crl = next((crl for crl, signer in lists if signer == issuer), None)
        if crl is None:
            return (f"no CRL of {certificate.issuer.rfc4514_string()[:120]}, the CA that issued the certificate, "
                    "is in the trust configuration")
        if crl.next_update_utc is not None and now > crl.next_update_utc:
            return (f"the CRL of {crl.issuer.rfc4514_string()[:120]} was due for renewal at "
                    f"{crl.next_update_utc.isoformat()}: put the partner's current CRL in place")
        revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if revoked is not None:
            when = revoked.revocation_date_utc.isoformat()
            return (f"the certificate of {certificate.subject.rfc4514_string()[:120]} (serial "
                    f"{certificate.serial_number:x}) was revoked by its CA at {when}")
        return None

    def _current(self, path: Path) -> tuple[x509.CertificateRevocationList, x509.Certificate] | RevocationError:
        try:
            stamp = path.stat().st_mtime_ns
        except OSError as exc:
            return RevocationError(f"{path}: cannot read: {exc.strerror or exc}")
        with self._lock:
            known = self._read.get(path)
            if known is None or known[0] != stamp:
                try:
                    known = (stamp, read_crl(path, self.cas))
                except RevocationError as exc:
                    known = (stamp, exc)
                self._read[path] = known
            return known[1]
