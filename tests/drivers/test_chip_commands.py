"""`limes pki import-master-list`, `limes chip read`'s argument checks, and the
report behind `chip read` over an in-memory chip (the PC/SC path is tested in
tests/hardware_sim/test_sim_commands.py)."""
from __future__ import annotations

import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from drivers.emrtd.lds import dg2
from drivers.emrtd.lds.files import fid
from drivers.emrtd.passiveauth import CscaStore
from drivers.emrtd.reader import read_chip
from hardware_sim.chip import VirtualChip
from hardware_sim.chip.hosting import synthetic_photo
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import make_test_pki, roll_over
from limes.cli import main
from limes.commands.chip import describe_read

MRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
BAC_FIELDS = ["--document-number", "L898902C3", "--birth-date", "740812", "--expiry-date", "120415"]


@pytest.fixture(scope="module")
def pki():
    return make_test_pki("UTO")


@pytest.fixture(scope="module")
def files(pki):
    return personalise(MRZ, synthetic_photo(8), pki, dg11={"full_name": "ERIKSSON<<ANNA<MARIA"})


def chip_key() -> str:
    from drivers.mrz import parse

    return parse(MRZ).bac_key_seed_input


def run(capsys, *argv: str) -> tuple[int, dict, str]:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


# -- import-master-list ----------------------------------------------------------------

def test_import_master_list_stores_each_csca_once(tmp_path, pki, capsys):
    (tmp_path / "list.ml").write_bytes(pki.master_list)
    store = tmp_path / "csca"
    code, result, _ = run(capsys, "pki", "import-master-list", str(tmp_path / "list.ml"), "--store", str(store),
                          "--trust-list-issuer")
    assert code == 0
    assert (result["imported"], result["listed"], result["added"], result["already_present"]) == (True, 1, 1, 0)
    [written] = result["written"]
    assert x509.load_pem_x509_certificate(open(written, "rb").read()) == pki.csca.certificate

    # The stored CSCA now vouches for the list's signer: no bootstrap flag needed, nothing new.
    code, result, _ = run(capsys, "pki", "import-master-list", str(tmp_path / "list.ml"), "--store", str(store))
    assert code == 0
    assert (result["added"], result["already_present"], result["written"]) == (0, 1, [])
    assert len(list(store.iterdir())) == 1


def test_import_master_list_wants_a_trusted_issuer(tmp_path, pki, capsys):
    (tmp_path / "list.ml").write_bytes(pki.master_list)
    code, result, _ = run(capsys, "pki", "import-master-list", str(tmp_path / "list.ml"),
                          "--store", str(tmp_path / "csca"))
    assert code == 1
    assert not result["imported"]
    assert "not issued by a trusted CSCA" in result["reason"] and "--trust-list-issuer" in result["reason"]
    assert not (tmp_path / "csca").exists()


def test_import_master_list_refuses_a_tampered_list(tmp_path, pki, capsys):
    csca = pki.csca.certificate.public_bytes(Encoding.DER)
    data = bytearray(pki.master_list)
    at = bytes(data).index(csca) + len(csca) - 5  # inside the listed CSCA's signature: content changed
    data[at] ^= 0x01
    (tmp_path / "list.ml").write_bytes(bytes(data))
    code, result, _ = run(capsys, "pki", "import-master-list", str(tmp_path / "list.ml"),
                          "--store", str(tmp_path / "csca"), "--trust-list-issuer")
    assert code == 1
    assert result["reason"].startswith("master list signature invalid")
    assert not (tmp_path / "csca").exists()


def test_import_master_list_of_a_missing_file(tmp_path, capsys):
    code, result, err = run(capsys, "pki", "import-master-list", str(tmp_path / "nothing.ml"))
    assert code == 2
    assert "cannot read" in result["error"] and "cannot read" in err


