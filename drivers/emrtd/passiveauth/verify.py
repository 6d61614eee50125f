"""Passive authentication (Doc 9303 Part 11 section 5.1, Part 12): is the
chip's data what the issuing state signed?

Every step becomes one Check, so the officer sees which link of the chain
broke: SOD -> DSC signature -> CSCA -> revocation -> data group hashes ->
the chip MRZ against the printed one and the DSC's country.
"""
from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Iterator

from drivers.checks import Check, CheckStatus
from drivers.emrtd.lds import dg1 as dg1_file
from drivers.emrtd.lds import sod as sod_file
from drivers.emrtd.lds.cms import SignedContent
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.lds.files import DG_BY_FID, EF_SOD, fid
from drivers.emrtd.passiveauth.certificate import Certificate
from drivers.emrtd.passiveauth.countries import iso2
from drivers.emrtd.passiveauth.signatures import HASHES, digest, verify_signed_content
from drivers.emrtd.passiveauth.store import (
    DECODE_ERRORS,
    CscaStore,
    as_utc,
    check_crl_policy,
    deviations_of,
    is_issued_by,
    load_certificate,
    stale_since,
    valid_at,
)

# without these passing, nothing on the chip is authenticated
ESSENTIAL = ("sod.parse", "sod.signature", "dsc.chain", "dsc.validity")


@dataclass(frozen=True)
class PassiveAuthResult:
    checks: tuple[Check, ...]
    dsc_subject: str | None = None
    csca_subject: str | None = None
    hash_algorithm: str | None = None

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def passed(self) -> bool:
        """No check failed, the chain of trust held and at least one data group was verified.
        'not_done' checks (no CRL, no printed MRZ) do not block on their own."""
        essentials = all((c := self.check(name)) is not None and c.ok for name in ESSENTIAL)
        hashed = [c for c in self.checks if c.name.endswith(".hash")]
        return (essentials and bool(hashed)
                and not any(c.status is CheckStatus.FAIL for c in self.checks))

    def to_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "dsc": self.dsc_subject,
            "csca": self.csca_subject,
            "hash_algorithm": self.hash_algorithm,
            "checks": [c.to_dict() for c in self.checks],
        }


def verify(files: dict[int, bytes], store: CscaStore, *, printed_mrz: str | None = None,
           at: dt.datetime | None = None, crl_policy: str | None = None) -> PassiveAuthResult:
    """Passively authenticate the files read from a chip (keyed by file identifier).

    `at` is the moment certificates must be valid at (default: now). `crl_policy` ("refer" or
    "warn") says what a stale CRL does to dsc.revocation; default: the store's.
    """
    at = as_utc(at)
    policy = check_crl_policy(crl_policy or store.crl_policy)
    checks: list[Check] = []
    data_groups = sorted((DG_BY_FID[file_id], data) for file_id, data in files.items() if file_id in DG_BY_FID)

    sod = None
    if EF_SOD not in files:
        checks.append(Check.failed("sod.parse", "EF.SOD was not read"))
    else:
        try:
            sod = sod_file.parse(files[EF_SOD])
            noted = f"; deviation: {'; '.join(sod.deviations)}" if sod.deviations else ""
            checks.append(Check.passed("sod.parse",
                                       f"{len(sod.dg_hashes)} data group hashes, {sod.hash_algorithm}{noted}"))
        except LdsError as exc:
            checks.append(Check.failed("sod.parse", exc.reason))

    dsc, csca = _signer_checks(sod, store, at, checks, policy)
    checks.extend(_hash_checks(sod, data_groups))
    checks.extend(_dg1_checks(files.get(fid(1)), printed_mrz, dsc))
    return PassiveAuthResult(
        tuple(checks),
        dsc.subject.rfc4514_string() if dsc else None,
        csca.subject.rfc4514_string() if csca else None,
        sod.hash_algorithm if sod else None,
    )


