"""Certificates as real national PKIs issue them: faulty CSCAs from master lists, link
certificates of a key roll-over, and the forgeries that must stay refused."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from drivers.checks import CheckStatus
from drivers.emrtd.passiveauth import CscaStore, StoreError, verify
from drivers.emrtd.passiveauth.certificate import Certificate, CertificateError
from drivers.emrtd.passiveauth.masterlist import MASTER_LIST_OID, encode_content
from hardware_sim.chip.hosting import synthetic_photo
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import CSCA_FAULTS, faulty_csca, make_test_pki, roll_over, sign_cms

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
EXPECTED = {
    "trailing-tbs-data": "TBSCertificate carries 1 element(s) after its extensions",
    "no-basic-constraints": "no basicConstraints extension",
    "ca-false": "basicConstraints says cA=FALSE",
    "no-key-usage": "no keyUsage extension",
    "serial-zero": "serial number 0 is not positive",
    "serial-negative": "serial number -19088743 is not positive",
}


@pytest.fixture(scope="module")
def pki():
    return make_test_pki(now=NOW)


@pytest.fixture(scope="module")
def other():
    return make_test_pki("D", now=NOW)


@pytest.fixture(scope="module")
def photo():
    return synthetic_photo(3)


def der(signer) -> bytes:
    return signer.certificate.public_bytes(Encoding.DER)


def listing(signer, *certificates: bytes) -> bytes:
    return sign_cms(MASTER_LIST_OID, encode_content(list(certificates)), signer, signing_time=NOW)


# --- faulty CSCAs ---------------------------------------------------------------------------------

def test_cryptography_itself_refuses_trailing_tbs_data(pki):
    # the reason this decoding exists: the library's loader drops such a CSCA
    with pytest.raises(ValueError):
        x509.load_der_x509_certificate(faulty_csca(pki.csca, "trailing-tbs-data")).subject  # noqa: B018


@pytest.mark.parametrize("fault", CSCA_FAULTS)
def test_a_faulty_csca_in_a_trusted_list_is_accepted_with_its_deviation_and_chains(fault, pki, photo):
    faulty = faulty_csca(pki.csca, fault)
    store = CscaStore()
    load = store.add_master_list(listing(pki.master_list_signer, faulty), at=NOW, trust_list_issuer=True)
    [entry] = load.entries
    assert (entry.status, entry.deviations, entry.country) == ("accepted-with-deviation", (EXPECTED[fault],), "UT")
    assert entry.sha256 == Certificate.load(faulty).fingerprint_sha256
    assert [c.der for c in store.cscas] == [faulty]

    result = verify(personalise(TD3, photo, pki), store, printed_mrz=TD3, at=NOW)
    assert result.passed, [c for c in result if not c.ok]
    assert EXPECTED[fault] in result.check("dsc.chain").reason


@pytest.mark.parametrize("fault", CSCA_FAULTS)
def test_strict_refuses_the_faulty_csca_with_the_reason(fault, pki, other):
    store = CscaStore.from_certificates([pki.csca.certificate])
    load = store.add_master_list(listing(pki.master_list_signer, faulty_csca(other.csca, fault)), at=NOW,
                                 strict=True)
    [entry] = load.entries
    assert entry.status == "refused" and "strict" in entry.reason and EXPECTED[fault] in entry.reason
    assert (load.added, load.skipped, len(store.cscas)) == (0, 1, 1)


def test_a_faulty_csca_with_a_broken_signature_is_refused(pki, other):
    faulty = bytearray(faulty_csca(other.csca, "trailing-tbs-data"))
    faulty[-3] ^= 0x40  # inside the signature value
    store = CscaStore.from_certificates([pki.csca.certificate])
    load = store.add_master_list(listing(pki.master_list_signer, bytes(faulty)), at=NOW)
    [entry] = load.entries
    assert entry.status == "refused" and "signature does not verify" in entry.reason
    assert len(store.cscas) == 1


def test_a_dsc_of_another_csca_does_not_chain_to_a_faulty_one(pki, photo):
    impostor = make_test_pki(now=NOW)  # same names, other keys
    store = CscaStore()
    store.add_master_list(listing(pki.master_list_signer, faulty_csca(pki.csca, "no-basic-constraints")), at=NOW,
                          trust_list_issuer=True)
    result = verify(personalise(TD3, photo, impostor), store, at=NOW)
    assert result.check("sod.signature").ok
    assert result.check("dsc.chain").status is CheckStatus.FAIL and not result.passed


def test_a_document_signer_in_a_list_is_refused_as_an_end_entity(pki):
    store = CscaStore.from_certificates([pki.csca.certificate])
    load = store.add_master_list(listing(pki.master_list_signer, der(pki.csca), der(pki.dsc)), at=NOW)
    assert [e.status for e in load.entries] == ["duplicate", "refused"]
    assert "end-entity" in load.entries[1].reason


def test_a_link_certificate_whose_issuer_is_unknown_is_refused(pki, other):
    rollover = roll_over(other, NOW)
    store = CscaStore.from_certificates([pki.csca.certificate])
    load = store.add_master_list(listing(pki.master_list_signer, der(rollover.new_by_old)), at=NOW)
    assert load.entries[0].status == "refused" and "neither in the list nor in the store" in load.entries[0].reason


def test_unknown_signature_algorithm_is_refused(pki):
    from asn1crypto import x509 as asn1_x509

    certificate = asn1_x509.Certificate.load(der(pki.csca))
    for holder in (certificate["tbs_certificate"]["signature"], certificate["signature_algorithm"]):
        holder["algorithm"] = "1.2.3.4.5"
    forged = Certificate.load(certificate.dump(force=True))
    assert "not supported" in forged.signature_problem(forged)


def test_outer_and_signed_algorithm_must_agree(pki):
    from asn1crypto import x509 as asn1_x509

    certificate = asn1_x509.Certificate.load(der(pki.csca))
    certificate["signature_algorithm"] = {"algorithm": "sha512_ecdsa"}
    with pytest.raises(CertificateError, match="differs from the signed one"):
        Certificate.load(certificate.dump(force=True))


def test_names_compare_whatever_string_type_and_case(pki):
    csca = Certificate.load(der(pki.csca))
    dsc_der = der(pki.dsc)
    # the DSC's issuer CN as a PrintableString in other case: RFC 5280 7.1 says the same name
    utf8 = b"\x0c\x08CSCA UTO"
    at = dsc_der.index(utf8)  # the issuer comes before the subject
    altered = Certificate.load(dsc_der[:at] + b"\x13\x08csca uto" + dsc_der[at + len(utf8):])
    assert altered.issuer == csca.subject
    assert altered.issuer.rfc4514_string() == "CN=csca uto,O=Limes test PKI,C=UT"
    assert not altered.is_issued_by(csca)  # but the signature covered the original bytes


# --- key roll-over and link certificates ----------------------------------------------------------

@pytest.mark.parametrize("rename", [True, False])
def test_a_document_of_the_new_key_chains_through_the_link_certificate(pki, photo, rename):
    rollover = roll_over(pki, NOW, rename=rename)
    store = CscaStore.from_certificates([pki.csca.certificate])
    load = store.add_master_list(listing(pki.master_list_signer, der(rollover.new_by_old)), at=NOW)
    assert [e.status for e in load.entries] == ["accepted"]
    result = verify(personalise(TD3, photo, dataclasses.replace(pki, dsc=rollover.dsc)), store, printed_mrz=TD3,
                    at=NOW + dt.timedelta(days=1))
    assert result.passed, [c for c in result if not c.ok]
    assert "link certificate" in result.check("dsc.chain").reason


def test_a_document_of_the_old_key_verifies_through_old_by_new_within_its_validity(pki, photo):
    rollover = roll_over(pki, NOW)
    store = CscaStore.from_certificates([rollover.new.certificate])  # only the new CSCA trusted out of band
    load = store.add_master_list(listing(pki.master_list_signer, der(rollover.old_by_new)), at=NOW,
                                 trust_list_issuer=True)
    assert [e.status for e in load.entries] == ["accepted"]
    files = personalise(TD3, photo, pki)  # signed by the old PKI's DSC
    assert verify(files, store, printed_mrz=TD3, at=NOW).passed
    after = rollover.old_by_new.certificate.not_valid_after_utc + dt.timedelta(days=1)
    chain = verify(files, store, at=after).check("dsc.chain")
    assert chain.status is CheckStatus.FAIL and "not at" in chain.reason


def test_the_full_rollover_list_loads_every_certificate(pki):
    rollover = roll_over(pki, NOW)
    store = CscaStore()
    load = store.add_master_list(rollover.master_list, at=NOW, trust_list_issuer=True)
    assert [e.status for e in load.entries] == ["accepted"] * 4
    assert sum(not c.self_signed for c in store.cscas) == 2


def test_a_forged_link_certificate_is_refused(pki):
    rollover = roll_over(pki, NOW)
    forged = bytearray(der(rollover.new_by_old))
    forged[-3] ^= 0x01
    store = CscaStore.from_certificates([pki.csca.certificate])
    load = store.add_master_list(listing(pki.master_list_signer, bytes(forged)), at=NOW)
    assert load.entries[0].status == "refused" and "does not verify" in load.entries[0].reason
    assert len(store.cscas) == 1


def test_a_file_csca_that_is_no_ca_is_still_refused_without_the_mark(pki):
    with pytest.raises(StoreError, match="not a CA certificate"):
        CscaStore().add_certificate(faulty_csca(pki.csca, "ca-false"))
