"""Terminal Authentication against the virtual chip: a chip personalised with fingers in DG3 and a test
CVCA serves DG3 to the gate's inspection system only, after Chip Authentication; it refuses every wrong
terminal for its own reason; and the fingers it gives verify a live finger 1:1."""
from __future__ import annotations

import datetime as dt
import functools

import pytest

from drivers.emrtd.bac import perform_bac
from drivers.emrtd.iso7816.apdu import CommandApdu
from drivers.emrtd.iso7816.secure_messaging import SecureMessagingTransceiver
from drivers.emrtd.iso7816.transceiver import CallableTransceiver, send
from drivers.emrtd.lds import dg3
from drivers.emrtd.reader import DG1, DG3, read_chip
from drivers.emrtd.terminalauth.protocol import TerminalAuthenticationError, chip_identifier_after_bac, perform_ta
from drivers.fingerprint import compare, iso19794_4, minutiae
from drivers.mrz import generate_td3, parse
from hardware_sim.chip import VirtualChip
from hardware_sim.chip.hosting import synthetic_photo
from hardware_sim.chip.personalise import personalise_chip
from hardware_sim.chip.security import PROFILES, ChipProfile
from hardware_sim.eac_pki import WRONG_TERMINALS, make_test_eac_pki
from hardware_sim.fingerprint_scanner import finger_image
from hardware_sim.pki import make_test_pki

TODAY = dt.date.today()
MRZ = generate_td3(issuing_state="UTO", surname="PRINTS", given_names="TEN", document_number="F1234567",
                   nationality="UTO", birth_date=dt.date(1985, 3, 1), sex="M",
                   expiry_date=TODAY.replace(year=TODAY.year + 5))
KEY = parse(MRZ).bac_key_seed_input
PKI = make_test_pki("UTO")
EAC = make_test_eac_pki("UTO", today=TODAY)
FINGER_SEEDS = {2: 7101, 7: 7102}  # right index, left index


@functools.cache
def enrolled_fingers() -> tuple[tuple[int, object], ...]:
    return tuple((position, finger_image(seed, 1)) for position, seed in FINGER_SEEDS.items())


@functools.cache
def personalised(profile_name: str):
    profile = PROFILES[profile_name] if profile_name in PROFILES else ChipProfile.build(ca="ECDH-AES-128")
    return personalise_chip(MRZ, synthetic_photo(5), PKI, profile=profile, fingers=enrolled_fingers(),
                            cvca=EAC.cvca)


def read(terminal=None, profile: str = "passport"):
    chip = VirtualChip.personalised(personalised(profile), KEY)
    return read_chip(chip, KEY, files=(DG1, DG3), terminal=terminal), chip


@pytest.mark.parametrize("profile", ["passport", "bac-ca"])
def test_the_gate_terminal_reads_dg3_after_chip_and_terminal_authentication(profile):
    result, _ = read(EAC.terminal.credentials(), profile)
    assert result.chip_authentication.confirmed
    run = result.terminal_authentication
    assert run.granted, run.detail
    assert run.chip_trusts == ("UTCVCA00001",)
    assert "reads DG3+DG4" in run.detail
    records = dg3.parse(result.files[DG3])
    assert [(r.kind, r.position) for r in records] == [("image", 2), ("image", 7)]
    views = iso19794_4.decode(records[0].record)
    assert views[0].image.shape == enrolled_fingers()[0][1].shape


def test_without_terminal_authentication_dg3_stays_closed():
    result, _ = read(None)
    assert DG3 not in result.files
    step = next(s for s in result.steps if s.name == "read DG3")
    assert step.outcome == "absent" and "6982" in step.detail
    assert result.terminal_authentication is None


