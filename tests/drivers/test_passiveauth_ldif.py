"""`limes pki import-ldif`: the ICAO PKD's LDIF downloads (master lists, DSCs, CRLs) made with the
test PKI in the PKD's layout; hostile files end in an LdifError or a per-entry refusal and leave the
store untouched."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.checks import CheckStatus
from drivers.emrtd import tlv
from drivers.emrtd.lds import sod as sod_file
from drivers.emrtd.lds.cms import parse_signed_data
from drivers.emrtd.lds.files import EF_SOD
from drivers.emrtd.passiveauth import CscaStore, pkdldif
from drivers.emrtd.passiveauth.pkdldif import LdifError
from drivers.emrtd.passiveauth.verify import verify
from hardware_sim.pki import make_test_pki, pkd_ldif, sign_cms
from limes.commands.pki import import_ldif

NOW = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
PKI = make_test_pki("UTO", now=NOW)
OTHER = make_test_pki("D", now=NOW)


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())} if directory.exists() else {}


def test_pkd_layout_is_read_as_master_lists_dscs_and_crls():
    read = list(pkdldif.read(pkd_ldif([PKI])))
    assert [kind for _dn, kind, _value in read] == ["master-list", "dsc", "dsc", "dsc", "crl"]
    assert [next(p for p in ("o=ml,", "o=dsc,", "o=crl,") if p in dn) for dn, _k, _v in read] == (
        ["o=ml,"] + ["o=dsc,"] * 3 + ["o=crl,"])


def test_import_bootstraps_from_a_trusted_csca_and_writes_everything(tmp_path):
    store_dir = tmp_path / "csca"
    store_dir.mkdir()
    (store_dir / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    result = import_ldif(pkd_ldif([PKI]), store_dir, at=NOW)
    statuses = [(e["kind"], e["status"]) for e in result["entries"]]
    assert statuses == [("master-list", "accepted"), ("dsc", "accepted"), ("dsc", "accepted"),
                        ("dsc", "accepted"), ("crl", "accepted")]
    assert result["refused"] == 0
    store = CscaStore()
    store.load_dir(store_dir)
    assert len(store.dscs) == 3 and len(store.crls) == 1
    # a second import adds nothing and writes nothing
    again = import_ldif(pkd_ldif([PKI]), store_dir, at=NOW)
    assert again["written"] == [] and {e["status"] for e in again["entries"][1:]} == {"duplicate"}


def test_a_dsc_of_an_untrusted_state_is_refused_per_entry(tmp_path):
    result = import_ldif(pkd_ldif([OTHER], master_lists=False), tmp_path / "csca", at=NOW)
    assert {e["status"] for e in result["entries"]} == {"refused"}
    assert "not issued by a CSCA in the store" in result["entries"][0]["reason"]
    assert not any(name.endswith(".dsc") for name in files_of(tmp_path / "csca"))


def test_dscs_imported_from_ldif_are_found_by_issuer_and_serial():
    store = CscaStore.from_certificates([PKI.csca.certificate])
    pkdldif.import_into(store, pkd_ldif([PKI], master_lists=False), at=NOW)
    dsc = store.find_dsc((PKI.dsc.certificate.issuer.public_bytes(), PKI.dsc.certificate.serial_number))
    assert dsc is not None and dsc.serial_number == PKI.dsc.certificate.serial_number


@pytest.mark.parametrize("data, message", [
    (b"dn: cn=x\nuserCertificate;binary:: !!!notbase64\n", "not a readable LDIF"),
    (b"\x00\xff garbage", "not a readable LDIF"),
])
def test_unreadable_ldif_is_refused_as_a_whole(tmp_path, data, message):
    with pytest.raises(LdifError, match=message):
        import_ldif(data, tmp_path / "csca", at=NOW)
    assert files_of(tmp_path / "csca") == {}


def test_truncated_ldif_leaves_the_store_untouched(tmp_path):
    data = pkd_ldif([PKI])
    store_dir = tmp_path / "csca"
    try:
        result = import_ldif(data[: len(data) // 2] + b"!", store_dir, at=NOW)
    except LdifError:
        assert files_of(store_dir) == {}
    else:
        assert result["refused"] >= 1


def test_too_many_entries_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(pkdldif, "MAX_ENTRIES", 3)
    with pytest.raises(LdifError, match="more than 3 entries"):
        list(pkdldif.read(pkd_ldif([PKI])))


def test_wrong_types_are_refused_per_entry():
    text = pkd_ldif([PKI]).replace(b"certificateRevocationList;binary", b"userCertificate;binary")
    entries = pkdldif.import_into(CscaStore.from_certificates([PKI.csca.certificate]), text, at=NOW)
    assert entries[-1].kind == "dsc" and entries[-1].status == "refused"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzzed_ldif_gives_an_error_or_entries_never_a_crash(data):
    base = bytearray(pkd_ldif([PKI], dscs=False))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(base) - 1))
        base[at] = data.draw(st.integers(0, 255))
    store = CscaStore.from_certificates([PKI.csca.certificate])
    try:
        entries = pkdldif.import_into(store, bytes(base), at=NOW)
    except LdifError:
        return
    assert all(e.status in ("accepted", "duplicate", "refused") for e in entries)


def test_verify_uses_a_kept_dsc_when_the_sod_carries_none():
    sod = sod_file.parse(_sod_without_certificates())
    assert sod.dsc is None
    store = CscaStore.from_certificates([PKI.csca.certificate])
    without = verify({EF_SOD: _sod_without_certificates()}, store, at=NOW)
    assert without.check("sod.signature").status is CheckStatus.FAIL
    store.add_dsc(PKI.dsc.certificate.public_bytes(Encoding.DER))
    with_dsc = verify({EF_SOD: _sod_without_certificates()}, store, at=NOW)
    assert with_dsc.check("sod.signature").status is CheckStatus.PASS
    assert with_dsc.check("dsc.chain").status is CheckStatus.PASS


def _sod_without_certificates(signer=PKI, edit=None) -> bytes:
    content = sod_file.encode_security_object("sha256", {1: b"\x00" * 32})
    info = cms.ContentInfo.load(sign_cms(sod_file.LDS_SECURITY_OBJECT_OID, content, signer.dsc))
    info["content"]["certificates"] = []
    if edit:
        edit(info)
    parse_signed_data(info.dump(), sod_file.LDS_SECURITY_OBJECT_OID, "EF.SOD")
    return tlv.encode(0x77, info.dump())


def test_verify_finds_a_kept_dsc_by_its_subject_key_identifier():
    """CMS allows naming the signer by subjectKeyIdentifier (SignerInfo version 3) instead of issuer and serial."""
    ski = PKI.dsc.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    store = CscaStore.from_certificates([PKI.csca.certificate])
    store.add_dsc(PKI.dsc.certificate.public_bytes(Encoding.DER))
    assert store.find_dsc(ski).serial_number == PKI.dsc.certificate.serial_number
    assert store.find_dsc(b"\x00" * 20) is None

    def by_key_id(info):
        signer = info["content"]["signer_infos"][0]
        signer["version"] = "v3"
        signer["sid"] = cms.SignerIdentifier({"subject_key_identifier": ski})

    result = verify({EF_SOD: _sod_without_certificates(edit=by_key_id)}, store, at=NOW)
    assert result.check("sod.signature").status is CheckStatus.PASS
    assert result.check("dsc.chain").status is CheckStatus.PASS


def test_a_store_folders_dscs_are_judged_when_a_document_names_them(tmp_path):
    """The folder's .dsc files are loaded without checking their signatures (they were checked on import);
    one that is not issued by a CSCA of the store, or whose name does not decode, still never verifies."""
    (tmp_path / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    (tmp_path / "foreign.dsc").write_bytes(OTHER.dsc.certificate.public_bytes(Encoding.PEM))
    store = CscaStore()
    store.load_dir(tmp_path)
    assert len(store.dscs) == 1  # kept, not yet judged
    foreign = (OTHER.dsc.certificate.issuer.public_bytes(), OTHER.dsc.certificate.serial_number)
    assert store.find_dsc(foreign) is not None
    result = verify({EF_SOD: _sod_without_certificates(signer=OTHER)}, store, at=NOW)
    assert result.check("dsc.chain").status is CheckStatus.FAIL
    assert "no CSCA in the store named" in result.check("dsc.chain").reason


def test_a_store_folder_dsc_whose_name_does_not_decode_is_never_used(tmp_path):
    der = PKI.dsc.certificate.public_bytes(Encoding.DER)
    damaged = der.replace(b"\x0c\x15Document Signer", b"\x0d\x15Document Signer")
    assert damaged != der
    (tmp_path / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    (tmp_path / "damaged.dsc").write_bytes(damaged)
    store = CscaStore()
    store.load_dir(tmp_path)
    assert len(store.dscs) == 1
    assert "name does not decode" in store.dscs[0].decode_problem
    assert store.find_dsc((PKI.dsc.certificate.issuer.public_bytes(), PKI.dsc.certificate.serial_number)) is None
    result = verify({EF_SOD: _sod_without_certificates()}, store, at=NOW)
    assert result.check("sod.signature").status is CheckStatus.FAIL


def test_a_store_folder_csca_whose_name_does_not_decode_is_left_out(tmp_path):
    der = PKI.csca.certificate.public_bytes(Encoding.DER)
    name = b"CSCA UTO"
    damaged = der.replace(bytes([0x0C, len(name)]) + name, bytes([0x0D, len(name)]) + name)
    assert damaged != der
    (tmp_path / "damaged.der").write_bytes(damaged)
    store = CscaStore()
    store.load_dir(tmp_path)  # loads: it is judged when first used
    assert store.cscas == ()
    store.add_dsc(PKI.dsc.certificate.public_bytes(Encoding.DER), check_issuer=False)
    result = verify({EF_SOD: _sod_without_certificates()}, store, at=NOW)
    assert result.check("sod.signature").status is CheckStatus.PASS
    assert "no CSCA in the store named" in result.check("dsc.chain").reason
