"""Passive authentication on EF.SOD files other implementations and states made
(tests/drivers/fixtures/foreign_sod/README.md names their sources and licences):
RSA PKCS#1 v1.5 (CN), RSASSA-PSS (BSI TR-03105-5), ECDSA with explicit brainpool
parameters (AT, DE)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from drivers.checks import CheckStatus
from drivers.emrtd.lds import sod as sod_file
from drivers.emrtd.lds.files import EF_SOD, fid
from drivers.emrtd.passiveauth.store import CscaStore
from drivers.emrtd.passiveauth.verify import verify

FIXTURES = Path(__file__).parent / "fixtures" / "foreign_sod"
AT = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)  # inside every DSC's and CSCA's validity


def fixture(name: str) -> bytes:
    return bytes.fromhex((FIXTURES / f"{name}.hex").read_text().strip())


def statuses(result) -> dict[str, CheckStatus]:
    return {c.name: c.status for c in result}


# leading bytes of each data group hash as the source's test states them
EXPECTED = {
    "at": ("sha256", {1: "90462cd4", 2: "113888bd", 3: "5c1c4fa5", 11: "2a1704fa", 12: "c9673800", 14: "aff8c921"}),
    "cn": ("sha256", {1: "8e3db602", 2: "e39ad777", 11: "6a2c3398", 12: "ae4bba01", 15: "350e1348"}),
    "de": ("sha384", {1: "2daffeb0", 2: "2c65a444", 3: "a668251f", 14: "c87ab92f"}),
    "bsi": ("sha256", {1: "4170ca87", 2: "a9a1b09d", 3: "403e4d17", 14: "cf5004ff", 4: "4c7a0f0d"}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_reader_parses_foreign_sods_as_their_makers_do(name):
    algorithm, hashes = EXPECTED[name]
    sod = sod_file.parse(fixture(f"{name}_sod"))
    assert sod.hash_algorithm == algorithm
    assert {n: h.hex()[:8] for n, h in sod.dg_hashes.items()} == hashes
    assert sod.dsc is not None


@pytest.mark.parametrize("name, scheme, dsc, csca", [
    ("at", "ecdsa", "CN=DS-AUSTRIA-eMRTD", "CN=CSCA-AUSTRIA"),
    ("cn", "rsassa_pkcs1v15", "CN=CDS DZHZB0110019-14-20171024172958", "CN=China Passport Country Signing"),
    ("de", "ecdsa", "CN=Document Signer Passport", "CN=csca-germany"),
])
def test_a_states_sod_verifies_up_to_its_published_csca(name, scheme, dsc, csca):
    sod = sod_file.parse(fixture(f"{name}_sod"))
    assert sod.signed.signature_algorithm.signature_algo == scheme
    store = CscaStore()
    store.add_certificate(fixture(f"{name}_csca"))
    result = verify({EF_SOD: fixture(f"{name}_sod")}, store, at=AT)
    got = statuses(result)
    for check in ("sod.parse", "sod.signature", "dsc.chain", "dsc.validity"):
        assert got[check] is CheckStatus.PASS, result.check(check)
    assert got["dsc.revocation"] is CheckStatus.NOT_DONE  # no CRL of theirs is loaded
    assert result.dsc_subject.startswith(dsc) and result.csca_subject.startswith(csca)
    assert not result.passed  # no data group was read, so nothing on the chip is vouched for


def test_an_austrian_csca_that_is_a_link_certificate_is_named_so():
    store = CscaStore()
    store.add_certificate(fixture("at_csca"))
    chain = verify({EF_SOD: fixture("at_sod")}, store, at=AT).check("dsc.chain")
    assert "link certificate" in chain.reason


def test_chinas_id_data_encapsulation_is_read_and_reported_as_a_deviation():
    sod = sod_file.parse(fixture("cn_sod"))
    assert sod.signed.content_type == sod_file.ID_DATA_OID
    assert sod.deviations and "id-data" in sod.deviations[0]
    assert "id-data" in verify({EF_SOD: fixture("cn_sod")}, CscaStore(), at=AT).check("sod.parse").reason
    assert sod_file.parse(fixture("de_sod")).deviations == ()


def test_the_german_sod_carries_lds_version_info():
    sod = sod_file.parse(fixture("de_sod"))
    assert (sod.version, sod.lds_version, sod.unicode_version) == (1, "0108", "040000")


def test_a_foreign_csca_does_not_vouch_for_another_states_dsc():
    store = CscaStore()
    store.add_certificate(fixture("de_csca"))
    assert statuses(verify({EF_SOD: fixture("at_sod")}, store, at=AT))["dsc.chain"] is CheckStatus.FAIL


def test_bsi_reference_sod_rsa_pss_with_its_data_groups():
    files = {EF_SOD: fixture("bsi_sod"), fid(1): fixture("bsi_dg1"), fid(14): fixture("bsi_dg14")}
    sod = sod_file.parse(files[EF_SOD])
    assert sod.signed.signature_algorithm.signature_algo == "rsassa_pss"
    result = verify(files, CscaStore(), at=dt.datetime(2014, 6, 1, tzinfo=dt.timezone.utc))
    got = statuses(result)
    assert got["sod.signature"] is CheckStatus.PASS  # by the DSC it embeds
    assert got["dg1.hash"] is CheckStatus.PASS and got["dg14.hash"] is CheckStatus.PASS
    assert got["dg1.issuing_state"] is CheckStatus.PASS  # D<< = C=DE
    # its CSCA (HJP PB CS) is published nowhere we could find: the chain cannot be verified
    assert got["dsc.chain"] is CheckStatus.FAIL and "HJP PB CS" in result.check("dsc.chain").reason


@pytest.mark.parametrize("name", ["at", "cn", "de", "bsi"])
def test_one_flipped_bit_in_a_foreign_sods_signed_content_fails_it(name):
    data = bytearray(fixture(f"{name}_sod"))
    sod = sod_file.parse(bytes(data))
    at = bytes(data).find(sod.signed.content) + len(sod.signed.content) - 1  # last byte of a DG hash
    data[at] ^= 1
    result = verify({EF_SOD: bytes(data)}, CscaStore(), at=AT)
    assert result.check("sod.signature").status is CheckStatus.FAIL
