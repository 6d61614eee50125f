"""The chip commands with modern chips: `limes chip read` (PACE, --can, chip
checks) against virtual chips on pcscd + vpcd, the chip options of `limes sim
chip`, and the modern passport of `limes bench chip`."""
from __future__ import annotations

import argparse
import json

import pytest

from drivers.devices import pcsc
from hardware_sim.chip import ChipFaults, VirtualChip
from hardware_sim.chip.hosting import country_pki, synthetic_photo
from hardware_sim.chip.personalise import personalise_chip
from hardware_sim.chip.security import PROFILES
from hardware_sim.chip.vpcd import VpcdCard
from limes.cli import main
from limes.commands.sim import chip_profile
from tests.hardware_sim.test_chip_security import KEY, MRZ

BAC_FIELDS = ["--document-number", "M1234567", "--birth-date", "800615",
              "--expiry-date", MRZ.splitlines()[1][21:27]]


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    return country_pki(tmp_path_factory.mktemp("pki") / "UTO", "UTO")


def chip_read(capsys, daemon, profile: str, *argv: str, faults: ChipFaults = ChipFaults(), issuer=None):
    directory, pki = issuer
    chip = VirtualChip.personalised(personalise_chip(MRZ, synthetic_photo(6), pki, profile=PROFILES[profile]),
                                    KEY, faults=faults)
    try:
        with VpcdCard(chip, daemon.port):
            pcsc.wait_for_card(daemon.reader, timeout=5)
            code = main(["chip", "read", "--reader", daemon.reader, *argv, "--csca", str(directory / "csca.pem"),
                         "--csca", str(directory / "crl.pem"), "--json"])
    finally:
        pcsc.wait_for_removal(daemon.reader, timeout=5)
    out = capsys.readouterr().out
    return code, json.loads(out)


def chip_checks(result: dict) -> dict[str, str]:
    return {c["name"]: c["status"] for c in result["chip_checks"]}


@pytest.mark.pcsc
def test_chip_read_of_a_modern_passport(capsys, pcscd, issuer):
    code, result = chip_read(capsys, pcscd, "passport", *BAC_FIELDS, issuer=issuer)
    assert code == 0 and result["verdict"] == "passed"
    assert result["access"]["method"] == "PACE" and result["access"]["offered"] == ["ECDH-GM-AES-128 (id 13)"]
    assert set(chip_checks(result).values()) == {"pass"}
    assert result["master_files"]["EF.CardSecurity"]["bytes"] > 0 and result["files"]["DG15"]["status"] == "ok"


@pytest.mark.pcsc
def test_chip_read_of_a_clone_fails(capsys, pcscd, issuer):
    code, result = chip_read(capsys, pcscd, "passport", *BAC_FIELDS, faults=ChipFaults(clone=True), issuer=issuer)
    assert code == 1 and result["verdict"] == "failed"
    assert chip_checks(result)["chip.ca"] == chip_checks(result)["chip.aa"] == "fail"


@pytest.mark.pcsc
def test_chip_read_of_an_identity_card_with_the_can_alone(capsys, pcscd, issuer):
    code, result = chip_read(capsys, pcscd, "id-card", "--can", "123456", issuer=issuer)
    assert code == 0 and result["access"]["description"].endswith("with the CAN")


def test_chip_read_refuses_a_bad_can_or_no_password(capsys):
    assert main(["chip", "read", "--can", "12345", "--json"]) == 2
    assert "six digits" in json.loads(capsys.readouterr().out)["error"]
    assert main(["chip", "read", "--document-number", "M1234567", "--json"]) == 2
    assert "--can" in json.loads(capsys.readouterr().out)["error"]


def _sim_args(**options) -> argparse.Namespace:
    defaults = {"profile": "bac", "pace": None, "no_bac": False, "ca": None, "aa": None, "can": None}
    return argparse.Namespace(**(defaults | options))


def test_sim_chip_options_change_the_named_profile():
    assert chip_profile(_sim_args()) == PROFILES["bac"]
    passport = chip_profile(_sim_args(profile="passport", aa="none", ca="DH-3DES:0"))
    assert (passport.aa, passport.ca, [str(o) for o in passport.pace]) == (None, "DH-3DES:0", ["ECDH-GM-AES-128:13"])
    pace_only = chip_profile(_sim_args(pace=["ECDH-IM-AES-256:16", "DH-GM-3DES:0"], no_bac=True, can="000111"))
    assert not pace_only.bac and len(pace_only.pace) == 2 and pace_only.can == "000111"
    with pytest.raises(ValueError, match="no PACE protocol named"):
        chip_profile(_sim_args(pace=["ECDH-XX-AES-128"]))


def test_sim_chip_refuses_an_impossible_chip_before_touching_pcscd(capsys, tmp_path):
    photo = tmp_path / "face.jpg"
    photo.write_bytes(synthetic_photo(4))
    code = main(["sim", "chip", "--mrz", MRZ, "--photo", str(photo), "--no-bac", "--json"])
    assert code == 2 and "without BAC must offer PACE" in json.loads(capsys.readouterr().out)["error"]
    code = main(["sim", "chip", "--mrz", MRZ, "--photo", str(photo), "--ca", "ECDH-AES-128:0", "--json"])
    assert code == 2 and "does not fit" in json.loads(capsys.readouterr().out)["error"]


@pytest.mark.pcsc
def test_bench_chip_reports_the_modern_passport_beside_bac(pcscd, capsys):
    pcsc.wait_for_removal(pcscd.reader, timeout=5)
    assert main(["bench", "chip", "--reads", "2", "--photo-kb", "6", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    modern = result["modern"]
    assert modern["target_p95_ms"] == 400 and modern["chip"].startswith("BAC, PACE ECDH-GM-AES-128")
    for transport in modern["transports"].values():
        assert {"PACE", "read EF.CardSecurity", "chip authentication", "active authentication",
                "passive authentication", "chip checks"} <= set(transport["steps_ms"])
        assert isinstance(transport["meets_target"], bool)
    assert "basic access control" in result["transports"]["in_process"]["steps_ms"]
