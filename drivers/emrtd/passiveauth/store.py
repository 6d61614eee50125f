"""The trust anchors of passive authentication: CSCA certificates, loaded
from PEM/DER files or from signed CSCA master lists, and the CRLs their
CSCAs issued."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from drivers.emrtd.lds.cms import SignedContent
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.passiveauth import deviationlist, masterlist
from drivers.emrtd.passiveauth.certificate import Certificate, DistinguishedName, as_certificate
from drivers.emrtd.passiveauth.signatures import HASHES, digest, verify_signed_content

# What a malformed certificate or CRL raises: CertificateError (a ValueError) from asn1crypto's
# decoding here; for CRLs, read by cryptography, a name attribute of the wrong ASN.1 type
# (a BIT STRING where a string belongs) is a TypeError, not a ValueError.
DECODE_ERRORS = (ValueError, TypeError, x509.InvalidVersion)
# the line `limes pki import-master-list` writes above a CSCA accepted with deviations
DEVIATIONS_ACCEPTED_MARK = b"Limes-Deviations-Accepted:"

CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")
MASTER_LIST_SUFFIXES = (".ml",)
CRL_SUFFIXES = (".crl",)
DSC_SUFFIXES = (".dsc",)  # PEM Document Signer certificates obtained apart from documents (the PKD)
DEVIATION_LIST_SUFFIXES = (".dvl",)  # signed deviation lists (DER), as states and the PKD publish them

# What dsc.revocation does when the CRL consulted is stale (past its nextUpdate, or not yet valid):
# "refer" fails the check (a border gate must not trust an outdated revocation list silently),
# "warn" passes it with the staleness in its reason.
CRL_POLICIES = ("refer", "warn")
DEFAULT_CRL_POLICY = "refer"


class StoreError(ValueError):
    """A certificate, master list or CRL that cannot be trusted or read; says which and why."""


@dataclass(frozen=True)
class MasterListLoad:
    added: int  # CSCAs new to the store
    listed: int  # CSCAs in the list
    skipped: int  # entries refused (see entries for why)
    entries: tuple["MasterListEntry", ...] = ()  # one per listed certificate, in list order


def as_utc(at: dt.datetime | None) -> dt.datetime:
    """`at` as an aware datetime: None means now, a naive one is taken as UTC."""
    at = at or dt.datetime.now(dt.timezone.utc)
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def load_certificate(der: bytes) -> Certificate:
    """A DER certificate decoded with asn1crypto (see certificate.py); CertificateError, one of
    DECODE_ERRORS, when it does not decode."""
    return Certificate.load(der)


def valid_at(certificate: Certificate, at: dt.datetime) -> bool:
    return certificate.valid_at(at)


def is_issued_by(certificate: Certificate, issuer: Certificate) -> bool:
    return certificate.is_issued_by(issuer)


@dataclass(frozen=True)
class MasterListEntry:
    """What became of one certificate of a master list."""
    status: str  # accepted, accepted-with-deviation, duplicate, refused
    country: str | None = None
    subject: str | None = None
    serial: int | None = None
    sha256: str | None = None
    deviations: tuple[str, ...] = ()
    reason: str | None = None  # why refused

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status, "country": self.country, "subject": self.subject,
                "serial": None if self.serial is None else str(self.serial), "sha256": self.sha256,
                "deviations": list(self.deviations), "reason": self.reason}


ACCEPTED, DEVIATING, DUPLICATE, REFUSED = "accepted", "accepted-with-deviation", "duplicate", "refused"


def deviations_of(certificate: Certificate) -> tuple[str, ...]:
    """Everything odd about a CSCA: its encoding and its profile."""
    return certificate.encoding_deviations + certificate.csca_deviations()


@dataclass(frozen=True)
class CrlLoad:
    """What became of one CRL file on a refresh: accepted (now the newest of its issuer), older or
    duplicate (a newer or the same one is kept), refused (with the reason), unchanged (file not modified)."""
    path: str
    status: str
    issuer: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"path": self.path, "status": self.status, "issuer": self.issuer, "reason": self.reason}


def check_crl_policy(policy: str) -> str:
    if policy not in CRL_POLICIES:
        raise ValueError(f"CRL policy {policy!r} is none of {', '.join(CRL_POLICIES)}")
    return policy


class CscaStore:
    def __init__(self, *, crl_policy: str = DEFAULT_CRL_POLICY) -> None:
        self.crl_policy = check_crl_policy(crl_policy)
        self._cscas: dict[bytes, Certificate] = {}  # keyed by DER: loading twice adds once
        self._by_subject: dict[DistinguishedName, list[Certificate]] = {}
        # the newest CRL per issuer name and signing key (key roll-over: each key signs its own CRLs);
        # replaced as a whole on every change, so that a refresh never shows a reader a half-made dict
        self._crls: dict[tuple[DistinguishedName, bytes], x509.CertificateRevocationList] = {}
        self._crl_files: dict[Path, tuple[int, int]] = {}  # CRL file -> (mtime_ns, size) when last read
        # Document Signer certificates from the PKD, for SODs that carry none: by (issuer, serial) and by SKI
        self._dscs: dict[bytes, Certificate] = {}
        self._dsc_by_serial: dict[tuple[DistinguishedName, int], Certificate] = {}
        self._dsc_by_key_id: dict[bytes, Certificate] | None = None
        # deviations that verified deviation lists name, and the lists' digest algorithms (for digests)
        self._deviations: list[tuple[deviationlist.Deviation, str | None]] = []
        self._deviation_lists: dict[bytes, bytes] = {}  # the signed content -> the file, as loaded

    @classmethod
    def from_certificates(cls, certificates: list[Certificate | x509.Certificate | bytes], *,
                          crl_policy: str = DEFAULT_CRL_POLICY) -> "CscaStore":
        store = cls(crl_policy=crl_policy)
        for certificate in certificates:
            store.add_certificate(certificate)
        return store

    @property
    def cscas(self) -> tuple[Certificate, ...]:
        """The usable CSCAs: any loaded from the folder whose fields turn out not to decode are left out."""
        return tuple(c for c in self._cscas.values() if c.decode_problem is None)

    @property
    def crls(self) -> tuple[x509.CertificateRevocationList, ...]:
        return tuple(self._crls.values())

    def add_certificate(self, certificate: Certificate | x509.Certificate | bytes, *,
                        deviations_accepted: bool = False) -> bool:
        """Add a CSCA (Certificate, cryptography certificate, PEM or DER); False when it was already
        there. Without deviations_accepted a certificate that is not a CA (basicConstraints) is refused."""
        if isinstance(certificate, bytes):
            certificate = _load_certificates(certificate, "certificate")[0]
        try:
            certificate = as_certificate(certificate)
        except DECODE_ERRORS as exc:
            raise StoreError(f"not a usable certificate ({exc})") from exc
        if not deviations_accepted and not certificate.is_ca:
            raise StoreError(f"{certificate.subject.rfc4514_string()} is not a CA certificate, so not a CSCA")
        if certificate.der in self._cscas:
            return False
        self._cscas[certificate.der] = certificate
        self._by_subject.setdefault(certificate.subject, []).append(certificate)
        return True

    def issuers_of(self, certificate: Certificate) -> list[Certificate]:
        """CSCAs whose subject is the certificate's issuer (several during key roll-over), leaving out any
        loaded from the folder whose names or extensions turn out not to decode."""
        return [c for c in self._by_subject.get(certificate.issuer, ()) if c.decode_problem is None]

    def add_master_list(self, data: bytes, *, at: dt.datetime | None = None, trust_list_issuer: bool = False,
                        strict: bool = False) -> MasterListLoad:
        """Verify a CSCA master list and add the CSCAs it lists.

        The Master List Signer must be issued by a CSCA already in the store;
        with trust_list_issuer a CSCA from the list itself may vouch for it
        (bootstrapping from a list obtained out of band, which proves only
        that the list is intact, not who made it).

        Each listed certificate must be self-signed or a link certificate issued by
        another CSCA of the list or the store (its signature verified over the TBS as
        encoded). One whose basicConstraints or keyUsage are missing or wrong, or whose
        encoding deviates (see certificate.py), is accepted with the deviation recorded,
        since the list signer vouches for it; with strict it is refused. Nothing is
        added unless the whole list is accepted.
        """
        at = as_utc(at)
        try:
            parsed = masterlist.parse(data)
        except LdsError as exc:
            raise StoreError(f"master list unreadable: {exc.reason}") from exc
        signer = _list_signer(parsed.signed, "master list", masterlist.MASTER_LIST_SIGNER_EKU,
                              "cscaMasterListSigningKey", at)
        entries, accepted = _judge_entries(parsed.certificates, self._cscas, strict)
        anchors = list(self._cscas.values()) + (accepted if trust_list_issuer else [])
        if not any(signer.is_issued_by(anchor) for anchor in anchors):
            raise StoreError(f"master list signer {signer.subject.rfc4514_string()} is not issued by a trusted CSCA")
        added = sum(self.add_certificate(c, deviations_accepted=True) for c in accepted)
        listed = sum(e.status != REFUSED for e in entries)
        return MasterListLoad(added, listed, len(entries) - listed, tuple(entries))

    @property
    def dscs(self) -> tuple[Certificate, ...]:
        return tuple(self._dscs.values())

    def add_dsc(self, certificate: Certificate | bytes, *, check_issuer: bool = True) -> bool:
        """Keep a Document Signer certificate obtained apart from a document; False when already kept.
        It must decode and, unless check_issuer is False, be issued by a CSCA in the store (its signature
        verified). dsc.chain and dsc.validity judge it again whenever a document names it, so a store
        folder's DSCs, checked when they were imported, are loaded without checking their signatures
        again (most of a large store's load time otherwise)."""
        if isinstance(certificate, bytes):
            certificate = _load_certificates(certificate, "DSC")[0]
        if check_issuer and not any(certificate.is_issued_by(csca) for csca in self.issuers_of(certificate)):
            raise StoreError(f"DSC {certificate.subject.rfc4514_string()} is not issued by a CSCA in the store")
        if certificate.der in self._dscs:
            return False
        self._dscs[certificate.der] = certificate
        self._dsc_by_serial[(certificate.issuer, certificate.serial_number)] = certificate
        self._dsc_by_key_id = None  # made again when next asked
        return True

    def find_dsc(self, signer_id: tuple[bytes, int] | bytes | None) -> Certificate | None:
        """The kept DSC a CMS signer identifier names: (issuer Name DER, serial) or a key identifier."""
        if isinstance(signer_id, tuple):
            issuer = DistinguishedName(signer_id[0])  # compared by its prepared form, or its DER when it has none
            found = self._dsc_by_serial.get((issuer, signer_id[1]))
        elif isinstance(signer_id, bytes):
            if self._dsc_by_key_id is None:  # made when first asked: few SODs name their signer by key
                self._dsc_by_key_id = {c.key_identifier: c for c in self._dscs.values() if c.key_identifier}
            found = self._dsc_by_key_id.get(signer_id)
        else:
            return None
        return found if found is not None and found.decode_problem is None else None

    def add_deviation_list(self, data: bytes, *, at: dt.datetime | None = None) -> str:
        """Verify a deviation list (its signer issued by a CSCA of the store, with the deviation list
        signing usage, valid at `at`) and record its deviations; "accepted" or "duplicate", StoreError
        with the reason when it is refused."""
        at = as_utc(at)
        try:
            parsed = deviationlist.parse(data)
        except LdsError as exc:
            raise StoreError(f"deviation list unreadable: {exc.reason}") from exc
        signer = _list_signer(parsed.signed, "deviation list", deviationlist.DEVIATION_LIST_SIGNER_EKU,
                              "deviationListSigningKey", at)
        if not any(signer.is_issued_by(csca) for csca in self.issuers_of(signer)):
            raise StoreError(f"deviation list signer {signer.subject.rfc4514_string()} is not issued by a trusted CSCA")
        if parsed.signed.content in self._deviation_lists:
            return "duplicate"
        self._deviation_lists[parsed.signed.content] = data
        self._deviations += [(deviation, parsed.digest_algorithm) for deviation in parsed.deviations]
        return "accepted"

    @property
    def deviation_lists(self) -> tuple[bytes, ...]:
        """The verified deviation list files loaded (DER ContentInfo)."""
        return tuple(self._deviation_lists.values())

    @property
    def deviations(self) -> tuple[deviationlist.Deviation, ...]:
        """Every deviation of the verified deviation lists loaded."""
        return tuple(deviation for deviation, _algorithm in self._deviations)

    def listed_deviations(self, certificate: Certificate) -> tuple[str, ...]:
        """What verified deviation lists say of this certificate (named by issuer and serial, subject key
        identifier or digest)."""
        found = []
        for deviation, digest_algorithm in self._deviations:
            if deviation.issuer_and_serial is not None:
                issuer, serial = deviation.issuer_and_serial
                named = serial == certificate.serial_number and DistinguishedName(issuer) == certificate.issuer
            elif deviation.key_identifier is not None:
                named = deviation.key_identifier == certificate.key_identifier
            elif deviation.certificate_digest is not None and digest_algorithm in HASHES:
                named = deviation.certificate_digest == digest(digest_algorithm, certificate.der)
            else:
                named = False
            if named:
                found += deviation.descriptions
        return tuple(found)

    def add_crl(self, crl: x509.CertificateRevocationList | bytes) -> str:
        """Add a CRL after checking it is signed by a CSCA in the store (StoreError with the reason
        otherwise). Only the newest CRL of an issuer and key is kept, by thisUpdate then CRL number:
        returns "accepted" when this one is now kept, "duplicate" or "older" when it is not."""
        if isinstance(crl, bytes):
            crl = _load_crl(crl)
        issuer = _crl_issuer(crl)
        issuers = self._by_subject.get(issuer, [])
        if not issuers:
            raise StoreError(f"CRL issuer {issuer.rfc4514_string()} is not a CSCA in the store")
        signer = next((c for c in issuers if _crl_signed_by(crl, c)), None)
        if signer is None:
            raise StoreError(f"CRL signature of {issuer.rfc4514_string()} does not verify with any CSCA of that name")
        key = (issuer, _key_of(signer))
        kept = self._crls.get(key)
        if kept is not None:
            if kept == crl:
                return "duplicate"
            if _crl_order(kept) >= _crl_order(crl):
                return "older"
        self._crls = {**self._crls, key: crl}
        return "accepted"

    def crl_for(self, csca: Certificate | x509.Certificate) -> x509.CertificateRevocationList | None:
        """The newest CRL issued by this CSCA (its name, and its key signed it)."""
        csca = as_certificate(csca)
        return self._crls.get((csca.subject, _key_of(csca)))

    def refresh_crls(self, folder: Path | str) -> list[CrlLoad]:
        """Re-read the CRLs of a folder whose file changed (modification time or size) since last read.
        Each is added as add_crl does: the newest per issuer is kept, and one that does not verify
        (or decode, or comes from no CSCA of the store) is refused and leaves the CRL kept in place.
        A file that disappeared leaves its CRL in the store: an absent list revokes nothing anew.
        Returns one CrlLoad per CRL file that was read."""
        loads = []
        for path in sorted(p for p in Path(folder).iterdir() if p.is_file() and _is_crl_file(p)):
            try:
                stat = path.stat()
            except OSError:
                continue
            seen = (stat.st_mtime_ns, stat.st_size)
            if self._crl_files.get(path) == seen:
                continue
            self._crl_files[path] = seen
            try:
                crl = _load_crl(path.read_bytes())
                status = self.add_crl(crl)
                loads.append(CrlLoad(str(path), status, _crl_issuer(crl).rfc4514_string()))
            except (OSError, StoreError) as exc:
                loads.append(CrlLoad(str(path), "refused", reason=str(exc)))
        return loads

    def load_file(self, path: Path | str) -> None:
        """Load one file, by suffix: certificate(s), master list (.ml) or CRL (.crl).
        A .pem holding a CRL is recognised by its PEM label."""
        path = Path(path)
        data = path.read_bytes()
        suffix = path.suffix.lower()
        if suffix in MASTER_LIST_SUFFIXES:
            self.add_master_list(data)
        elif suffix in DSC_SUFFIXES:
            for certificate in _load_certificates(data, str(path), defer=True):
                self.add_dsc(certificate, check_issuer=False)
        elif suffix in DEVIATION_LIST_SUFFIXES:
            self.add_deviation_list(data)
        elif suffix in CRL_SUFFIXES or b"-----BEGIN X509 CRL-----" in data:
            self.add_crl(data)
        else:
            accepted = DEVIATIONS_ACCEPTED_MARK in data  # written by `limes pki import-master-list`
            for certificate in _load_certificates(data, str(path), defer=True):
                self.add_certificate(certificate, deviations_accepted=accepted)

    def load_dir(self, directory: Path | str) -> None:
        """Load every certificate, then every master list, every DSC (.dsc), every deviation list (.dvl),
        then every CRL in a directory: CRLs and lists are checked against the CSCAs loaded first."""
        files = sorted(p for p in Path(directory).iterdir() if p.is_file())
        crls = [p for p in files if _is_crl_file(p)]
        lists = [p for p in files if p.suffix.lower() in MASTER_LIST_SUFFIXES]
        crl_set = set(crls)
        certificates = [p for p in files if p.suffix.lower() in CERTIFICATE_SUFFIXES and p not in crl_set]
        dscs = [p for p in files if p.suffix.lower() in DSC_SUFFIXES]
        deviation_lists = [p for p in files if p.suffix.lower() in DEVIATION_LIST_SUFFIXES]
        for path in certificates + lists + dscs + deviation_lists:
            self.load_file(path)
        for path in crls:
            stat = path.stat()
            self.load_file(path)
            self._crl_files[path] = (stat.st_mtime_ns, stat.st_size)  # refresh_crls reads it again once changed


def _list_signer(signed: SignedContent, what: str, usage: str, usage_name: str, at: dt.datetime) -> Certificate:
    """The certificate that signed a master or deviation list, once the list's signature verifies with it
    and it has the list's signing usage and is valid at `at`; StoreError saying which fails. Whether a
    CSCA issued it is for the caller (a master list may vouch for its own)."""
    if signed.signer_certificate is None:
        raise StoreError(f"{what} carries no signer certificate")
    try:
        signer = load_certificate(signed.signer_certificate)
    except DECODE_ERRORS as exc:
        raise StoreError(f"{what} signer certificate does not decode: {exc}") from exc
    reason = verify_signed_content(signed, signer)
    if reason:
        raise StoreError(f"{what} signature invalid: {reason}")
    if usage not in signer.extended_key_usage:
        raise StoreError(f"{what} signer lacks the {usage_name} extended key usage")
    if not signer.valid_at(at):
        raise StoreError(f"{what} signer {signer.subject.rfc4514_string()} not valid at {at:%Y-%m-%d}")
    return signer


def _judge_entries(ders: tuple[bytes, ...], store: dict[bytes, Certificate],
                   strict: bool) -> tuple[list[MasterListEntry], list[Certificate]]:
    """An entry per listed certificate, and the certificates to add, in list order."""
    decoded: list[Certificate | MasterListEntry] = []
    for der in ders:
        try:
            decoded.append(load_certificate(der))
        except DECODE_ERRORS as exc:
            decoded.append(MasterListEntry(REFUSED, sha256=hashlib.sha256(der).hexdigest(), reason=str(exc)))
    # self-signed first, then link certificates issued by a CSCA already found good, until none is left
    good: dict[bytes, Certificate] = dict(store)
    reasons: dict[bytes, str] = {}
    pending = [c for c in decoded if isinstance(c, Certificate)]
    while pending:
        progress, left = False, []
        for certificate in pending:
            if certificate.der in good or certificate.self_signed:
                good[certificate.der] = certificate
                progress = True
                continue
            issuers = [c for c in good.values() if c.subject == certificate.issuer]
            if any(certificate.is_issued_by(issuer) for issuer in issuers):
                good[certificate.der] = certificate
                progress = True
                continue
            own = certificate.signature_problem(certificate)
            issuer = certificate.issuer.rfc4514_string()
            reasons[certificate.der] = (f"self-signature: {own}" if certificate.self_issued and not issuers else
                                        f"signature does not verify with any CSCA named {issuer}" if issuers else
                                        f"issued by {issuer}, which is neither in the list nor in the store")
            left.append(certificate)
        if not progress:
            break
        pending = left

    entries, accepted, seen = [], [], set(store)
    for item in decoded:
        if isinstance(item, MasterListEntry):
            entries.append(item)
            continue
        fields = {"country": item.country, "subject": item.subject.rfc4514_string(), "serial": item.serial_number,
                  "sha256": item.fingerprint_sha256}
        deviations = deviations_of(item)
        if item.der not in good:
            entries.append(MasterListEntry(REFUSED, **fields, deviations=deviations, reason=reasons[item.der]))
        elif item.der in seen:
            entries.append(MasterListEntry(DUPLICATE, **fields, deviations=deviations))
        elif not item.self_signed and not item.is_ca and "key_cert_sign" not in (item.key_usage or ()):
            entries.append(MasterListEntry(REFUSED, **fields, deviations=deviations,
                                           reason="neither self-signed nor marked as a CA (basicConstraints or "
                                                  "keyCertSign): an end-entity certificate, not a CSCA"))
        elif deviations and strict:
            entries.append(MasterListEntry(REFUSED, **fields, deviations=deviations,
                                           reason="deviates from the CSCA profile (refused by strict): "
                                                  + "; ".join(deviations)))
        else:
            seen.add(item.der)
            accepted.append(item)
            entries.append(MasterListEntry(DEVIATING if deviations else ACCEPTED, **fields, deviations=deviations))
    return entries, accepted


def _is_crl_file(path: Path) -> bool:
    return path.suffix.lower() in CRL_SUFFIXES or (
        path.suffix.lower() == ".pem" and b"-----BEGIN X509 CRL-----" in path.read_bytes())


def _key_of(certificate: Certificate) -> bytes:
    """The SubjectPublicKeyInfo DER: which key a CSCA or link certificate certifies."""
    return certificate.asn1["tbs_certificate"]["subject_public_key_info"].dump()


def _crl_order(crl: x509.CertificateRevocationList) -> tuple[dt.datetime, int]:
    """Newer CRLs sort later: by thisUpdate, then CRL number."""
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (x509.ExtensionNotFound, ValueError):
        number = -1
    return crl.last_update_utc, number


def stale_since(crl: x509.CertificateRevocationList, at: dt.datetime) -> str | None:
    """Why a CRL is stale at `at`, or None: past its nextUpdate, or its thisUpdate still to come."""
    if crl.next_update_utc is not None and crl.next_update_utc < at:
        return f"stale since {crl.next_update_utc:%Y-%m-%d %H:%M} UTC (its nextUpdate)"
    if crl.last_update_utc > at:
        return f"not yet valid: issued for {crl.last_update_utc:%Y-%m-%d %H:%M} UTC"
    return None


def _crl_issuer(crl: x509.CertificateRevocationList) -> DistinguishedName:
    return DistinguishedName(crl.issuer.public_bytes())


def _crl_signed_by(crl: x509.CertificateRevocationList, csca: Certificate) -> bool:
    try:
        return crl.is_signature_valid(csca.public_key())  # type: ignore[arg-type]
    except (UnsupportedAlgorithm, ValueError, TypeError):
        return False


def _load_certificates(data: bytes, what: str, *, defer: bool = False) -> list[Certificate]:
    """The certificates of a PEM file (one or more) or one DER certificate, decoded with asn1crypto
    (with defer, see Certificate.load)."""
    try:
        if b"-----BEGIN" in data:
            ders = [der for kind, _headers, der in pem.unarmor(data, multiple=True) if kind == "CERTIFICATE"]
            if not ders:
                raise ValueError("no CERTIFICATE block")
        else:
            ders = [data]
        return [Certificate.load(der, defer=defer) for der in ders]
    except DECODE_ERRORS as exc:
        raise StoreError(f"{what}: not a PEM or DER certificate ({exc})") from exc
def _load_crl(data: bytes) -> x509.CertificateRevocationList:
    try:
        crl = x509.load_pem_x509_crl(data) if b"-----BEGIN" in data else x509.load_der_x509_crl(data)
        _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc, list(crl))  # decode now, see load_certificate
        return crl
    except DECODE_ERRORS as exc:
        raise StoreError(f"not a PEM or DER CRL ({exc})") from exc