def verify_signed_file(signed: SignedContent, store: CscaStore | None, name: str, *,
                       at: dt.datetime | None = None, crl_policy: str | None = None) -> Check:
    """One Check for a file the Document Signer signs besides the SOD (EF.CardSecurity):
    signature, DSC chain to a trusted CSCA, DSC validity and revocation. Without a
    store only the signature is checked, and the check is not_done for the rest."""
    at = as_utc(at)
    if signed.signer_certificate is None:
        return Check.failed(name, "carries no Document Signer certificate matching its signer")
    try:
        dsc = load_certificate(signed.signer_certificate)
    except DECODE_ERRORS as exc:
        return Check.failed(name, f"Document Signer certificate does not decode: {exc}")
    problem = verify_signed_content(signed, dsc)
    if problem:
        return Check.failed(name, f"signature: {problem}")
    signer = dsc.subject.rfc4514_string()
    if store is None:
        return Check.not_done(name, f"signature by {signer} verifies; no trusted CSCAs to check the signer against")
    csca, chain = _chain(dsc, store, at)
    if not chain.ok:
        return Check.failed(name, f"signer {signer}: {chain.reason}")
    if not valid_at(dsc, at):
        return Check.failed(name, f"signer {signer} valid {dsc.not_valid_before_utc:%Y-%m-%d} to "
                            f"{dsc.not_valid_after_utc:%Y-%m-%d}")
    revocation = _revocation(dsc, csca, store, at, check_crl_policy(crl_policy or store.crl_policy))
    if revocation.status is CheckStatus.FAIL:
        return Check.failed(name, f"signer {signer}: {revocation.reason}")
    return Check.passed(name, f"signed by {signer}, {chain.reason}")


def _signer_checks(sod: sod_file.Sod | None, store: CscaStore, at: dt.datetime, checks: list[Check],
                   crl_policy: str) -> tuple[Certificate | None, Certificate | None]:
    """sod.signature, dsc.chain, dsc.validity, dsc.revocation; returns (DSC, CSCA) found."""
    names = ("sod.signature", "dsc.chain", "dsc.validity", "dsc.revocation")
    if sod is None:
        checks.extend(Check.not_done(name, "no readable EF.SOD") for name in names)
        return None, None
    dsc = None
    if sod.dsc is None:
        dsc = store.find_dsc(sod.signed.signer_id)  # one the PKD published, kept in the store
        reason = ("EF.SOD carries no Document Signer certificate matching its signer, "
                  "nor does the store keep one")
    else:
        try:
            dsc = load_certificate(sod.dsc)
        except DECODE_ERRORS as exc:
            reason = f"Document Signer certificate does not decode: {exc}"
    if dsc is None:
        checks.append(Check.failed("sod.signature", reason))
        checks.extend(Check.not_done(name, "no Document Signer certificate") for name in names[1:])
        return None, None

    problem = verify_signed_content(sod.signed, dsc)
    checks.append(Check.failed("sod.signature", problem) if problem else
                  Check.passed("sod.signature", f"signed by {dsc.subject.rfc4514_string()}"))

    csca, chain = _chain(dsc, store, at)
    checks.append(chain)
    if valid_at(dsc, at):
        checks.append(Check.passed("dsc.validity", f"valid until {dsc.not_valid_after_utc:%Y-%m-%d}"))
    else:
        checks.append(Check.failed("dsc.validity", f"valid {dsc.not_valid_before_utc:%Y-%m-%d} to "
                                   f"{dsc.not_valid_after_utc:%Y-%m-%d}, not at {at:%Y-%m-%d %H:%M}"))
    checks.append(_revocation(dsc, csca, store, at, crl_policy))
    return dsc, csca


def _chain(dsc: Certificate, store: CscaStore,
           at: dt.datetime) -> tuple[Certificate | None, Check]:
    issuer = dsc.issuer.rfc4514_string()
    candidates = store.issuers_of(dsc)
    if not candidates:
        return None, Check.failed("dsc.chain", f"no CSCA in the store named {issuer}")
    verifying = [c for c in candidates if is_issued_by(dsc, c)]
    if not verifying:
        return None, Check.failed("dsc.chain", f"DSC signature does not verify with any CSCA named {issuer}")
    # key roll-over: the old key may sit in a self-signed CSCA and in a link certificate of other
    # validity; any of them valid now will do, a self-signed one first
    verifying.sort(key=lambda c: (not valid_at(c, at), not c.self_signed))
    csca = verifying[0]
    if not _may_sign_documents(dsc):
        return csca, Check.failed("dsc.chain", "DSC key usage does not allow digitalSignature")
    if not valid_at(csca, at):
        return csca, Check.failed("dsc.chain", f"CSCA {issuer} valid {csca.not_valid_before_utc:%Y-%m-%d} to "
                                  f"{csca.not_valid_after_utc:%Y-%m-%d}, not at {at:%Y-%m-%d %H:%M}")
    how = "" if csca.self_signed else f" (link certificate issued by {csca.issuer.rfc4514_string()})"
    deviations = deviations_of(csca)
    noted = f"; CSCA accepted with deviations: {'; '.join(deviations)}" if deviations else ""
    listed = store.listed_deviations(csca) + store.listed_deviations(dsc)
    noted += f"; known to the issuing state's deviation list: {'; '.join(listed)}" if listed else ""
    return csca, Check.passed("dsc.chain", f"issued by CSCA {issuer}{how}{noted}")


