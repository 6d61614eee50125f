"""PACE with explicit domain parameters, end to end: the virtual chip gives
its PACE group in a PACEDomainParameterInfo under a proprietary id, read_chip
runs PACE over it when it is a standardized group (naming the chip's id in
MSE:Set AT) and opens the chip with BAC, saying why, when it is not."""
from __future__ import annotations

import pytest

from drivers.emrtd.lds.cardaccess import PaceDomainParameterInfo, PaceInfo, parse_security_infos
from drivers.emrtd.pace import standard_group
from drivers.emrtd.reader import EF_CARD_ACCESS, AccessControlError
from hardware_sim.chip.security import ChipProfile, PaceOffer
from tests.hardware_sim.test_chip_security import _drop, read, statuses

NOT_KNOWN_SECURE = "explicit domain parameters that are not a standardized group: not known to be secure"


def set_at(chip) -> bytes:
    return next(command for command, _ in chip.log if command[1:4] == b"\x22\xc1\xa4")


@pytest.mark.parametrize("offer, group", [
    ("ECDH-GM-AES-128:13@32", "brainpoolP256r1"),
    ("ECDH-IM-AES-256:16@33", "brainpoolP384r1"),
    ("DH-GM-AES-128:2@40", "2048-bit MODP group with 256-bit subgroup"),
    ("DH-IM-3DES:0@41", "1024-bit MODP group with 160-bit subgroup"),
])
def test_standardized_explicit_parameters_open_the_chip_with_pace(offer, group):
    result, checks, chip = read(ChipProfile.build(bac=False, pace=[offer], ca="ECDH-AES-128"))
    parameter_id = PaceOffer.parse(offer).parameter_id
    assert result.access.description == (f"PACE {offer.split(':')[0]} on {group} (given explicitly, id "
                                         f"{parameter_id}) with the MRZ")
    assert set_at(chip).endswith(bytes([0x84, 0x01, parameter_id]))  # the chip's own, proprietary, id
    assert statuses(checks) == {"chip.access": "pass", "chip.card_security": "pass", "chip.ca": "pass",
                                "chip.aa": "not_done"}


def test_the_card_access_of_such_a_chip_pairs_the_pace_info_with_its_parameters():
    chip_profile = ChipProfile.build(pace=["ECDH-GM-AES-128:13@32", "ECDH-CAM-AES-128:13@32"])
    result, _, _ = read(chip_profile)
    infos = parse_security_infos(result.master_files[EF_CARD_ACCESS])
    assert {info.parameter_id for info in infos if isinstance(info, PaceInfo)} == {32}
    [domain] = [info for info in infos if isinstance(info, PaceDomainParameterInfo)]
    assert domain.parameter_id == 32 and domain.group() is standard_group(13)


def test_pace_cam_with_explicit_parameters_proves_the_chip_key_of_that_id():
    result, checks, chip = read(ChipProfile.build(pace=["ECDH-CAM-AES-128:13@32", "ECDH-GM-AES-128:13@32"]))
    assert result.access.pace.protocol.mapping == "CAM"
    assert checks["chip.ca"].ok and "key id 32" in checks["chip.ca"].reason
    assert set_at(chip).endswith(b"\x84\x01\x20")


def test_non_standard_explicit_parameters_are_refused_and_bac_opens_the_chip():
    result, checks, chip = read(ChipProfile.build(pace=["ECDH-GM-AES-128:13@32/other-generator"]))
    assert result.access.method == "BAC" and result.access.pace_failure is None
    assert result.access.pace_skipped == f"0.4.0.127.0.7.2.2.4.2.2: {NOT_KNOWN_SECURE}"
    assert checks["chip.access"].ok and NOT_KNOWN_SECURE in checks["chip.access"].reason
    assert not any(command[1:4] == b"\x22\xc1\xa4" for command, _ in chip.log)  # PACE never started


def test_hiding_ef_card_access_of_an_explicit_parameter_chip_fails_chip_access():
    result, checks, _ = read(ChipProfile.build(pace=["ECDH-GM-AES-128:13@32"]),
                             tamper=_drop(EF_CARD_ACCESS, master=True))
    assert result.access.method == "BAC"  # the signed DG14 holds the PACEDomainParameterInfo too
    assert checks["chip.access"].status.value == "fail" and "signed DG14 announces PACE" in checks["chip.access"].reason


def test_a_refused_explicit_offer_leaves_the_standardized_one():
    result, _, _ = read(ChipProfile.build(pace=["ECDH-GM-AES-256:13@32/other-generator", "ECDH-GM-AES-128:12"]))
    assert result.access.description == "PACE ECDH-GM-AES-128 on secp256r1 with the MRZ"


def test_a_pace_only_chip_with_non_standard_parameters_cannot_be_opened_and_says_why():
    with pytest.raises(AccessControlError, match=f"PACE not used .*{NOT_KNOWN_SECURE}.*BAC, tried instead, failed"):
        read(ChipProfile.build(bac=False, pace=["DH-GM-AES-128:2@40/other-generator"]))


def test_explicit_offers_are_checked_when_the_profile_is_built():
    assert str(PaceOffer.parse("ECDH-GM-AES-128:13@32/other-generator")) == "ECDH-GM-AES-128:13@32/other-generator"
    with pytest.raises(ValueError, match="proprietary id"):
        ChipProfile.build(pace=["ECDH-GM-AES-128:13@31"])
    with pytest.raises(ValueError, match="needs explicit parameters"):
        ChipProfile.build(pace=["ECDH-GM-AES-128:13/other-generator"])
    with pytest.raises(ValueError, match="must share its domain parameters"):
        ChipProfile.build(pace=["ECDH-GM-AES-128:13@32", "ECDH-GM-AES-256:12@32"])


def test_explicit_parameters_not_repeated_in_the_signed_card_security_fail_it():
    from drivers.emrtd.lds.cardaccess import encode_pace_domain_parameter_info, encode_pace_info, encode_security_infos
    from drivers.emrtd.lds.publickey import encode_domain_parameters

    def named_in_card_access(chip):
        # The same group, by name: PACE still runs over it, but these are not the bytes the issuer signed.
        master = dict(chip.master_files)
        master[EF_CARD_ACCESS] = encode_security_infos([
            encode_pace_info("0.4.0.127.0.7.2.2.4.2.2", 32),
            encode_pace_domain_parameter_info("0.4.0.127.0.7.2.2.4.2", encode_domain_parameters(
                standard_group(13), named=True), 32)])
        return type(chip)(chip.files, master, chip.keys, chip.profile)

    result, checks, _ = read(ChipProfile.build(pace=["ECDH-GM-AES-128:13@32"]), tamper=named_in_card_access)
    assert result.access.method == "PACE" and checks["chip.access"].ok
    assert checks["chip.card_security"].status.value == "fail"
    assert checks["chip.card_security"].reason.endswith("the signed EF.CardSecurity does not: domain parameters 32")
