"""`limes chip fingers`: Terminal Authentication with an inspection system's EAC credentials, the
fingers of DG3, and a live finger (an image file, or one taken on a ZFM-family scanner) compared 1:1
with the document's finger at the same position.

`verify_chip_fingers` is the work without PC/SC or printing, so that tests run it on the virtual chip.
Exit 0 when the live finger matches, 1 when it does not or the chip gave no fingers (TA refused, no
DG3), 2 on bad arguments, no reader or card, unreadable credentials or image.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from common.output import add_json_flag, emit
from drivers.devices import pcsc
from drivers.emrtd.bac import mrz_key
from drivers.emrtd.iso7816.transceiver import Transceiver, TransportError
from drivers.emrtd.lds import LdsError, dg3
from drivers.emrtd.reader import DG1, DG3, AccessControlError, ChipReadError, read_chip
from drivers.emrtd.terminalauth.protocol import TerminalAuthenticationError, TerminalCredentials
from drivers.fingerprint import compare, iso19794_2, iso19794_4, minutiae
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.image import load_image
from limes.commands.chip_access import (
    CARD_WAIT_S,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    UsageError,
    bac_key,
    choose_reader,
    usage_error,
)

PREFERENCE = (2, 7, 1, 6, 3, 8, 4, 9, 5, 10)  # index fingers first, as the gate asks for them


def register(chip_commands) -> None:
    fingers = chip_commands.add_parser(
        "fingers", help="Terminal Authentication, DG3's fingers, and a live finger 1:1 against them",
        description="Open the chip (PACE or BAC), run Chip Authentication and Terminal Authentication with the "
                    "inspection system's credentials (--terminal: terminal.cvcerts and terminal.key.pem), read "
                    "DG3 and compare the live finger with the document's finger at --position (default: the "
                    "right index finger, else the first the chip holds).")
    fingers.add_argument("--reader", default=None, help="PC/SC reader name (default: the first reader found)")
    fingers.add_argument("--document-number", default=None)
    fingers.add_argument("--birth-date", default=None, metavar="YYMMDD")
    fingers.add_argument("--expiry-date", default=None, metavar="YYMMDD")
    fingers.add_argument("--can", default=None, metavar="DIGITS")
    fingers.add_argument("--terminal", type=Path, required=True, metavar="DIR",
                         help="the inspection system's EAC credentials")
    live = fingers.add_mutually_exclusive_group(required=True)
    live.add_argument("--finger", type=Path, metavar="IMAGE", help="the live finger, a 500 ppi image or WSQ")
    live.add_argument("--scanner", metavar="URL", help="take the live finger on this ZFM-family scanner")
    fingers.add_argument("--position", type=int, default=None, help="ISO/IEC 19794 finger position 1-10")
    fingers.add_argument("--wait", type=float, default=CARD_WAIT_S, metavar="SECONDS")
    add_json_flag(fingers)
    fingers.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        result = _from_reader(args)
    except UsageError as exc:
        return usage_error(str(exc), args.json)
    emit(result, args.json, _render)
    return EXIT_OK if result.get("comparison", {}).get("match") else EXIT_CHECK_FAILED


def _from_reader(args: argparse.Namespace) -> dict[str, Any]:
    fields = (args.document_number, args.birth_date, args.expiry_date)
    if args.can is None and None in fields:
        raise UsageError("give --document-number, --birth-date and --expiry-date (or --can for PACE)")
    key = None if None in fields else bac_key(*fields, mrz_key)
    try:
        terminal = TerminalCredentials.load(args.terminal)
    except (TerminalAuthenticationError, OSError) as exc:
        raise UsageError(f"--terminal: {exc}") from exc
    live = _live_finger(args)
    try:
        reader = choose_reader(args.reader, pcsc.list_readers())
        pcsc.wait_for_card(reader, args.wait)
        with pcsc.PcscTransceiver(reader) as link:
            return {"reader": reader, **verify_chip_fingers(link, key, args.can, terminal, live, args.position)}
    except TransportError as exc:
        raise UsageError(str(exc)) from exc


def _live_finger(args: argparse.Namespace) -> np.ndarray:
    if args.finger is not None:
        try:
            return load_image(args.finger)
        except FingerprintError as exc:
            raise UsageError(f"--finger: {exc}") from exc
    from drivers.devices.fingerprint.scanner import ScannerError
    from drivers.devices.fingerprint.zfm import ZfmScanner

    try:
        with ZfmScanner(args.scanner) as scanner:
            return scanner.capture()
    except ScannerError as exc:
        raise UsageError(f"--scanner: {exc}") from exc


def verify_chip_fingers(transceiver: Transceiver, key: str | None, can: str | None, terminal: TerminalCredentials,
                        live: np.ndarray, position: int | None = None) -> dict[str, Any]:
    """Read the chip with Terminal Authentication and compare `live` with DG3's finger at `position`."""
    try:
        read = read_chip(transceiver, key, can=can, files=(DG1, DG3), terminal=terminal)
    except AccessControlError as exc:
        raise UsageError(f"the chip refused access ({exc}): check the MRZ fields or the CAN") from exc
    except ChipReadError as exc:
        return {"error": f"the read broke off at '{exc.step}': {exc}"}
    run = read.terminal_authentication
    result: dict[str, Any] = {"terminal_authentication": {
        "granted": bool(run and run.granted), "detail": run.detail if run else "not run",
        "chip_trusts": list(run.chip_trusts) if run else []}}
    if DG3 not in read.files:
        step = next((s for s in read.steps if s.name == "read DG3"), None)
        result["error"] = f"no DG3: {step.detail if step else 'not read'}"
        return result
    try:
        references = _fingers(read.files[DG3])
    except (LdsError, FingerprintError) as exc:
        result["error"] = f"DG3 unusable: {exc}"
        return result
    result["fingers"] = sorted(references)
    chosen = position if position is not None else next((p for p in PREFERENCE if p in references), None)
    if chosen not in references:
        result["error"] = f"the chip holds no finger at position {chosen}"
        return result
    try:
        comparison = compare.compare(references[chosen], minutiae.extract(live, chosen))
    except FingerprintError as exc:
        result["error"] = f"cannot compare: {exc}"
        return result
    result["comparison"] = {"position": chosen, **comparison.to_json()}
    return result


def _fingers(data: bytes) -> dict[int, Any]:
    """DG3's fingers as minutiae templates by position (images are extracted here)."""
    found: dict[int, Any] = {}
    for record in dg3.parse(data):
        if record.kind == "image":
            for view in iso19794_4.decode(record.record):
                if view.position and view.position not in found:
                    found[view.position] = minutiae.extract(view.image, view.position)
        else:
            for template in iso19794_2.decode(record.record):
                found.setdefault(template.position, template)
    found.pop(0, None)
    return found


def _render(result: dict[str, Any]) -> str:
    run = result.get("terminal_authentication", {})
    lines = [f"Terminal Authentication: {'granted' if run.get('granted') else 'refused'} ({run.get('detail', '')})"]
    if "fingers" in result:
        lines.append(f"DG3 fingers: {', '.join(str(p) for p in result['fingers'])}")
    if "comparison" in result:
        c = result["comparison"]
        lines.append(f"finger {c['position']}: score {c['score']} ({c['paired']} minutiae paired), "
                     f"{'MATCH' if c['match'] else 'no match'} at threshold {c['threshold']:g}")
    if "error" in result:
        lines.append(f"error: {result['error']}")
    return "\n".join(lines)
