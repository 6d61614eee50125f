"""The chip's own checks, beside passive authentication: how it was opened and
whether it is the genuine chip rather than a copy of its data.

| check               | passes when                                                             |
| ------------------- | ----------------------------------------------------------------------- |
| chip.access         | PACE opened the chip, or BAC did on a chip that offers no usable PACE    |
| chip.card_security  | EF.CardSecurity is signed by a trusted Document Signer and includes       |
|                     | EF.CardAccess's PACE offers (explicit domain parameters byte for byte)    |
| chip.ca             | Chip Authentication (or PACE-CAM) proved the chip holds the private key   |
|                     | of the public key it publishes                                           |
| chip.aa             | Active Authentication: the chip signed a fresh challenge with DG15's key |

The rule of Doc 9303 inspection systems: a chip that offers a mechanism
must pass it. Whether it offers one is taken from signed data where there is
any: a chip whose SOD lists DG14 (or DG15) but which does not give the file
fails chip.ca (chip.aa); a chip whose signed DG14 announces PACE but which was
opened with BAC fails chip.access. A chip that offers neither mechanism gets
chip.ca / chip.aa `not_done` (older passports have neither); the policy
decides whether that may open the gate.
"""
from __future__ import annotations

import datetime as dt

from drivers.checks import Check
from drivers.emrtd.chipauth import aa, ca
from drivers.emrtd.lds import cardsecurity
from drivers.emrtd.lds import dg14 as dg14_file
from drivers.emrtd.lds import dg15 as dg15_file
from drivers.emrtd.lds import sod as sod_file
from drivers.emrtd.lds.cardaccess import (
    ActiveAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PaceDomainParameterInfo,
    PaceInfo,
    SecurityInfo,
    parse_security_infos,
)
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.lds.publickey import parse_public_key
from drivers.emrtd.pace.curves import GroupError
from drivers.emrtd.pace.mapping import verify_chip_authentication_data
from drivers.emrtd.passiveauth import CscaStore, verify_signed_file
from drivers.emrtd.reader import DG14, DG15, EF_CARD_ACCESS, EF_CARD_SECURITY, EF_SOD, ChipRead, choose_pace

CHECK_NAMES = ("chip.access", "chip.card_security", "chip.ca", "chip.aa")


def chip_checks(read: ChipRead, store: CscaStore | None, *, at: dt.datetime | None = None) -> list[Check]:
    """chip.access, chip.card_security, chip.ca and chip.aa for a read; store None means no
    trusted CSCAs (EF.CardSecurity's signature is then checked without its chain)."""
    sod_groups = _sod_groups(read)
    dg14, dg14_problem = _dg14(read)
    security, security_check = _card_security(read, store, at)
    return [_access(read, dg14), security_check, _chip_authentication(read, sod_groups, dg14, dg14_problem, security),
            _active_authentication(read, sod_groups, dg14)]


def _sod_groups(read: ChipRead) -> set[int] | None:
    try:
        return set(sod_file.parse(read.files[EF_SOD]).dg_hashes)
    except (KeyError, LdsError):
        return None  # passive authentication reports the SOD


def _dg14(read: ChipRead) -> tuple[dg14_file.Dg14 | None, str | None]:
    if DG14 not in read.files:
        return None, None
    try:
        return dg14_file.parse(read.files[DG14]), None
    except LdsError as error:
        return None, str(error)


def _access(read: ChipRead, dg14: dg14_file.Dg14 | None) -> Check:
    access = read.access
    if access is None:
        return Check.not_done("chip.access", "the chip was not opened")
    if access.method == "PACE":
        return Check.passed("chip.access", access.description)
    if access.pace_failure:
        return Check.failed("chip.access", f"the chip offers PACE ({', '.join(access.offered)}) but PACE failed "
                            f"({access.pace_failure}); it was opened with BAC")
    signed_pace = [info for info in (dg14.infos if dg14 else ()) if isinstance(info, PaceInfo)]
    if signed_pace and not access.offered and not isinstance(choose_pace(dg14.infos), str):
        return Check.failed("chip.access", "the signed DG14 announces PACE but EF.CardAccess offered none "
                            f"({access.pace_skipped or 'missing'}); the chip was opened with BAC")
    if access.pace_skipped and access.offered:
        return Check.passed("chip.access", f"BAC; the PACE this chip offers cannot be used here "
                            f"({access.pace_skipped})")
    return Check.passed("chip.access", "BAC (the chip offers no PACE)")


def _card_security(read: ChipRead, store: CscaStore | None,
                   at: dt.datetime | None) -> tuple[cardsecurity.CardSecurity | None, Check]:
    pace = read.access.pace if read.access else None
    cam = pace is not None and pace.protocol.mapping == "CAM"
    data = read.master_files.get(EF_CARD_SECURITY)
    if data is None:
        if cam:
            return None, Check.failed("chip.card_security", "the chip used PACE-CAM but has no EF.CardSecurity "
                                      "to authenticate its key")
        if pace is None:
            return None, Check.not_done("chip.card_security", "not read: EF.CardSecurity is read after PACE")
        return None, Check.not_done("chip.card_security", "the chip has no EF.CardSecurity (required only with "
                                    "PACE-CAM and Terminal Authentication)")
    try:
        security = cardsecurity.parse(data)
    except LdsError as error:
        return None, Check.failed("chip.card_security", error.reason)
    check = verify_signed_file(security.signed, store, "chip.card_security", at=at)
    if not check.ok:
        return security, check
    signed = {_pace_offer(i) for i in security.infos if isinstance(i, (PaceInfo, PaceDomainParameterInfo))}
    unsigned = [_describe_offer(i) for i in _card_access_infos(read)
                if isinstance(i, (PaceInfo, PaceDomainParameterInfo)) and _pace_offer(i) not in signed]
    if unsigned:
        return security, Check.failed("chip.card_security", "EF.CardAccess offers PACE protocols or domain "
                                      f"parameters the signed EF.CardSecurity does not: {', '.join(unsigned)}")
    return security, check


