"""`limes chip read`: read an ePassport chip in a PC/SC reader (PACE or BAC, Chip
and Active Authentication) and check it by passive authentication and its own
checks.

`describe_read` is the work behind the command, without any printing, so that
tests can use it directly.
"""
from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from common.output import add_json_flag, emit
from drivers.checks import Check, CheckStatus
from drivers.devices import pcsc
from drivers.emrtd.bac import mrz_key
from drivers.emrtd.checks import chip_checks
from drivers.emrtd.iso7816.transceiver import TransportError
from drivers.emrtd.lds import LdsError, dg1, dg2, dg11, dg12
from drivers.emrtd.lds.files import fid
from drivers.emrtd.passiveauth import CscaStore, StoreError, verify
from drivers.emrtd.reader import AccessControlError, ChipReadError, file_name, read_chip
from limes.commands import chip_fingers
from limes.commands.chip_access import (
    CARD_WAIT_S,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    UsageError,
    bac_key,
    choose_reader,
)
from limes.commands.chip_access import usage_error as _usage_error

# what `chip read` asks for; the chip says 'absent' for the ones it does not carry
READ_GROUPS = (1, 2, 7, 11, 12, 14, 15)
NO_TRUST = "no --csca given: the Document Signer was not checked against a CSCA"

def register(chip: argparse.ArgumentParser) -> None:
    chip_commands = chip.add_subparsers(dest="chip_command", metavar="COMMAND", required=True)
    read = chip_commands.add_parser(
        "read", help="read a chip (PACE or BAC, Chip and Active Authentication) and check it",
        description="Wait for a chip in the reader and open it as an inspection system does: PACE when its "
                    "EF.CardAccess offers it (password: the three MRZ fields, or --can), else or when PACE "
                    "fails BAC. Read EF.CardSecurity, EF.COM, DG1, DG2, DG7, DG11, DG12, DG14, DG15 and EF.SOD, "
                    "run Chip Authentication (DG14) and Active Authentication (DG15) when the chip offers them, "
                    "and every passive authentication and chip check. Exit 0 when no check failed, 1 when one "
                    "did (or the read broke off), 2 on bad arguments, no reader or no card, or a refused access.")
    read.add_argument("--reader", default=None, help="PC/SC reader name (default: the first reader found)")
    read.add_argument("--document-number", default=None, help="as printed in the MRZ, without check digit")
    read.add_argument("--birth-date", default=None, metavar="YYMMDD")
    read.add_argument("--expiry-date", default=None, metavar="YYMMDD")
    read.add_argument("--can", default=None, metavar="DIGITS",
                      help="the Card Access Number printed on the document: PACE's password instead of the MRZ "
                           "(the MRZ fields may then be left out; BAC needs them)")
    read.add_argument("--csca", action="append", type=Path, default=[], metavar="PATH",
                      help="trusted CSCA certificate, master list (.ml), CRL, or a folder of them (repeatable; "
                           "without it the chain to a CSCA is not checked)")
    read.add_argument("--save-photo", type=Path, default=None, metavar="FILE",
                      help="write the face image of DG2 (JPEG or JPEG 2000, as stored) to FILE")
    read.add_argument("--wait", type=float, default=CARD_WAIT_S, metavar="SECONDS",
                      help=f"how long to wait for a card (default {CARD_WAIT_S:.0f})")
    add_json_flag(read)
    read.set_defaults(func=_read)

    chip_fingers.register(chip_commands)  # its own module: TA, DG3 and a live finger


# -- limes chip read ---------------------------------------------------------------

def _read(args: argparse.Namespace) -> int:
    try:
        result = read_from_reader(args)
    except UsageError as exc:
        return _usage_error(str(exc), args.json)
    emit(result, args.json, render_read)
    return EXIT_OK if result["verdict"] in ("passed", "incomplete") else EXIT_CHECK_FAILED