def test_import_master_list_into_a_store_with_a_bad_file(tmp_path, pki, capsys):
    (tmp_path / "list.ml").write_bytes(pki.master_list)
    (tmp_path / "csca").mkdir()
    (tmp_path / "csca" / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    code, result, _ = run(capsys, "pki", "import-master-list", str(tmp_path / "list.ml"),
                          "--store", str(tmp_path / "csca"), "--trust-list-issuer")
    assert code == 2
    assert result["error"].startswith(f"store {tmp_path / 'csca'}")


# -- chip read: arguments refused before any reader is touched ----------------------------

@pytest.mark.parametrize("fields, expected", [
    (["--document-number", "L89 8902", "--birth-date", "740812", "--expiry-date", "120415"], "--document-number"),
    (["--document-number", "L898902C3", "--birth-date", "1974-08-12", "--expiry-date", "120415"], "--birth-date"),
    (["--document-number", "L898902C3", "--birth-date", "740812", "--expiry-date", "12041"], "--expiry-date"),
])
def test_chip_read_refuses_bad_bac_fields(capsys, fields, expected):
    code, result, err = run(capsys, "chip", "read", *fields)
    assert code == 2
    assert expected in result["error"] and expected in err


def test_chip_read_refuses_a_missing_csca(tmp_path, capsys):
    code, result, _ = run(capsys, "chip", "read", *BAC_FIELDS, "--csca", str(tmp_path / "none.pem"))
    assert code == 2
    assert result["error"].startswith("--csca") and "none.pem" in result["error"]


def test_chip_read_refuses_a_csca_folder_without_cscas(tmp_path, capsys):
    code, result, _ = run(capsys, "chip", "read", *BAC_FIELDS, "--csca", str(tmp_path))
    assert code == 2
    assert "no CSCA certificate found" in result["error"]


# -- the report behind chip read, over the in-memory chip --------------------------------------

def test_describe_read_of_a_genuine_chip(files, pki, tmp_path):
    read = read_chip(VirtualChip(files, chip_key()), chip_key(), files=[fid(n) for n in (1, 2, 7, 11, 12)])
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(pki.crl)
    result = describe_read(read, store, save_photo=tmp_path / "face.jpg")
    assert result["verdict"] == "passed"
    assert result["files"]["DG7"]["status"] == "absent" and "bytes" not in result["files"]["DG7"]
    assert result["files"]["DG2"]["bytes"] == len(files[fid(2)])
    assert result["dg1"]["fields"]["surname"] == "ERIKSSON"
    assert result["dg11"] == {"full_name": "ERIKSSON<<ANNA<MARIA"}
    assert "dg12" not in result
    assert (tmp_path / "face.jpg").read_bytes() == dg2.parse(files[fid(2)]).faces[0].image
    statuses = {c["name"]: c["status"] for c in result["passive_authentication"]["checks"]}
    assert statuses["dsc.chain"] == statuses["dsc.revocation"] == statuses["dg11.hash"] == "pass"


def test_describe_read_without_trusted_cscas_is_incomplete(files):
    read = read_chip(VirtualChip(files, chip_key()), chip_key())
    result = describe_read(read, None)
    assert result["verdict"] == "incomplete"
    chain = next(c for c in result["passive_authentication"]["checks"] if c["name"] == "dsc.chain")
    assert chain["status"] == "not_done" and "--csca" in chain["reason"]


def test_describe_read_of_an_altered_chip_fails(pki):
    altered = personalise(MRZ, synthetic_photo(8), pki, faults=["altered_dg"])
    read = read_chip(VirtualChip(altered, chip_key()), chip_key())
    result = describe_read(read, CscaStore.from_certificates([pki.csca.certificate]))
    assert result["verdict"] == "failed"
    assert {"name": "dg2.hash", "status": "fail", "reason": "DG2 does not match its hash in the SOD"} in \
        result["passive_authentication"]["checks"]


def test_save_photo_without_dg2_is_a_problem(files, tmp_path):
    without_photo = {k: v for k, v in files.items() if k != fid(2)}
    read = read_chip(VirtualChip(without_photo, chip_key()), chip_key())
    result = describe_read(read, None, save_photo=tmp_path / "face.jpg")
    assert result["files"]["DG2"]["status"] == "absent"
    assert result["verdict"] == "failed" and result["problems"] == ["no photo saved: DG2 was not read"]
    assert not (tmp_path / "face.jpg").exists()


# -- import-master-list: per-entry report, --strict, atomic writes; pki list ----------------------

def _faulty_list(pki, fault="no-basic-constraints"):
    from drivers.emrtd.passiveauth.masterlist import MASTER_LIST_OID, encode_content
    from hardware_sim.pki import faulty_csca, sign_cms

    dsc = pki.dsc.certificate.public_bytes(Encoding.DER)
    return sign_cms(MASTER_LIST_OID, encode_content([faulty_csca(pki.csca, fault), dsc]), pki.master_list_signer)


def test_import_reports_every_entry_and_keeps_a_deviating_csca_trusted(tmp_path, pki, capsys):
    (tmp_path / "list.ml").write_bytes(_faulty_list(pki))
    store = tmp_path / "csca"
    code, result, _ = run(capsys, "pki", "import-master-list", str(tmp_path / "list.ml"), "--store", str(store),
                          "--trust-list-issuer")
    assert code == 0
    deviating, refused = result["entries"]
    assert deviating["status"] == "accepted-with-deviation" and deviating["country"] == "UT"
    assert deviating["deviations"] == ["no basicConstraints extension"] and len(deviating["sha256"]) == 64
    assert refused["status"] == "refused" and "end-entity" in refused["reason"]
    assert (result["added"], result["deviating"], result["unusable"]) == (1, 1, 1)
    # the store loads the deviating CSCA again (it was accepted once), and pki list shows it
    code, listed, _ = run(capsys, "pki", "list", "--store", str(store), "--country", "UTO")
    assert code == 0 and listed["count"] == 1
    assert listed["cscas"][0]["deviations"] == ["no basicConstraints extension"] and listed["cscas"][0]["valid_now"]
    code, result, _ = run(capsys, "pki", "import-master-list", str(tmp_path / "list.ml"), "--store", str(store))
    assert code == 0 and result["entries"][0]["status"] == "duplicate"
    code, listed, _ = run(capsys, "pki", "list", "--store", str(store), "--country", "DE")
    assert listed["count"] == 0


def test_import_text_output_names_refused_and_deviating_entries(tmp_path, pki, capsys):
    (tmp_path / "list.ml").write_bytes(_faulty_list(pki, "serial-negative"))
    code = main(["pki", "import-master-list", str(tmp_path / "list.ml"), "--store", str(tmp_path / "csca"),
                 "--trust-list-issuer"])
    out = capsys.readouterr().out
    assert code == 0
    assert "accepted-with-deviation" in out and "is not positive" in out
    assert "refused" in out and "end-entity" in out


def test_import_strict_refuses_the_deviating_csca(tmp_path, pki, capsys):
    store = tmp_path / "csca"
    store.mkdir()
    (store / "csca.pem").write_bytes(pki.csca.certificate.public_bytes(Encoding.PEM))
    other = make_test_pki("D")
    from drivers.emrtd.passiveauth.masterlist import MASTER_LIST_OID, encode_content
    from hardware_sim.pki import faulty_csca, sign_cms

    (tmp_path / "list.ml").write_bytes(sign_cms(MASTER_LIST_OID, encode_content(
        [faulty_csca(other.csca, "ca-false")]), pki.master_list_signer))
    code, result, _ = run(capsys, "pki", "import-master-list", str(tmp_path / "list.ml"), "--store", str(store),
                          "--strict")
    assert code == 0
    assert result["entries"][0]["status"] == "refused" and "cA=FALSE" in result["entries"][0]["reason"]
    assert result["written"] == [] and [p.name for p in store.iterdir()] == ["csca.pem"]


def test_a_failed_write_leaves_the_store_as_it_was(tmp_path, pki, monkeypatch):
    from limes.commands import pki as pki_command

    rollover_list = roll_over(pki).master_list
    store = tmp_path / "csca"
    calls = []
    real_fdopen = pki_command.os.fdopen

    def failing_fdopen(handle, mode):
        calls.append(handle)
        if len(calls) == 3:  # the third of four files: the disk is full
            pki_command.os.close(handle)
            raise OSError(28, "No space left on device")
        return real_fdopen(handle, mode)

    monkeypatch.setattr(pki_command.os, "fdopen", failing_fdopen)
    with pytest.raises(OSError, match="No space"):
        pki_command.import_master_list(rollover_list, store, trust_list_issuer=True)
    assert list(store.iterdir()) == []  # no temporary file, no certificate