def _may_sign_documents(dsc: Certificate) -> bool:
    """Doc 9303 Part 12 gives the DSC keyUsage digitalSignature; no extension means no restriction."""
    try:
        usage = dsc.key_usage
    except ValueError:  # keyUsage twice
        return False
    return usage is None or "digital_signature" in usage


def _revocation(dsc: Certificate, csca: Certificate | None, store: CscaStore,
                at: dt.datetime, crl_policy: str) -> Check:
    if csca is None:
        return Check.not_done("dsc.revocation", "no trusted CSCA, so no CRL to consult")
    crl = store.crl_for(csca)
    if crl is None:
        return Check.not_done("dsc.revocation", f"no CRL loaded for CSCA {csca.subject.rfc4514_string()}")
    entry = crl.get_revoked_certificate_by_serial_number(dsc.serial_number)
    if entry is not None:
        return Check.failed("dsc.revocation", f"DSC serial {dsc.serial_number:X} revoked on "
                            f"{entry.revocation_date_utc:%Y-%m-%d}")
    stale = stale_since(crl, at)
    if stale is None:
        return Check.passed("dsc.revocation", f"not on the CRL of {crl.last_update_utc:%Y-%m-%d}")
    issuer = csca.subject.rfc4514_string()
    if crl_policy == "warn":
        return Check.passed("dsc.revocation", f"not on the CRL of {crl.last_update_utc:%Y-%m-%d}, but that CRL "
                            f"of {issuer} is {stale}; passed under the warn policy")
    return Check.failed("dsc.revocation", f"CRL of {issuer} {stale}; revocation status unknown (refer policy)")


def _hash_checks(sod: sod_file.Sod | None, data_groups: list[tuple[int, bytes]]) -> list[Check]:
    checks = []
    for number, data in data_groups:
        name = f"dg{number}.hash"
        if sod is None:
            checks.append(Check.not_done(name, "no readable EF.SOD"))
        elif sod.hash_algorithm not in HASHES:
            checks.append(Check.failed(name, f"SOD hash algorithm {sod.hash_algorithm} is not supported"))
        elif number not in sod.dg_hashes:
            checks.append(Check.failed(name, f"DG{number} was read but the SOD holds no hash for it"))
        elif hmac.compare_digest(digest(sod.hash_algorithm, data), sod.dg_hashes[number]):
            checks.append(Check.passed(name, f"matches the SOD ({sod.hash_algorithm})"))
        else:
            checks.append(Check.failed(name, f"DG{number} does not match its hash in the SOD"))
    return checks


def _dg1_checks(data: bytes | None, printed_mrz: str | None, dsc: Certificate | None) -> list[Check]:
    names = ("dg1.printed_mrz", "dg1.issuing_state")
    if data is None:
        return [Check.not_done(name, "DG1 was not read") for name in names]
    try:
        dg1 = dg1_file.parse(data)
    except LdsError as exc:
        return [Check.failed(name, f"DG1 unreadable: {exc.reason}") for name in names]
    return [_printed_mrz(dg1, printed_mrz), _issuing_state(dg1, dsc)]


def _printed_mrz(dg1: dg1_file.Dg1, printed_mrz: str | None) -> Check:
    if printed_mrz is None:
        return Check.not_done("dg1.printed_mrz", "no printed MRZ to compare with")
    printed = dg1_file.normalise(printed_mrz)
    if printed == dg1.mrz_text:
        return Check.passed("dg1.printed_mrz", "chip MRZ equals the printed MRZ")
    if len(printed) != len(dg1.mrz_text):
        return Check.failed("dg1.printed_mrz", f"printed MRZ has {len(printed)} characters, "
                            f"the chip's {len(dg1.mrz_text)}")
    at = next(i for i, (a, b) in enumerate(zip(printed, dg1.mrz_text)) if a != b)
    width = dg1_file.LINE_LENGTHS[len(printed)]
    return Check.failed("dg1.printed_mrz", f"differs at line {at // width + 1}, position {at % width + 1}: "
                        f"printed {printed[at]!r}, chip {dg1.mrz_text[at]!r}")


def _issuing_state(dg1: dg1_file.Dg1, dsc: Certificate | None) -> Check:
    if dsc is None:
        return Check.not_done("dg1.issuing_state", "no Document Signer certificate")
    country = dsc.country
    if not country:
        return Check.failed("dg1.issuing_state", "Document Signer certificate names no country (C=)")
    state = dg1.issuing_state
    expected = iso2(state)
    if expected is None:
        return Check.failed("dg1.issuing_state", f"issuing state {state!r} is not an ICAO state code")
    if expected != country:
        return Check.failed("dg1.issuing_state", f"MRZ issuing state {state} ({expected}) but DSC country {country}")
    return Check.passed("dg1.issuing_state", f"{state} = C={country}")
