"""Modern chips in process: the virtual chip offering every PACE protocol, Chip
and Active Authentication, read by read_chip and judged by the chip checks;
and the faults a forger's chip shows. The same chips through pcscd + vpcd are
in test_chip_security_pcsc.py."""
from __future__ import annotations

import datetime as dt

import pytest

from drivers.emrtd.checks import chip_checks
from drivers.emrtd.lds import cardaccess
from drivers.emrtd.pace import all_protocols
from drivers.emrtd.passiveauth import CscaStore, verify
from drivers.emrtd.reader import DG14, DG15, EF_CARD_ACCESS, EF_CARD_SECURITY, AccessControlError, read_chip
from drivers.mrz import generate_td1, generate_td3, parse
from hardware_sim.chip import ChipFaults, VirtualChip
from hardware_sim.chip.hosting import synthetic_photo
from hardware_sim.chip.personalise import personalise_chip
from hardware_sim.chip.security import PROFILES, ChipKeys, ChipProfile, make_keys
from hardware_sim.pki import make_test_pki

TODAY = dt.date.today()
MRZ = generate_td3(issuing_state="UTO", surname="MODERN", given_names="CHIP", document_number="M1234567",
                   nationality="UTO", birth_date=dt.date(1980, 6, 15), sex="F",
                   expiry_date=TODAY.replace(year=TODAY.year + 5))
KEY = parse(MRZ).bac_key_seed_input
PKI = make_test_pki("UTO")
PHOTO = synthetic_photo(4)


def store() -> CscaStore:
    trusted = CscaStore.from_certificates([PKI.csca.certificate])
    trusted.add_crl(PKI.crl)
    return trusted


STORE = store()


def read(profile: ChipProfile, *, faults: ChipFaults = ChipFaults(), mrz: str = MRZ, key: str | None = KEY,
         can: str | None = None, tamper=None, **chip_options):
    chip = personalise_chip(mrz, PHOTO, PKI, profile=profile)
    if tamper is not None:
        chip = tamper(chip)
    virtual = VirtualChip.personalised(chip, parse(mrz).bac_key_seed_input, faults=faults, **chip_options)
    result = read_chip(virtual, key, can=can)
    return result, {c.name: c for c in chip_checks(result, STORE)}, virtual


def statuses(checks) -> dict[str, str]:
    return {name: check.status.value for name, check in checks.items()}


# -- every PACE protocol -------------------------------------------------------------------------------------

PACE_CASES = [(p.name, 13 if p.agreement == "ECDH" else 0) for p in all_protocols()] + [
    ("ECDH-GM-AES-128", 12), ("ECDH-GM-AES-256", 18), ("ECDH-IM-AES-128", 16), ("ECDH-GM-3DES", 9),
    ("DH-GM-AES-128", 2), ("DH-IM-AES-256", 1), ("ECDH-CAM-AES-256", 17)]


@pytest.mark.parametrize("protocol, parameter_id", PACE_CASES, ids=[f"{p}:{i}" for p, i in PACE_CASES])
def test_every_pace_protocol_opens_a_pace_only_chip(protocol, parameter_id):
    result, checks, _ = read(ChipProfile.build(bac=False, pace=[f"{protocol}:{parameter_id}"]))
    assert result.ok and result.access.method == "PACE"
    assert checks["chip.access"].ok and protocol in checks["chip.access"].reason
    assert checks["chip.card_security"].ok
    assert checks["chip.ca"].ok is protocol.startswith("ECDH-CAM"), checks["chip.ca"]
    assert verify(result.files, STORE).passed


def test_pace_with_the_can_and_a_td1_identity_card():
    card = generate_td1(issuing_state="UTO", surname="CARD", given_names="ID", document_number="ID9876543",
                        nationality="UTO", birth_date=dt.date(1990, 1, 2), sex="M",
                        expiry_date=TODAY.replace(year=TODAY.year + 3))
    result, checks, _ = read(PROFILES["id-card"], mrz=card, key=None, can="123456")
    assert checks["chip.access"].reason.endswith("with the CAN") and checks["chip.ca"].ok
    result, checks, _ = read(PROFILES["id-card"], mrz=card, key=parse(card).bac_key_seed_input)
    assert checks["chip.access"].reason.endswith("with the MRZ")
    with pytest.raises(AccessControlError, match="PACE"):
        read(PROFILES["id-card"], mrz=card, key=None, can="654321")