EXPECTED_REFUSALS = {
    "unknown-cvca": ("MSE:Set DST UTCVCA00002", 0x6A88, "no CVCA or verified key UTCVCA00002"),
    "impostor-cvca": ("PSO:Verify Certificate UTDVIS00001", 0x6300, "signature is not UTCVCA00001's"),
    "expired": ("PSO:Verify Certificate UTISGATE00003", 0x6300, "is not valid on"),
    "wrong-key": ("EXTERNAL AUTHENTICATE", 0x6300, "the signature is not UTISGATE00001's"),
    "forged-certificate": ("PSO:Verify Certificate UTDVIS00001", 0x6300, "signature is not UTCVCA00001's"),
    "skips-dv": ("PSO:Verify Certificate UTISGATE00005", 0x6A80, "one level below UTCVCA00001"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_REFUSALS))
def test_the_chip_refuses_a_wrong_terminal_for_its_reason(name):
    assert name in WRONG_TERMINALS
    result, chip = read(EAC.wrong_terminals()[name].credentials())
    step, sw, reason = EXPECTED_REFUSALS[name]
    run = result.terminal_authentication
    assert not run.granted
    assert run.detail.startswith(f"{step}: the chip answered {sw:04X}")
    assert reason in chip.terminal_authentication.refusals[-1]
    assert DG3 not in result.files
    assert DG1 in result.files  # the rest of the read goes on
    if name == "unknown-cvca":
        assert "the chip trusts UTCVCA00001; this terminal's chain starts at UTCVCA00002" in run.detail


def test_a_terminal_without_the_fingerprint_right_authenticates_but_gets_no_dg3():
    result, _ = read(EAC.wrong_terminals()["no-fingerprint-right"].credentials())
    assert result.terminal_authentication.granted
    assert "reads DG4" in result.terminal_authentication.detail
    assert DG3 not in result.files
    assert "6982" in next(s for s in result.steps if s.name == "read DG3").detail


def test_terminal_authentication_before_chip_authentication_is_refused():
    chip = VirtualChip.personalised(personalised("bac-ca"), KEY)
    plain = CallableTransceiver(chip.process)
    send(plain, CommandApdu(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("A0000002471001"))).check()
    channel = SecureMessagingTransceiver(plain, perform_bac(plain, KEY).secure_messaging())
    with pytest.raises(TerminalAuthenticationError) as refused:
        perform_ta(channel, EAC.terminal.credentials(), chip_identifier_after_bac(KEY), b"\x04" + bytes(64))
    assert refused.value.sw == 0x6985
    assert "before Chip Authentication" in chip.terminal_authentication.refusals[-1]


def test_a_pace_cam_chip_says_why_terminal_authentication_did_not_run():
    result, _ = read(EAC.terminal.credentials(), "pace-cam")
    assert not result.terminal_authentication.granted
    assert "version 2" in result.terminal_authentication.detail
    assert DG3 not in result.files


def test_the_fingers_from_the_chip_verify_a_live_finger_and_refuse_another():
    result, _ = read(EAC.terminal.credentials())
    stored = {r.position: iso19794_4.decode(r.record)[0].image for r in dg3.parse(result.files[DG3])}
    reference = minutiae.extract(stored[2], 2)
    live_same = minutiae.extract(finger_image(FINGER_SEEDS[2], 2), 2)
    live_other = minutiae.extract(finger_image(FINGER_SEEDS[7], 2), 2)
    assert compare.compare(reference, live_same).match
    assert not compare.compare(reference, live_other).match


def test_a_chip_without_fingers_is_not_asked_for_terminal_authentication():
    chip = personalise_chip(MRZ, synthetic_photo(5), PKI, profile=PROFILES["passport"])
    virtual = VirtualChip.personalised(chip, KEY)
    result = read_chip(virtual, KEY, files=(DG1, DG3), terminal=EAC.terminal.credentials())
    assert result.terminal_authentication.detail == "not run: EF.COM lists neither DG3 nor DG4"
    assert not any(command[1] == 0x2A for command, _ in virtual.log)  # no PSO:Verify Certificate was sent
