"""The gate's chip step: read the chip in the PC/SC reader with the printed
MRZ as password (PACE when the chip offers it, else BAC), check it by passive
authentication and by its own checks (chip.access, chip.card_security,
chip.ca, chip.aa: is it the genuine chip, or a copy of the data?), and hand
back the chip's face photo (DG2) for the 1:1 comparison.

Every way this can go wrong ends in a check, never an exception: no chip,
an access refused, a link lost mid-read, data that fails its hash or
signature, a chip that cannot prove its key, a photo that does not decode.
"""
from __future__ import annotations

import datetime as dt

from drivers.checks import Check
from drivers.devices.pcsc import CardAbsent, PcscTransceiver, wait_for_card
from drivers.emrtd.checks import chip_checks
from drivers.emrtd.iso7816.transceiver import TransportError
from drivers.emrtd.lds import LdsError
from drivers.emrtd.lds import dg2 as lds_dg2
from drivers.emrtd.passiveauth import CscaStore, verify
from drivers.emrtd.reader import DG1, DG2, ChipReadError, read_chip
from drivers.mrz import Mrz
from edge.gate import ReferencePhoto


class ChipPhotoSource:
    def __init__(self, reader: str, store: CscaStore, *, card_timeout: float = 2.0):
        self.reader = reader
        self.store = store
        self.card_timeout = card_timeout

    def __call__(self, mrz: Mrz) -> ReferencePhoto:
        try:
            wait_for_card(self.reader, self.card_timeout)
        except CardAbsent:
            return ReferencePhoto(None, [Check.not_done("chip.read", "no chip answered in the reader")])
        except TransportError as exc:
            return ReferencePhoto(None, [Check.not_done("chip.read", f"chip reader unavailable: {exc}")])
        try:
            with PcscTransceiver(self.reader) as link:
                read = read_chip(link, mrz.bac_key_seed_input, files=(DG1, DG2))
        except ChipReadError as exc:
            return ReferencePhoto(None, [Check.failed("chip.read", f"{exc.step}: {exc}")])
        except TransportError as exc:
            return ReferencePhoto(None, [Check.failed("chip.read", f"link to the chip lost: {exc}")])

        now = dt.datetime.now(dt.timezone.utc)
        checks = [Check.passed("chip.read", f"{read.access.method}, {len(read.files)} files read")]
        checks.extend(verify(read.files, self.store, printed_mrz=str(mrz), at=now))
        checks.extend(chip_checks(read, self.store, at=now))
        try:
            faces = lds_dg2.parse(read.files[DG2]).faces
            image = faces[0].decode_image() if faces else None
        except (KeyError, LdsError) as exc:
            checks.append(Check.failed("chip.photo", f"no usable photo on the chip: {exc}"))
            return ReferencePhoto(None, checks)
        if image is None:
            checks.append(Check.failed("chip.photo", "DG2 holds no face image"))
        return ReferencePhoto(image, checks)