def test_the_strongest_offer_is_chosen_and_the_parameter_reference_sent():
    profile = ChipProfile.build(pace=["DH-GM-3DES:0", "ECDH-IM-AES-128", "ECDH-GM-AES-256:12", "ECDH-GM-AES-128"])
    result, checks, chip = read(profile)
    assert result.access.description == "PACE ECDH-GM-AES-256 on secp256r1 with the MRZ"
    set_at = next(command for command, _ in chip.log if command[1:4] == b"\x22\xc1\xa4")
    assert b"\x84\x01\x0c" in set_at  # several offers: the domain parameter id is named
    assert len(result.access.offered) == 4


# -- Chip Authentication and Active Authentication ---------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["ECDH-3DES", "ECDH-AES-128", "ECDH-AES-192", "ECDH-AES-256", "DH-3DES:2",
                                      "DH-AES-128:0", "DH-AES-192:1", "DH-AES-256:2", "ECDH-AES-128:18"])
@pytest.mark.parametrize("access", ["BAC", "PACE"])
def test_every_chip_authentication_protocol(protocol, access):
    pace = ["ECDH-GM-AES-128"] if access == "PACE" else []
    result, checks, chip = read(ChipProfile.build(pace=pace, ca=protocol))
    assert checks["chip.ca"].ok, checks["chip.ca"]
    assert result.access.method == access and not result.chip_authentication.detail.startswith("the chip could")
    mse = [command[2:4] for command, _ in chip.log if command[1] == 0x22 and command[0] & 0x0C]
    assert mse == ([b"\x41\xa6"] if "3DES" in protocol else [b"\x41\xa4"])  # Set KAT for 3DES, Set AT for AES
    assert verify(result.files, STORE).passed  # the reads after CA went under the new keys


@pytest.mark.parametrize("key", ["RSA-1024", "RSA-1536-SHA224", "RSA-2048-SHA256", "ECDSA-P256",
                                 "ECDSA-BRAINPOOLP256R1-SHA256", "ECDSA-P384-SHA384"])
def test_every_active_authentication_key(key):
    result, checks, _ = read(ChipProfile.build(pace=["ECDH-GM-AES-128"], aa=key))
    assert checks["chip.aa"].ok, checks["chip.aa"]
    assert len(result.active_authentication.challenge) == 8


def test_a_full_passport():
    result, checks, _ = read(PROFILES["passport"])
    assert statuses(checks) == dict.fromkeys(checks, "pass")
    steps = [step.name for step in result.steps]
    assert steps.index("PACE") < steps.index("read EF.CardSecurity") < steps.index("read DG14") \
        < steps.index("chip authentication") < steps.index("read DG1") < steps.index("active authentication")


def test_a_chip_offering_nothing_has_the_clone_checks_not_done():
    _, checks, _ = read(PROFILES["bac"])
    assert statuses(checks) == {"chip.access": "pass", "chip.card_security": "not_done", "chip.ca": "not_done",
                                "chip.aa": "not_done"}


# -- forgers' chips -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["passport", "pace-cam", "id-card", "bac-aa"])
def test_a_clone_fails_what_its_original_offers_but_still_reads(profile):
    result, checks, _ = read(PROFILES[profile], faults=ChipFaults(clone=True))
    offered = PROFILES[profile]
    assert (checks["chip.ca"].status.value == "fail") is bool(offered.ca or offered.cam)
    assert (checks["chip.aa"].status.value == "fail") is bool(offered.aa)
    assert verify(result.files, STORE).passed  # the copied data are genuine: only the chip is not
    if offered.ca and not offered.cam:
        assert any(step.name.endswith("(again)") for step in result.steps)  # the session was opened again


def test_a_wrong_pace_token_fails_chip_access_or_the_read():
    result, checks, _ = read(PROFILES["passport"], faults=ChipFaults(wrong_pace_token=True))
    assert result.access.method == "BAC" and checks["chip.access"].status.value == "fail"
    assert "token does not verify" in checks["chip.access"].reason
    with pytest.raises(AccessControlError, match="PACE failed .*token does not verify.*BAC, tried instead"):
        read(PROFILES["id-card"], faults=ChipFaults(wrong_pace_token=True))