def read_from_reader(args: argparse.Namespace) -> dict[str, Any]:
    mrz_fields = (args.document_number, args.birth_date, args.expiry_date)
    if args.can is not None and not (args.can.isdigit() and len(args.can) == 6):
        raise UsageError(f"--can {args.can!r}: the CAN is six digits")
    if args.can is None and None in mrz_fields:
        raise UsageError("give --document-number, --birth-date and --expiry-date (or --can for PACE)")
    key = None if None in mrz_fields else bac_key(*mrz_fields, mrz_key)
    store = load_store(args.csca) if args.csca else None
    try:
        reader = choose_reader(args.reader, pcsc.list_readers())
        pcsc.wait_for_card(reader, args.wait)
    except TransportError as exc:  # pcscd not running, reader gone, no card in time
        raise UsageError(str(exc)) from exc
    try:
        with pcsc.PcscTransceiver(reader) as link:
            atr = link.atr
            read = read_chip(link, key, can=args.can, files=[fid(n) for n in READ_GROUPS])
    except AccessControlError as exc:
        protocol = "PACE" if exc.step.startswith("PACE") else "Basic Access Control"
        password = "the CAN" if args.can else "the document number, birth date and expiry date"
        raise UsageError(f"the chip refused {protocol} ({exc}): check {password} against the document's "
                         f"{'card' if args.can else 'MRZ'}") from exc
    except ChipReadError as exc:
        result = describe_read(exc.partial, store)
        result["verdict"] = "failed"
        result["error"] = f"the read broke off at '{exc.step}': {exc}"
    except TransportError as exc:
        raise UsageError(f"reader {reader!r}: {exc}") from exc
    else:
        result = describe_read(read, store, save_photo=args.save_photo)
    return {"reader": reader, "atr": atr.hex().upper(), **result}


def load_store(paths: list[Path]):
    """A CscaStore from files and folders; CRLs last, as they are checked against the CSCAs."""
    store = CscaStore()

    def is_crl(path: Path) -> bool:
        return path.is_file() and (path.suffix.lower() == ".crl" or b"-----BEGIN X509 CRL-----" in path.read_bytes())

    try:
        ordered = sorted(paths, key=is_crl)
        for path in ordered:
            if path.is_dir():
                store.load_dir(path)
            else:
                store.load_file(path)
    except (OSError, StoreError) as exc:
        raise UsageError(f"--csca: {exc}") from exc
    if not store.cscas:
        raise UsageError(f"--csca {' '.join(map(str, paths))}: no CSCA certificate found")
    return store


def describe_read(read, store, *, save_photo: Path | None = None,
                  at: dt.datetime | None = None) -> dict[str, Any]:
    """What a chip read found, as a JSON-ready dict: how the chip was opened,
    each file read or absent (with size), DG1's fields, DG2's faces, DG11 and
    DG12 when present, every passive authentication check, the chip checks
    (chip.access, chip.card_security, chip.ca, chip.aa) and the verdict:
    'passed', 'incomplete' (no check failed, but some that matter were not
    done: no CSCA given) or 'failed'. store None means no trusted CSCAs."""
    files: dict[str, dict[str, Any]] = {}
    master_files: dict[str, dict[str, Any]] = {}
    for step in read.steps:
        if step.name.startswith("read "):
            name = step.name[5:]
            entry = {"status": step.outcome, "ms": round(step.seconds * 1000, 1)}
            if step.detail:
                entry["detail"] = step.detail
            (master_files if name in ("EF.CardAccess", "EF.CardSecurity") else files)[name] = entry
    for file_id, data in read.files.items():
        files[file_name(file_id)]["bytes"] = len(data)
    for file_id, data in read.master_files.items():
        master_files[file_name(file_id, master_file=True)]["bytes"] = len(data)

    access = read.access
    result: dict[str, Any] = {
        "access": None if access is None else {
            "method": access.method, "description": access.description, "offered": list(access.offered),
            "pace_failure": access.pace_failure, "pace_skipped": access.pace_skipped},
        "master_files": master_files,
        "extended_length": read.extended_length,
        "steps": [{"name": s.name, "outcome": s.outcome, "ms": round(s.seconds * 1000, 1)} for s in read.steps],
        "files": files,
    }
    problems = []
    for number, describe in ((1, _dg1), (2, _dg2), (11, _dg11_or_12), (12, _dg11_or_12)):
        data = read.files.get(0x0100 + number)
        if data is None:
            continue
        try:
            result[f"dg{number}"] = describe(number, data)
        except ValueError as exc:  # LdsError is a ValueError
            result[f"dg{number}"] = {"error": str(exc)}
            problems.append(f"DG{number} does not parse: {exc}")

    pa = verify(read.files, store if store is not None else CscaStore(), at=at)
    if store is None:
        pa = replace(pa, checks=tuple(
            Check.not_done(c.name, NO_TRUST) if c.name in ("dsc.chain", "dsc.revocation") else c
            for c in pa.checks))
    result["passive_authentication"] = {**pa.to_dict(), "trusted_cscas": None if store is None else len(store.cscas)}

    chip = chip_checks(read, store, at=at)
    result["chip_checks"] = [c.to_dict() for c in chip]

    if save_photo is not None:
        result["photo"] = _save_photo(read.files.get(0x0102), save_photo)
        if "error" in result["photo"]:
            problems.append(result["photo"]["error"])

    failed = (any(c.status is CheckStatus.FAIL for c in (*pa.checks, *chip)) or bool(problems)
              or not read.ok)
    result["problems"] = problems
    result["verdict"] = "failed" if failed else "passed" if pa.passed else "incomplete"
    return result


