"""`limes chip read`, `limes sim chip`, `limes pki make-test-pki` and `limes bench chip`
through the CLI; the chip ones against virtual chips on the real pcscd with vpcd."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drivers.devices import pcsc
from drivers.emrtd.lds import dg2
from drivers.emrtd.lds.files import fid
from drivers.mrz import parse
from hardware_sim.chip import ChipFaults, VirtualChip
from hardware_sim.chip.hosting import country_pki, personalise_document, running_pcscd_vpcd_port, synthetic_photo
from hardware_sim.chip.vpcd import VpcdCard
from limes.cli import main

MRZ = parse("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F3004157<<<<<<<<<<<<<<<4")
BAC_FIELDS = ["--document-number", "L898902C3", "--birth-date", "740812", "--expiry-date", "300415"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "face.jpg"
    path.write_bytes(synthetic_photo(20))
    return path


@pytest.fixture(scope="module")
def issuer(tmp_path_factory):
    """(directory, TestPki) of the issuing state, as `limes sim chip` makes it."""
    return country_pki(tmp_path_factory.mktemp("pki") / "UTO", "UTO")


@pytest.fixture
def reader(pcscd):
    yield pcscd
    pcsc.wait_for_removal(pcscd.reader, timeout=5)  # the next test starts with an empty reader


def trust(issuer) -> list[str]:
    directory, _ = issuer
    return ["--csca", str(directory / "csca.pem"), "--csca", str(directory / "crl.pem")]


def chip_read(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main(["chip", "read", *argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def checks(result: dict) -> dict[str, str]:
    return {c["name"]: c["status"] for c in result["passive_authentication"]["checks"]}


def card(daemon, files, faults: ChipFaults = ChipFaults()) -> VpcdCard:
    """A virtual chip for the reader, inserted by `with`."""
    return VpcdCard(VirtualChip(files, MRZ.bac_key_seed_input, faults=faults), daemon.port)


# -- limes chip read -------------------------------------------------------------------------------

@pytest.mark.pcsc
def test_chip_read_passes_a_genuine_chip(reader, photo, issuer, capsys, tmp_path):
    files = personalise_document(MRZ, photo.read_bytes(), issuer[1], [])
    with card(reader, files):
        code, result, _ = chip_read(capsys, *BAC_FIELDS, *trust(issuer), "--save-photo", str(tmp_path / "out.jpg"))
    assert code == 0 and result["verdict"] == "passed"
    assert result["reader"] == reader.reader  # the first reader, as none was named
    assert {name: f["status"] for name, f in result["files"].items()} == {
        "EF.COM": "ok", "DG1": "ok", "DG2": "ok", "DG7": "absent", "DG11": "ok", "DG12": "ok", "DG14": "absent",
        "DG15": "absent", "EF.SOD": "ok"}
    assert result["files"]["DG2"]["bytes"] == len(files[fid(2)])
    assert result["dg1"]["fields"]["document_number"] == "L898902C3"
    assert result["dg11"]["full_name"] == "ERIKSSON<<ANNA<MARIA"
    assert result["dg12"]["issuing_authority"] == "LIMES TEST AUTHORITY UTO"
    assert set(checks(result).values()) == {"pass", "not_done"}
    assert checks(result)["dg1.printed_mrz"] == "not_done"  # the only one: no printed MRZ given
    assert (tmp_path / "out.jpg").read_bytes() == dg2.parse(files[fid(2)]).faces[0].image


@pytest.mark.pcsc
@pytest.mark.parametrize("fault, check", [("altered_dg", "dg2.hash"), ("wrong_signer", "sod.signature"),
                                          ("expired_dsc", "dsc.validity"), ("revoked_dsc", "dsc.revocation")])
def test_chip_read_fails_a_faulty_chip(reader, photo, issuer, capsys, fault, check):
    with card(reader, personalise_document(MRZ, photo.read_bytes(), issuer[1], [fault])):
        code, result, _ = chip_read(capsys, "--reader", reader.reader, *BAC_FIELDS, *trust(issuer))
    assert code == 1 and result["verdict"] == "failed"
    assert [name for name, status in checks(result).items() if status == "fail"] == [check]


@pytest.mark.pcsc
def test_chip_read_with_wrong_bac_data(reader, photo, issuer, capsys):
    with card(reader, personalise_document(MRZ, photo.read_bytes(), issuer[1], [])):
        code, result, err = chip_read(capsys, "--document-number", "L898902C3", "--birth-date", "740813",
                                      "--expiry-date", "300415")
    assert code == 2
    assert "refused Basic Access Control" in result["error"]
    assert "check the document number, birth date and expiry date" in err


@pytest.mark.pcsc
def test_chip_read_when_the_card_leaves_mid_read(reader, photo, issuer, capsys):
    files = personalise_document(MRZ, photo.read_bytes(), issuer[1], [])
    with card(reader, files, ChipFaults(remove_after_reads=4)):
        code, result, _ = chip_read(capsys, *BAC_FIELDS)
    assert code == 1 and result["verdict"] == "failed"
    assert result["error"].startswith("the read broke off at 'read DG")
    assert result["files"]["EF.COM"]["status"] == "ok"


@pytest.mark.pcsc
def test_chip_read_with_no_card_or_an_unknown_reader(reader, capsys):
    code, result, _ = chip_read(capsys, *BAC_FIELDS, "--wait", "0.3")
    assert code == 2 and "no card in" in result["error"]
    code, result, _ = chip_read(capsys, *BAC_FIELDS, "--reader", "No Such Reader")
    assert code == 2 and "no reader named 'No Such Reader'" in result["error"] and reader.reader in result["error"]


# -- limes sim chip, read by limes chip read ------------------------------------------------------

def read_json(stream) -> dict:
    """The first JSON document on a stream that stays open (the command keeps running)."""
    text = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        text += line
        if line.rstrip() == "}":
            return json.loads(text)
    raise AssertionError(f"no JSON from the command: {text!r}")


@pytest.mark.pcsc
def test_sim_chip_serves_a_chip_that_chip_read_reads(reader, photo, tmp_path, capsys):
    """The simulator in its own process, on the pcscd already running (the fixture's), with a fault."""
    pki_dir = tmp_path / "pki"
    env = {**os.environ, "LIMES_VAR_DIR": str(tmp_path / "var")}
    command = [sys.executable, "-m", "limes", "sim", "chip", "--mrz", "\n".join(MRZ.lines), "--photo", str(photo),
               "--country-pki", str(pki_dir), "--fault", "revoked_dsc", "--seconds", "120", "--json"]
    simulator = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                 cwd=ROOT)
    try:
        info = read_json(simulator.stdout)
        assert info["reader"] == reader.reader and info["vpcd_port"] == reader.port
        assert info["pcscd"]["started"] is False
        assert (info["document_number"], info["birth_date"], info["expiry_date"]) == ("L898902C3", "740812", "300415")
        assert info["csca"] == str(pki_dir / "csca.pem") and info["faults"] == ["revoked_dsc"]
        code, result, _ = chip_read(capsys, "--reader", info["reader"], *BAC_FIELDS,
                                    "--csca", info["csca"], "--csca", info["crl"])
        assert code == 1
        assert [name for name, status in checks(result).items() if status == "fail"] == ["dsc.revocation"]
    finally:
        simulator.send_signal(signal.SIGINT)  # Ctrl-C: the card leaves, the command ends normally
        assert simulator.wait(timeout=30) == 0


