"""A personalised document (real LDS files signed by the test PKI) read off the
virtual chip by read_chip, then passively authenticated: the bytes the reader
assembles from many READ BINARY blocks must be exactly the signed ones."""
from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest

from drivers.emrtd import bac
from drivers.emrtd.passiveauth import CscaStore, verify
from drivers.emrtd.reader import DG1, DG2, EF_COM, EF_SOD, read_chip
from hardware_sim.chip import VirtualChip
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import make_test_pki

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
MRZ_KEY = bac.mrz_key("L898902C3", "740812", "120415")


def test_mrz_key_matches_the_printed_zone():
    line = TD3.splitlines()[1]
    assert MRZ_KEY == line[0:10] + line[13:20] + line[21:28]


@pytest.mark.parametrize("noisy_photo", [False, True], ids=["small-dg2", "dg2-beyond-32k"])
def test_read_personalised_chip_passes_passive_authentication(noisy_photo):
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (260, 200, 3), np.uint8) if noisy_photo else np.full((64, 48, 3), 150, np.uint8)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    pki = make_test_pki(now=NOW)
    files = personalise(TD3, jpeg.tobytes(), pki)
    assert (len(files[DG2]) > 0x8000) is noisy_photo

    result = read_chip(VirtualChip(files, MRZ_KEY, extended_length=False), MRZ_KEY)
    assert result.ok and set(result.files) == {EF_COM, DG1, DG2, EF_SOD}
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(pki.crl)
    authentication = verify(result.files, store, printed_mrz=TD3, at=NOW)
    assert authentication.passed, authentication.to_dict()
