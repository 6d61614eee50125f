"""`limes chip fingers`: its work (verify_chip_fingers) on the virtual chip, and its argument errors."""
from __future__ import annotations

import datetime as dt
import functools
import json

import pytest

from drivers.mrz import generate_td3, parse
from hardware_sim.chip import VirtualChip
from hardware_sim.chip.hosting import synthetic_photo
from hardware_sim.chip.personalise import personalise_chip
from hardware_sim.chip.security import PROFILES
from hardware_sim.eac_pki import make_test_eac_pki
from hardware_sim.fingerprint_scanner import finger_image
from hardware_sim.pki import make_test_pki
from limes.cli import main
from limes.commands.chip_fingers import verify_chip_fingers

TODAY = dt.date.today()
MRZ = generate_td3(issuing_state="UTO", surname="ARCH", given_names="LOOP", document_number="W7654321",
                   nationality="UTO", birth_date=dt.date(1979, 9, 9), sex="F",
                   expiry_date=TODAY.replace(year=TODAY.year + 4))
KEY = parse(MRZ).bac_key_seed_input
EAC = make_test_eac_pki("UTO", today=TODAY)


@functools.cache
def chip_files():
    return personalise_chip(MRZ, synthetic_photo(6), make_test_pki("UTO"), profile=PROFILES["passport"],
                            fingers=[(2, finger_image(9301, 1)), (7, finger_image(9302, 1))], cvca=EAC.cvca)


def verify(terminal, live, position=None):
    return verify_chip_fingers(VirtualChip.personalised(chip_files(), KEY), KEY, None, terminal, live, position)


def test_the_same_finger_matches_and_another_does_not():
    same = verify(EAC.terminal.credentials(), finger_image(9301, 2))
    assert same["terminal_authentication"]["granted"] and same["fingers"] == [2, 7]
    assert same["comparison"]["position"] == 2 and same["comparison"]["match"], same
    other = verify(EAC.terminal.credentials(), finger_image(9401, 2))
    assert not other["comparison"]["match"]
    left = verify(EAC.terminal.credentials(), finger_image(9302, 2), position=7)
    assert left["comparison"]["position"] == 7


def test_a_refused_terminal_gets_no_fingers_and_says_why():
    result = verify(EAC.wrong_terminals()["expired"].credentials(), finger_image(9301, 2))
    assert not result["terminal_authentication"]["granted"]
    assert "comparison" not in result and result["error"].startswith("no DG3")


def test_a_position_the_chip_lacks_is_named():
    result = verify(EAC.terminal.credentials(), finger_image(9301, 2), position=5)
    assert result["error"] == "the chip holds no finger at position 5"


def test_unreadable_credentials_are_a_usage_error(tmp_path, capsys):
    image = tmp_path / "finger.png"
    image.write_bytes(b"not an image")
    code = main(["chip", "fingers", "--document-number", "W7654321", "--birth-date", "790909", "--expiry-date",
                 "301231", "--terminal", str(tmp_path), "--finger", str(image), "--json"])
    assert code == 2
    assert "--terminal" in json.loads(capsys.readouterr().out)["error"]


@pytest.mark.parametrize("argv", [["--finger", "x.png"], ["--terminal", "eac"]])
def test_terminal_and_a_live_finger_are_both_required(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["chip", "fingers", *argv])
    assert exited.value.code == 2