def _dg1(_: int, data: bytes) -> dict[str, Any]:
    parsed = dg1.parse(data)
    out: dict[str, Any] = {"mrz": parsed.lines}
    mrz = parsed.mrz
    if mrz is None:
        out["fields"] = None
        out["note"] = "the chip's MRZ does not pass the MRZ checks (see `limes mrz check`)"
        return out
    out["fields"] = {name: getattr(mrz, name) for name in (
        "format", "document_type", "issuing_state", "surname", "given_names", "document_number", "nationality",
        "birth_date", "sex", "expiry_date", "optional_data")}
    return out


def _dg2(_: int, data: bytes) -> dict[str, Any]:
    return {"faces": [face.describe() for face in dg2.parse(data).faces]}


def _dg11_or_12(number: int, data: bytes) -> dict[str, Any]:
    parsed = (dg11 if number == 11 else dg12).parse(data)
    out = {}
    for f in fields(parsed):
        value = getattr(parsed, f.name)
        if f.name == "tags" or value in (None, ()):
            continue
        out[f.name] = {"image_bytes": len(value)} if isinstance(value, bytes) else value
    return out


def _save_photo(dg2_data: bytes | None, path: Path) -> dict[str, Any]:
    if dg2_data is None:
        return {"error": "no photo saved: DG2 was not read"}
    try:
        faces = dg2.parse(dg2_data).faces
    except LdsError as exc:
        return {"error": f"no photo saved: {exc}"}
    if not faces:
        return {"error": "no photo saved: DG2 holds no face"}
    face = faces[0]
    try:
        path.write_bytes(face.image)
    except OSError as exc:
        return {"error": f"no photo saved: {exc}"}
    kind = "JPEG 2000" if face.image_data_type == dg2.IMAGE_JPEG2000 else "JPEG"
    return {"saved": str(path), "format": kind, "bytes": len(face.image)}


def render_read(result: dict[str, Any]) -> str:
    lines = [f"reader   {result['reader']}", f"ATR      {result['atr']}"]
    if result.get("access"):
        lines.append(f"access   {result['access']['description']}")
        if result["access"]["offered"]:
            lines.append(f"         EF.CardAccess offers {', '.join(result['access']['offered'])}")
    lines.append("files:")
    for name, info in result.get("master_files", {}).items():
        size = f"{info['bytes']:>6} bytes" if "bytes" in info else ""
        lines.append(f"  {name:<15} {info['status']:<7}{size}")
    for name, info in result["files"].items():
        size = f"{info['bytes']:>6} bytes" if "bytes" in info else ""
        lines.append(f"  {name:<7} {info['status']:<7}{size}")
    fields_ = (result.get("dg1") or {}).get("fields")
    if fields_:
        lines.append("DG1:")
        lines.extend(f"  {k:<18} {v}" for k, v in fields_.items())
    elif "dg1" in result:
        lines.append(f"DG1:     {result['dg1']}")
    for number in (11, 12):
        if f"dg{number}" in result:
            lines.append(f"DG{number}:")
            lines.extend(f"  {k:<18} {v}" for k, v in result[f"dg{number}"].items())
    pa = result["passive_authentication"]
    lines.append("passive authentication:")
    lines.extend(f"  {c['status']:<8} {c['name']:<18} {c['reason']}" for c in pa["checks"])
    lines.append("chip:")
    lines.extend(f"  {c['status']:<8} {c['name']:<18} {c['reason']}" for c in result.get("chip_checks", []))
    if "photo" in result:
        photo = result["photo"]
        lines.append(photo.get("error") or f"photo    {photo['saved']} ({photo['format']}, {photo['bytes']} bytes)")
    lines.extend(f"problem: {p}" for p in result["problems"])
    if "error" in result:
        lines.append(f"error: {result['error']}")
    verdict = {"passed": "PASSED", "failed": "FAILED",
               "incomplete": "INCOMPLETE (no check failed, but without --csca the chain was not checked)"}
    lines.append(f"verdict: {verdict[result['verdict']]}")
    return "\n".join(lines)
