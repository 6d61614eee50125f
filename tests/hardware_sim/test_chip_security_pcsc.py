"""Modern chips through the real stack: VirtualChip -> VpcdCard -> vpcd ->
pcscd -> pyscard -> PcscTransceiver -> read_chip -> chip checks, for every
PACE protocol, every Chip Authentication protocol, the Active Authentication
keys, their combinations and the forgers' faults."""
from __future__ import annotations

import pytest

from drivers.devices import pcsc
from drivers.emrtd.checks import chip_checks
from drivers.emrtd.pace import all_protocols
from drivers.emrtd.passiveauth import verify
from drivers.emrtd.reader import AccessControlError, read_chip
from hardware_sim.chip import ChipFaults, VirtualChip
from hardware_sim.chip.personalise import personalise_chip
from hardware_sim.chip.security import PROFILES, ChipProfile
from hardware_sim.chip.vpcd import VpcdCard
from tests.hardware_sim.test_chip_security import KEY, MRZ, PHOTO, PKI, STORE

pytestmark = pytest.mark.pcsc

EVERY_PACE = [ChipProfile.build(bac=False, pace=[p.name]) for p in all_protocols()]
EVERY_CA = [ChipProfile.build(ca=name) for name in ("ECDH-3DES", "ECDH-AES-128", "ECDH-AES-192", "ECDH-AES-256",
                                                    "DH-3DES", "DH-AES-128", "DH-AES-192", "DH-AES-256")]
AA_KEYS = [ChipProfile.build(pace=["ECDH-GM-AES-128"], aa=key) for key in ("RSA-1024", "RSA-2048-SHA256",
                                                                           "ECDSA-P256")]
COMBINATIONS = [PROFILES[name] for name in ("bac", "passport", "pace-cam", "id-card", "bac-aa")] + [
    ChipProfile.build(pace=["ECDH-IM-AES-256:17", "DH-GM-3DES:0"], ca="DH-AES-128:2", aa="ECDSA-P384-SHA384")]


@pytest.fixture
def empty_reader(pcscd):
    yield pcscd


def read_through_pcscd(daemon, profile: ChipProfile, faults: ChipFaults = ChipFaults(), *, can: str | None = None,
                       extended_length: bool = True):
    chip = VirtualChip.personalised(personalise_chip(MRZ, PHOTO, PKI, profile=profile), KEY, faults=faults,
                                    extended_length=extended_length)
    try:
        with VpcdCard(chip, daemon.port):
            pcsc.wait_for_card(daemon.reader, timeout=5)
            with pcsc.PcscTransceiver(daemon.reader) as link:
                result = read_chip(link, None if can else KEY, can=can)
    finally:
        pcsc.wait_for_removal(daemon.reader, timeout=5)  # pcscd has seen the card leave: the next one is new
    return result, {c.name: c.status.value for c in chip_checks(result, STORE)}


def expected(profile: ChipProfile) -> dict[str, str]:
    return {"chip.access": "pass", "chip.card_security": "pass" if profile.pace else "not_done",
            "chip.ca": "pass" if profile.ca or profile.cam else "not_done",
            "chip.aa": "pass" if profile.aa else "not_done"}


@pytest.mark.parametrize("profile", EVERY_PACE + EVERY_CA + AA_KEYS + COMBINATIONS, ids=lambda p: p.describe())
def test_genuine_chips_pass_everything_they_offer(empty_reader, profile):
    result, checks = read_through_pcscd(empty_reader, profile)
    assert checks == expected(profile), [c for c in chip_checks(result, STORE) if not c.ok]
    assert result.access.method == ("PACE" if profile.pace else "BAC")
    assert verify(result.files, STORE, printed_mrz=MRZ).passed


def test_pace_with_the_can_through_pcscd(empty_reader):
    result, checks = read_through_pcscd(empty_reader, PROFILES["id-card"], can="123456")
    assert result.access.description.endswith("with the CAN") and checks["chip.ca"] == "pass"


def test_pace_over_short_apdus(empty_reader):
    result, checks = read_through_pcscd(empty_reader, PROFILES["pace-cam"], extended_length=False)
    assert not result.extended_length and checks["chip.access"] == checks["chip.ca"] == "pass"


@pytest.mark.parametrize("profile", ["passport", "pace-cam", "id-card", "bac-aa"])
def test_clones_fail_chip_and_active_authentication(empty_reader, profile):
    result, checks = read_through_pcscd(empty_reader, PROFILES[profile], ChipFaults(clone=True))
    offered = PROFILES[profile]
    assert checks["chip.ca"] == ("fail" if offered.ca or offered.cam else "not_done")
    assert checks["chip.aa"] == ("fail" if offered.aa else "not_done")
    assert verify(result.files, STORE).passed  # the data were copied intact


def test_wrong_pace_token_through_pcscd(empty_reader):
    _, checks = read_through_pcscd(empty_reader, PROFILES["passport"], ChipFaults(wrong_pace_token=True))
    assert checks["chip.access"] == "fail"
    with pytest.raises(AccessControlError, match="token does not verify"):
        read_through_pcscd(empty_reader, PROFILES["id-card"], ChipFaults(wrong_pace_token=True))