def _pace_offer(info: PaceInfo | PaceDomainParameterInfo) -> tuple:
    """What EF.CardSecurity must repeat of a PACE offer: explicit domain parameters byte for byte."""
    if isinstance(info, PaceDomainParameterInfo):
        return info.protocol, info.parameter_id, info.algorithm_identifier
    return info.protocol, info.parameter_id


def _describe_offer(info: PaceInfo | PaceDomainParameterInfo) -> str:
    if isinstance(info, PaceDomainParameterInfo):
        return f"domain parameters {info.parameter_id if info.parameter_id is not None else '(no id)'}"
    return info.protocol


def _card_access_infos(read: ChipRead) -> list[SecurityInfo]:
    try:
        return parse_security_infos(read.master_files[EF_CARD_ACCESS])
    except (KeyError, LdsError):
        return []


def _chip_authentication(read: ChipRead, sod_groups: set[int] | None, dg14: dg14_file.Dg14 | None,
                         dg14_problem: str | None, security: cardsecurity.CardSecurity | None) -> Check:
    pace = read.access.pace if read.access else None
    if pace is not None and pace.protocol.mapping == "CAM":
        return _pace_cam(pace, dg14, security)
    run = read.chip_authentication
    if run is not None:
        if run.confirmed:
            return Check.passed("chip.ca", f"the chip proved its key: {run.detail}")
        return Check.failed("chip.ca", run.detail if not run.protocol else f"{run.protocol}: {run.detail}")
    if dg14_problem:
        return Check.failed("chip.ca", dg14_problem)
    if dg14 is None:
        if sod_groups is not None and 14 in sod_groups:
            return Check.failed("chip.ca", "the SOD lists DG14 (Chip Authentication) but the chip does not give it")
        return Check.not_done("chip.ca", "the chip offers no Chip Authentication (no DG14)")
    if not ca.offered(dg14.infos):
        return Check.not_done("chip.ca", "DG14 announces no Chip Authentication key")
    return Check.not_done("chip.ca", "DG14 offers Chip Authentication but it was not performed")


def _pace_cam(pace, dg14: dg14_file.Dg14 | None, security: cardsecurity.CardSecurity | None) -> Check:
    if pace.chip_authentication_data is None:
        return Check.failed("chip.ca", f"PACE-CAM: {pace.chip_authentication_problem}")
    sources = [("EF.CardSecurity", security.infos)] if security else []
    sources += [("DG14", dg14.infos)] if dg14 else []
    for file, infos in sources:
        for info in infos:
            if isinstance(info, ChipAuthenticationPublicKeyInfo) and info.key_id == pace.parameter_id:
                try:
                    key = parse_public_key(info.public_key, file)
                    mapping_key = key.group.decode(pace.chip_mapping_key)
                except (LdsError, GroupError) as error:
                    return Check.failed("chip.ca", f"PACE-CAM: the chip's key in {file}: {error}")
                if key.algorithm != "ec":
                    return Check.failed("chip.ca", f"PACE-CAM: the key in {file} is not an EC key")
                if verify_chip_authentication_data(key.group, pace.chip_authentication_data, key.public,
                                                   mapping_key):
                    return Check.passed("chip.ca", f"PACE-CAM: the chip proved the key of {file} "
                                        f"(key id {info.key_id}, {key.group.name})")
                return Check.failed("chip.ca", f"PACE-CAM: the chip authentication data do not match the key of "
                                    f"{file}: the chip does not hold its private key")
    return Check.failed("chip.ca", f"PACE-CAM: no Chip Authentication public key with key id {pace.parameter_id} "
                        "in EF.CardSecurity or DG14")


def _active_authentication(read: ChipRead, sod_groups: set[int] | None, dg14: dg14_file.Dg14 | None) -> Check:
    if DG15 not in read.files:
        if sod_groups is not None and 15 in sod_groups:
            return Check.failed("chip.aa", "the SOD lists DG15 (Active Authentication) but the chip does not give it")
        return Check.not_done("chip.aa", "the chip offers no Active Authentication (no DG15)")
    try:
        key = dg15_file.parse(read.files[DG15]).public_key
    except LdsError as error:
        return Check.failed("chip.aa", error.reason if error.file == "DG15" else str(error))
    run = read.active_authentication
    if run is None:
        return Check.not_done("chip.aa", "DG15 offers Active Authentication but it was not performed")
    if run.signature is None:
        return Check.failed("chip.aa", f"the chip did not sign the challenge: {run.detail}")
    info = next((i for i in (dg14.infos if dg14 else ()) if isinstance(i, ActiveAuthenticationInfo)), None)
    try:
        verified = aa.verify(key, info.signature_algorithm if info else None, run.challenge, run.signature)
    except ValueError as error:
        return Check.failed("chip.aa", f"{error}: the chip does not hold DG15's private key")
    return Check.passed("chip.aa", f"the chip signed the challenge: {verified}")