def _drop(file_id: int, master: bool = False):
    def tamper(chip):
        directory = dict(chip.master_files if master else chip.files)
        del directory[file_id]
        return type(chip)(chip.files if master else directory, directory if master else chip.master_files,
                          chip.keys, chip.profile)
    return tamper


def test_hiding_dg14_or_dg15_listed_in_the_sod_fails():
    _, checks, _ = read(PROFILES["passport"], tamper=_drop(DG14))
    assert checks["chip.ca"].status.value == "fail" and "SOD lists DG14" in checks["chip.ca"].reason
    _, checks, _ = read(PROFILES["passport"], tamper=_drop(DG15))
    assert checks["chip.aa"].status.value == "fail" and "SOD lists DG15" in checks["chip.aa"].reason


def test_hiding_ef_card_access_to_force_bac_fails_chip_access():
    result, checks, _ = read(PROFILES["passport"], tamper=_drop(EF_CARD_ACCESS, master=True))
    assert result.access.method == "BAC"
    assert checks["chip.access"].status.value == "fail" and "signed DG14 announces PACE" in checks["chip.access"].reason


def test_pace_cam_needs_ef_card_security():
    _, checks, _ = read(PROFILES["pace-cam"], tamper=_drop(EF_CARD_SECURITY, master=True))
    assert checks["chip.card_security"].status.value == "fail"
    assert checks["chip.ca"].ok  # the key is in DG14 too (signed through the SOD)


def test_card_access_offering_more_than_the_signed_card_security_fails():
    def add_offer(chip):
        master = dict(chip.master_files)
        master[EF_CARD_ACCESS] = cardaccess.encode_security_infos(
            [cardaccess.encode_pace_info("0.4.0.127.0.7.2.2.4.2.2", 13),
             cardaccess.encode_pace_info("0.4.0.127.0.7.2.2.4.2.1", 12)])
        return type(chip)(chip.files, master, chip.keys, chip.profile)

    _, checks, _ = read(PROFILES["passport"], tamper=add_offer)
    assert checks["chip.card_security"].status.value == "fail" and "4.2.1" in checks["chip.card_security"].reason


def test_card_security_from_an_untrusted_signer_fails_and_without_trust_is_not_done():
    other = make_test_pki("UTO")
    untrusted = CscaStore.from_certificates([other.csca.certificate])
    chip = personalise_chip(MRZ, PHOTO, PKI, profile=PROFILES["passport"])
    result = read_chip(VirtualChip.personalised(chip, KEY), KEY)
    assert {c.name: c.status.value for c in chip_checks(result, untrusted)}["chip.card_security"] == "fail"
    without = {c.name: c for c in chip_checks(result, None)}["chip.card_security"]
    assert without.status.value == "not_done" and "signature by" in without.reason


def test_a_chip_that_refuses_to_sign_fails_active_authentication():
    def forget_key(chip):
        return type(chip)(chip.files, chip.master_files, ChipKeys(chip.keys.ca_group, chip.keys.ca_private),
                          chip.profile)

    _, checks, _ = read(PROFILES["passport"], tamper=forget_key)
    assert checks["chip.aa"].status.value == "fail" and "did not sign" in checks["chip.aa"].reason


def test_reading_twice_without_a_power_cycle_starts_from_the_master_file():
    chip = personalise_chip(MRZ, PHOTO, PKI, profile=PROFILES["passport"])
    virtual = VirtualChip.personalised(chip, KEY)
    for _ in range(2):
        checks = {c.name: c for c in chip_checks(read_chip(virtual, KEY), STORE)}
        assert statuses(checks) == dict.fromkeys(checks, "pass")


def test_profiles_refuse_what_cannot_exist():
    with pytest.raises(ValueError, match="without BAC must offer PACE"):
        ChipProfile.build(bac=False)
    with pytest.raises(ValueError):
        ChipProfile.build(pace=["ECDH-IM-AES-128:10"])  # P-224 cannot do the integrated mapping
    with pytest.raises(ValueError, match="does not fit"):
        ChipProfile.build(ca="DH-AES-128:13")
    with pytest.raises(ValueError, match="RSA key sizes"):
        ChipProfile.build(aa="RSA-512")
    with pytest.raises(ValueError, match="six digits"):
        ChipProfile.build(pace=["ECDH-GM-AES-128"], can="12")
    assert make_keys(PROFILES["bac"]) == ChipKeys()
