"""The gate's chip step: read the chip in the PC/SC reader with the printed
MRZ as password (PACE when the chip offers it, else BAC), check it by passive
authentication and by its own checks (chip.access, chip.card_security,
chip.ca, chip.aa: is it the genuine chip, or a copy of the data?), and hand
back the chip's face photo (DG2) for the 1:1 comparison. A gate holding EAC
credentials (an inspection system's CV certificates and key: `load_terminal`)
runs Terminal Authentication and hands back the fingers of DG3 too, for
edge.fingerprints.

Every way this can go wrong ends in a check, never an exception: no chip,
an access refused, a link lost mid-read, data that fails its hash or
signature, a chip that cannot prove its key, a photo that does not decode.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from drivers.checks import Check
from drivers.devices.pcsc import CardAbsent, PcscTransceiver, wait_for_card
from drivers.emrtd.checks import chip_checks
from drivers.emrtd.iso7816.transceiver import TransportError
from drivers.emrtd.lds import LdsError
from drivers.emrtd.lds import dg2 as lds_dg2
from drivers.emrtd.lds import dg3 as lds_dg3
from drivers.emrtd.passiveauth import CscaStore, verify
from drivers.emrtd.reader import DG1, DG2, DG3, ChipRead, ChipReadError, read_chip
from drivers.emrtd.terminalauth.protocol import TerminalCredentials
from drivers.fingerprint import iso19794_2, iso19794_4
from drivers.fingerprint.errors import FingerprintError
from drivers.mrz import Mrz
from edge.fingerprints import EncodedFinger
from edge.gate import ReferencePhoto


def load_terminal(folder: Path) -> TerminalCredentials:
    """The gate's EAC credentials (TerminalCredentials.load: terminal.cvcerts and terminal.key.pem)."""
    return TerminalCredentials.load(folder)


class ChipPhotoSource:
    def __init__(self, reader: str, store: CscaStore, *, card_timeout: float = 2.0,
                 terminal: TerminalCredentials | None = None):
        self.reader = reader
        self.store = store
        self.card_timeout = card_timeout
        self.terminal = terminal

    def __call__(self, mrz: Mrz) -> ReferencePhoto:
        try:
            wait_for_card(self.reader, self.card_timeout)
        except CardAbsent:
            return ReferencePhoto(None, [Check.not_done("chip.read", "no chip answered in the reader")])
        except TransportError as exc:
            return ReferencePhoto(None, [Check.not_done("chip.read", f"chip reader unavailable: {exc}")])
        try:
            with PcscTransceiver(self.reader) as link:
                read = read_chip(link, mrz.bac_key_seed_input, files=(DG1, DG2, DG3) if self.terminal else (DG1, DG2),
                                 terminal=self.terminal)
        except ChipReadError as exc:
            return ReferencePhoto(None, [Check.failed("chip.read", f"{exc.step}: {exc}")])
        except TransportError as exc:
            return ReferencePhoto(None, [Check.failed("chip.read", f"link to the chip lost: {exc}")])

        now = dt.datetime.now(dt.timezone.utc)
        checks = [Check.passed("chip.read", f"{read.access.method}, {len(read.files)} files read")]
        checks.extend(verify(read.files, self.store, printed_mrz=str(mrz), at=now))
        checks.extend(chip_checks(read, self.store, at=now))
        fingers = document_fingers(read, checks) if self.terminal is not None else {}
        try:
            faces = lds_dg2.parse(read.files[DG2]).faces
            image = faces[0].decode_image() if faces else None
        except (KeyError, LdsError) as exc:
            checks.append(Check.failed("chip.photo", f"no usable photo on the chip: {exc}"))
            return ReferencePhoto(None, checks, fingers)
        if image is None:
            checks.append(Check.failed("chip.photo", "DG2 holds no face image"))
        return ReferencePhoto(image, checks, fingers)


def document_fingers(read: ChipRead, checks: list[Check]) -> dict:
    """DG3's fingers by position (the encoded image, or a minutiae template when DG3 holds minutiae), after
    Terminal Authentication; the reason for none
    goes into `checks` as chip.fingers (informational: a chip without fingers is no fault of the traveller,
    but a DG3 that was read and does not parse is one the officer must see)."""
    run = read.terminal_authentication
    if DG3 not in read.files:
        if run is not None and not run.granted and not run.detail.startswith("not run"):
            checks.append(Check.passed("chip.fingers", f"DG3 not read: Terminal Authentication {run.detail}"))
        return {}
    fingers = {}
    try:
        for record in lds_dg3.parse(read.files[DG3]):
            if record.kind == "image" and record.position is not None:
                fingers.setdefault(record.position, EncodedFinger(record.record, record.position))  # decoded if asked
            elif record.kind == "image":  # no position in the header: the record says which finger
                for view in iso19794_4.decode(record.record):
                    fingers.setdefault(view.position, view.image)
            else:
                for template in iso19794_2.decode(record.record):
                    fingers.setdefault(template.position, template)
    except (LdsError, FingerprintError) as exc:
        checks.append(Check.failed("chip.fingers", f"DG3 unusable: {exc}"))
        return {}
    fingers.pop(0, None)  # a finger of unknown position cannot be asked for
    checks.append(Check.passed("chip.fingers", f"DG3: {len(fingers)} finger(s) after Terminal Authentication "
                               f"({run.detail if run else ''})"))
    return fingers
