"""Personalised chips: every file parses, passive authentication passes on
the genuine chip and fails the intended check for each fault."""
from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest

from drivers.checks import CheckStatus
from drivers.emrtd.lds import EF_COM, EF_SOD, LdsError, parse_file
from drivers.emrtd.lds.dg11 import Dg11
from drivers.emrtd.passiveauth import CscaStore, verify
from hardware_sim.chip.personalise import FAULTS, personalise
from hardware_sim.pki import make_test_pki

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def pki():
    return make_test_pki(now=NOW)


@pytest.fixture(scope="module")
def store(pki):
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(pki.crl)
    return store


@pytest.fixture(scope="module")
def photo() -> bytes:
    pixels = np.zeros((200, 150, 3), np.uint8)
    cv2.circle(pixels, (75, 90), 50, (80, 140, 200), -1)
    ok, buffer = cv2.imencode(".jpg", pixels)
    assert ok
    return buffer.tobytes()


def test_every_file_parses_and_holds_what_was_given(pki, photo):
    files = personalise(TD3, photo, pki,
                        dg11={"full_name": "ERIKSSON<<ANNA MARIA", "place_of_birth": "ZENITH"},
                        dg12={"issuing_authority": "UTOPIA", "date_of_issue": "20240102"})
    assert set(files) == {EF_COM, EF_SOD, 0x0101, 0x0102, 0x010B, 0x010C}
    parsed = {fid: parse_file(fid, data) for fid, data in files.items()}
    assert parsed[EF_COM].data_groups == (1, 2, 11, 12)
    assert parsed[EF_COM].lds_version == "1.8"
    assert parsed[0x0101].lines == TD3.split("\n")
    face = parsed[0x0102].faces[0]
    assert (face.width, face.height, face.image) == (150, 200, photo)
    assert parsed[0x010B].place_of_birth == "ZENITH"
    assert parsed[0x010C].date_of_issue == "20240102"
    assert set(parsed[EF_SOD].dg_hashes) == {1, 2, 11, 12}
    assert verify(files, CscaStore.from_certificates([pki.csca.certificate]), printed_mrz=TD3, at=NOW).passed


def test_dg11_as_dataclass(pki, photo):
    files = personalise(TD3, photo, pki, dg11=Dg11(personal_number="123"))
    assert parse_file(0x010B, files[0x010B]).personal_number == "123"


def test_genuine_chip_passes(pki, store, photo):
    result = verify(personalise(TD3, photo, pki), store, printed_mrz=TD3, at=NOW)
    assert result.passed
    assert all(c.status is CheckStatus.PASS for c in result)


@pytest.mark.parametrize("fault, check", [
    ("altered_dg", "dg2.hash"),
    ("wrong_signer", "sod.signature"),
    ("expired_dsc", "dsc.validity"),
    ("revoked_dsc", "dsc.revocation"),
])
def test_fault_fails_exactly_its_check(pki, store, photo, fault, check):
    files = personalise(TD3, photo, pki, faults=[fault])
    result = verify(files, store, printed_mrz=TD3, at=NOW)
    assert [c.name for c in result if c.status is CheckStatus.FAIL] == [check]
    assert not result.passed
    # the files still parse: the fault is in the trust, not in the format
    for fid, data in files.items():
        parse_file(fid, data)


def test_altered_dg2_still_decodes(pki, photo):
    files = personalise(TD3, photo, pki, faults=["altered_dg"])
    face = parse_file(0x0102, files[0x0102]).faces[0]
    assert face.image != photo and len(face.image) == len(photo)


def test_faults_combine(pki, store, photo):
    result = verify(personalise(TD3, photo, pki, faults=FAULTS), store, at=NOW)
    failed = {c.name for c in result if c.status is CheckStatus.FAIL}
    assert failed == {"dg2.hash", "sod.signature", "dsc.revocation"}  # revoked_dsc wins over expired_dsc


def test_bad_arguments(pki, photo):
    with pytest.raises(ValueError, match="unknown faults"):
        personalise(TD3, photo, pki, faults=["lost"])
    with pytest.raises(ValueError, match="unknown hash algorithm"):
        personalise(TD3, photo, pki, hash_alg="md17")
    with pytest.raises(LdsError, match="DG1"):
        personalise("P<UTO", photo, pki)
    with pytest.raises(LdsError, match="neither JPEG nor JPEG 2000"):
        personalise(TD3, b"GIF89a", pki)


@pytest.mark.faces
@pytest.mark.parametrize("name", ["obama/01.jpg", "obama/05_240p.jpg", "biden/02.jpg"])
def test_real_photo_round_trips_to_an_array_of_its_size(faces_dir, pki, store, name):
    photo = (faces_dir / name).read_bytes()
    expected = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    files = personalise(TD3, photo, pki)
    face = parse_file(0x0102, files[0x0102]).faces[0]
    assert (face.height, face.width) == expected.shape[:2]
    pixels = face.decode_image()
    assert pixels.shape == expected.shape
    assert np.array_equal(pixels, cv2.cvtColor(expected, cv2.COLOR_BGR2RGB))
    assert verify(files, store, printed_mrz=TD3, at=NOW).passed