def test_sim_chip_refuses_a_bad_mrz(photo, capsys):
    code = main(["sim", "chip", "--mrz", "P<UTOERIKSSON<<ANNA", "--photo", str(photo), "--json"])
    assert code == 2
    assert json.loads(capsys.readouterr().out)["error"].startswith("--mrz")


def test_vpcd_port_of_a_running_pcscd_from_its_configuration(tmp_path, monkeypatch):
    config = tmp_path / "conf"
    config.mkdir()
    (config / "vpcd").write_text('FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x8C7B\n'
                                 "LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0x8C7B\n")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "--config", str(config)])
    try:
        assert running_pcscd_vpcd_port(sleeper.pid) == (0x8C7B, "Virtual PCD")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert running_pcscd_vpcd_port(sleeper.pid) is None  # gone


# -- limes pki make-test-pki ----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["ecdsa-p256", "ecdsa-brainpool-explicit"])
def test_make_test_pki_then_import_its_master_list(tmp_path, capsys, key):
    assert main(["pki", "make-test-pki", "--country", "UTO", "--key", key, str(tmp_path / "pki"), "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert {"csca.pem", "crl.pem", "dsc.pem", "masterlist.ml", "pki.json"} <= set(made["files"])
    assert main(["pki", "import-master-list", made["master_list"], "--store", str(tmp_path / "csca"),
                 "--trust-list-issuer", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 1

    assert main(["pki", "make-test-pki", "--country", "UTO", str(tmp_path / "pki"), "--json"]) == 2  # not empty
    assert "not an empty folder" in json.loads(capsys.readouterr().out)["error"]
    assert main(["pki", "make-test-pki", "--country", "QQQ", str(tmp_path / "other"), "--json"]) == 2
    assert "not an ICAO state code" in json.loads(capsys.readouterr().out)["error"]
    assert not (tmp_path / "other").exists()


# -- limes bench chip ---------------------------------------------------------------------------------------

@pytest.mark.pcsc
def test_bench_chip_reports_both_transports(reader, capsys):
    assert main(["bench", "chip", "--reads", "3", "--photo-kb", "10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["reads"] == 3 and result["target_p95_ms"] == 300
    assert 9000 <= result["photo_bytes"] <= 11000
    for name, transport in result["transports"].items():
        assert set(transport["total_ms"]) == {"count", "p50", "p95", "p99", "mean", "max"}
        assert isinstance(transport["meets_target"], bool)
        steps = set(transport["steps_ms"])
        assert {"basic access control", "read DG2", "read DG11", "read DG12", "read EF.SOD",
                "passive authentication"} <= steps
        assert ("connect" in steps) == (name == "pcsc")
    assert result["transports"]["pcsc"]["reader"] == reader.reader
    for key in ("date", "uname", "command", "files_bytes"):
        assert key in result


def test_sim_chip_fingers_makes_dg3_and_the_terminal_that_may_read_it(tmp_path):
    import argparse

    from drivers.emrtd.terminalauth.protocol import TerminalCredentials
    from limes.commands.sim import _chip_fingers

    fingers, cvca = _chip_fingers(argparse.Namespace(fingers="9101,9102", eac=tmp_path / "eac"))
    assert [position for position, _ in fingers] == [2, 7] and fingers[0][1].dtype.name == "uint8"
    terminal = TerminalCredentials.load(tmp_path / "eac")
    assert terminal.trust_anchor == cvca.holder
    assert (tmp_path / "eac" / "terminal.key.pem").stat().st_mode & 0o077 == 0
    assert _chip_fingers(argparse.Namespace(fingers=None, eac=None)) == ([], None)
    for wrong in ("a,b", "1,2,3"):
        with pytest.raises(ValueError, match="--fingers"):
            _chip_fingers(argparse.Namespace(fingers=wrong, eac=tmp_path / "other"))
