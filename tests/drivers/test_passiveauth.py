"""Passive authentication over documents from the test PKI: the genuine
document passes, each forgery fails exactly the check that should catch it."""
from __future__ import annotations

import datetime as dt
import json

import cv2
import numpy as np
import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from drivers.checks import Check, CheckStatus
from drivers.emrtd import tlv
from drivers.emrtd.lds import EF_SOD, sod
from drivers.emrtd.passiveauth import CscaStore, PassiveAuthResult, verify
from drivers.emrtd.passiveauth.keys import public_key
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import make_crl, make_test_pki

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def photo() -> bytes:
    ok, buffer = cv2.imencode(".jpg", np.full((64, 48, 3), 150, np.uint8))
    assert ok
    return buffer.tobytes()


@pytest.fixture(scope="module")
def pki():
    return make_test_pki(now=NOW)


@pytest.fixture
def store(pki) -> CscaStore:
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(pki.crl)
    return store


def failures(result: PassiveAuthResult) -> dict[str, str]:
    return {c.name: c.reason for c in result if c.status is CheckStatus.FAIL}


def status(result: PassiveAuthResult, name: str) -> CheckStatus:
    check = result.check(name)
    assert check is not None, f"no check {name}"
    return check.status


# --- genuine documents -------------------------------------------------------

@pytest.mark.parametrize("key, hash_alg", [
    ("ecdsa-p256", "sha256"), ("ecdsa-p256", "sha1"), ("ecdsa-p256", "sha384"), ("ecdsa-p256", "sha512"),
    ("rsa-2048", "sha256"), ("rsa-pss-2048", "sha256"), ("rsa-pss-2048", "sha512"),
    ("ecdsa-brainpool-explicit", "sha256"), ("ecdsa-brainpool-explicit", "sha384"),
])
def test_genuine_document_passes_every_check(photo, key, hash_alg):
    pki = make_test_pki(key=key, now=NOW)
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(pki.crl)
    files = personalise(TD3, photo, pki, dg11={"full_name": "ERIKSSON<<ANNA MARIA"},
                        dg12={"issuing_authority": "UTO"}, hash_alg=hash_alg)
    result = verify(files, store, printed_mrz=TD3, at=NOW)
    assert [c.name for c in result] == [
        "sod.parse", "sod.signature", "dsc.chain", "dsc.validity", "dsc.revocation",
        "dg1.hash", "dg2.hash", "dg11.hash", "dg12.hash", "dg1.printed_mrz", "dg1.issuing_state"]
    assert all(c.ok for c in result), failures(result)
    assert result.passed
    assert result.hash_algorithm == hash_alg
    assert result.dsc_subject == pki.dsc.certificate.subject.rfc4514_string()
    assert result.csca_subject == pki.csca.certificate.subject.rfc4514_string()


def test_result_as_json(pki, store, photo):
    result = verify(personalise(TD3, photo, pki), store, printed_mrz=TD3, at=NOW)
    as_dict = json.loads(json.dumps(result.to_dict()))
    assert as_dict["passed"] is True
    assert {"name": "dg2.hash", "status": "pass", "reason": "matches the SOD (sha256)"} in as_dict["checks"]
    assert len(result) == len(as_dict["checks"])


def test_at_defaults_to_now(photo):
    pki = make_test_pki()
    store = CscaStore.from_certificates([pki.csca.certificate])
    assert verify(personalise(TD3, photo, pki), store).passed


# --- forgeries: each fails the one check meant for it -------------------------

@pytest.mark.parametrize("fault, check, reason", [
    ("altered_dg", "dg2.hash", "DG2 does not match its hash in the SOD"),
    ("wrong_signer", "sod.signature", "signature does not verify"),
    ("expired_dsc", "dsc.validity", "not at 2026-06-01"),
    ("revoked_dsc", "dsc.revocation", "revoked on 2026-05-31"),
])
def test_each_fault_fails_its_check(pki, store, photo, fault, check, reason):
    result = verify(personalise(TD3, photo, pki, faults=[fault]), store, printed_mrz=TD3, at=NOW)
    assert list(failures(result)) == [check]
    assert reason in failures(result)[check]
    assert not result.passed


def test_dsc_revoked_through_make_test_pki(photo):
    pki = make_test_pki(now=NOW, revoke_dsc=True)
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(pki.crl)
    result = verify(personalise(TD3, photo, pki), store, at=NOW)
    assert list(failures(result)) == ["dsc.revocation"]


def test_altered_dg1_also_breaks_nothing_else(pki, store, photo):
    files = personalise(TD3, photo, pki)
    files[0x0101] = files[0x0101].replace(b"ANNA", b"ANNE")
    result = verify(files, store, at=NOW)
    assert list(failures(result)) == ["dg1.hash"]


# --- trust anchors --------------------------------------------------------------

def test_unknown_csca(pki, photo):
    other = make_test_pki(now=NOW)
    result = verify(personalise(TD3, photo, pki), CscaStore.from_certificates([make_test_pki("D").csca.certificate]),
                    at=NOW)
    assert "no CSCA in the store named" in failures(result)["dsc.chain"]
    assert status(result, "dsc.revocation") is CheckStatus.NOT_DONE
    assert not result.passed
    # a CSCA of the same name but another key is no anchor either
    result = verify(personalise(TD3, photo, pki), CscaStore.from_certificates([other.csca.certificate]), at=NOW)
    assert "does not verify with any CSCA named" in failures(result)["dsc.chain"]


def test_dsc_without_digital_signature_usage(pki, store, photo):
    """A certificate from the right CSCA whose key usage is not digitalSignature signs no document."""
    import dataclasses

    from hardware_sim.pki import issue, key_usage, new_key, subject_name

    signer = issue(subject_name("UT", "Not a document signer"), new_key("ecdsa-p256"), pki.csca,
                   NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30), ca=False,
                   usage=key_usage(key_cert_sign=True))
    result = verify(personalise(TD3, photo, dataclasses.replace(pki, dsc=signer)), store, at=NOW)
    assert failures(result) == {"dsc.chain": "DSC key usage does not allow digitalSignature"}


def test_csca_key_rollover_finds_the_right_one(pki, photo):
    other = make_test_pki(now=NOW)  # same subject name, other key
    store = CscaStore.from_certificates([other.csca.certificate, pki.csca.certificate])
    assert verify(personalise(TD3, photo, pki), store, at=NOW).passed


def test_everything_expired_far_in_the_future(pki, store, photo):
    later = NOW + dt.timedelta(days=365 * 30)
    result = verify(personalise(TD3, photo, pki), store, at=later)
    assert "not at" in failures(result)["dsc.chain"]
    assert "not at" in failures(result)["dsc.validity"]


def test_without_crl_revocation_is_not_done_and_does_not_block(pki, photo):
    store = CscaStore.from_certificates([pki.csca.certificate])
    result = verify(personalise(TD3, photo, pki), store, at=NOW)
    check = result.check("dsc.revocation")
    assert check.status is CheckStatus.NOT_DONE and "no CRL loaded" in check.reason
    assert result.passed


def test_stale_crl_refers_by_default(pki, photo):
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(make_crl(pki.csca, [], NOW - dt.timedelta(days=200)))  # nextUpdate 110 days before NOW
    result = verify(personalise(TD3, photo, pki), store, at=NOW)
    check = result.check("dsc.revocation")
    assert check.status is CheckStatus.FAIL and not result.passed
    assert check.reason.startswith("CRL of CN=CSCA UTO,") and "stale since 2026-02-11" in check.reason


def test_stale_crl_under_warn_passes_and_says_so(pki, photo):
    store = CscaStore.from_certificates([pki.csca.certificate], crl_policy="warn")
    store.add_crl(make_crl(pki.csca, [], NOW - dt.timedelta(days=200)))
    result = verify(personalise(TD3, photo, pki), store, at=NOW)
    check = result.check("dsc.revocation")
    assert check.status is CheckStatus.PASS and result.passed
    assert "stale since 2026-02-11" in check.reason and "warn" in check.reason
    # the policy given to verify wins over the store's
    refer = verify(personalise(TD3, photo, pki), store, at=NOW, crl_policy="refer").check("dsc.revocation")
    assert refer.status is CheckStatus.FAIL


def test_crl_not_yet_valid_is_stale(pki, photo):
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(make_crl(pki.csca, [], NOW + dt.timedelta(days=30)))
    check = verify(personalise(TD3, photo, pki), store, at=NOW).check("dsc.revocation")
    assert check.status is CheckStatus.FAIL and "not yet valid" in check.reason


def test_stale_crl_still_revokes_and_fresh_crl_revokes(pki, photo):
    for issued in (NOW - dt.timedelta(days=200), NOW):  # revocation does not lapse with the list
        for policy in ("refer", "warn"):
            store = CscaStore.from_certificates([pki.csca.certificate], crl_policy=policy)
            store.add_crl(make_crl(pki.csca, [pki.revoked_dsc], issued))
            check = verify(personalise(TD3, photo, pki, faults=("revoked_dsc",)), store,
                           at=NOW).check("dsc.revocation")
            assert check.status is CheckStatus.FAIL and "revoked on" in check.reason


def test_unknown_crl_policy_is_refused():
    with pytest.raises(ValueError, match="CRL policy"):
        CscaStore(crl_policy="ignore")


def test_newest_crl_is_used(pki, photo):
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(make_crl(pki.csca, [], NOW - dt.timedelta(days=10)))
    store.add_crl(make_crl(pki.csca, [pki.dsc], NOW))
    result = verify(personalise(TD3, photo, pki), store, at=NOW)
    assert list(failures(result)) == ["dsc.revocation"]


# --- MRZ against print and country ---------------------------------------------

def test_printed_mrz_mismatch_names_the_position(pki, store, photo):
    printed = TD3.replace("ANNA", "ANNE")
    result = verify(personalise(TD3, photo, pki), store, printed_mrz=printed, at=NOW)
    assert failures(result) == {"dg1.printed_mrz": "differs at line 1, position 19: printed 'E', chip 'A'"}


def test_printed_mrz_of_another_format(pki, store, photo):
    td1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
    result = verify(personalise(TD3, photo, pki), store, printed_mrz=td1, at=NOW)
    assert "printed MRZ has 90 characters, the chip's 88" == failures(result)["dg1.printed_mrz"]


def test_printed_mrz_not_given(pki, store, photo):
    result = verify(personalise(TD3, photo, pki), store, at=NOW)
    assert status(result, "dg1.printed_mrz") is CheckStatus.NOT_DONE
    assert result.passed


def test_issuing_state_must_match_dsc_country(photo):
    germany = make_test_pki("D", now=NOW)
    assert germany.dsc.certificate.subject.rfc4514_string().endswith("C=DE")
    store = CscaStore.from_certificates([germany.csca.certificate])
    result = verify(personalise(TD3, photo, germany), store, at=NOW)
    assert failures(result) == {"dg1.issuing_state": "MRZ issuing state UTO (UT) but DSC country DE"}
    german_mrz = TD3.replace("P<UTO", "P<D<<")
    result = verify(personalise(german_mrz, photo, germany), store, printed_mrz=german_mrz, at=NOW)
    assert result.check("dg1.issuing_state").reason == "D = C=DE"
    assert result.passed


def test_unknown_issuing_state(pki, store, photo):
    mrz = TD3.replace("P<UTO", "P<QQQ")
    result = verify(personalise(mrz, photo, pki), store, at=NOW)
    assert "'QQQ' is not an ICAO state code" in failures(result)["dg1.issuing_state"]


# --- broken or incomplete chip data ----------------------------------------------

def test_missing_sod(pki, store, photo):
    files = personalise(TD3, photo, pki)
    del files[EF_SOD]
    result = verify(files, store, at=NOW)
    assert failures(result) == {"sod.parse": "EF.SOD was not read"}
    assert status(result, "dg1.hash") is CheckStatus.NOT_DONE
    assert status(result, "dsc.chain") is CheckStatus.NOT_DONE
    assert not result.passed


def test_garbage_sod(pki, store, photo):
    files = personalise(TD3, photo, pki)
    files[EF_SOD] = sod.wrap(b"\x30\x03\x02\x01\x05")
    result = verify(files, store, at=NOW)
    assert "does not decode" in failures(result)["sod.parse"]
    assert not result.passed


def test_data_group_missing_from_sod(pki, store, photo):
    files = personalise(TD3, photo, pki)
    files[0x0107] = tlv.encode(0x67, b"signature image")
    result = verify(files, store, at=NOW)
    assert failures(result) == {"dg7.hash": "DG7 was read but the SOD holds no hash for it"}


def test_dg1_not_read(pki, store, photo):
    files = personalise(TD3, photo, pki)
    del files[0x0101]
    result = verify(files, store, printed_mrz=TD3, at=NOW)
    assert status(result, "dg1.printed_mrz") is CheckStatus.NOT_DONE
    assert status(result, "dg1.issuing_state") is CheckStatus.NOT_DONE
    assert result.passed  # DG2 alone is still authenticated


def test_no_data_group_at_all_does_not_pass(pki, store, photo):
    files = {EF_SOD: personalise(TD3, photo, pki)[EF_SOD]}
    assert not verify(files, store, at=NOW).passed


def _edit_sod(files: dict[int, bytes], edit) -> dict[int, bytes]:
    info = cms.ContentInfo.load(tlv.decode_one(files[EF_SOD], 0x77).value)
    edit(info["content"])
    return {**files, EF_SOD: sod.wrap(info.dump(force=True))}


def test_sod_without_dsc_certificate(pki, store, photo):
    def drop_certificates(signed):
        signed["certificates"] = cms.CertificateSet([])

    files = _edit_sod(personalise(TD3, photo, pki), drop_certificates)
    result = verify(files, store, at=NOW)
    assert "no Document Signer certificate" in failures(result)["sod.signature"]
    assert status(result, "dsc.chain") is CheckStatus.NOT_DONE


def test_dsc_with_undecodable_subject(pki, store, photo):
    files = personalise(TD3, photo, pki)
    damaged = files[EF_SOD].replace(b"\x0c\x15Document Signer", b"\x0d\x15Document Signer")
    assert damaged != files[EF_SOD]
    result = verify({**files, EF_SOD: damaged}, store, at=NOW)
    assert "Document Signer certificate does not decode" in failures(result)["sod.signature"]
    assert not result.passed


def test_swapped_security_object_fails_message_digest(pki, store, photo):
    files = personalise(TD3, photo, pki)
    forged = sod.encode_security_object("sha256", {1: b"\x00" * 32, 2: b"\x00" * 32})

    def swap_content(signed):
        signed["encap_content_info"] = {"content_type": sod.LDS_SECURITY_OBJECT_OID, "content": forged}

    result = verify(_edit_sod(files, swap_content), store, at=NOW)
    assert failures(result)["sod.signature"] == "messageDigest does not match the signed content"


def test_plain_ecdsa_signature_is_accepted(pki, store, photo):
    """BSI TR-03111 ecdsa-plain-SHA256: r || s instead of a DER SEQUENCE."""
    def to_plain(signed):
        signer = signed["signer_infos"][0]
        attributes = b"\x31" + signer["signed_attrs"].dump()[1:]
        r, s = decode_dss_signature(pki.dsc.key.sign(attributes, ec.ECDSA(hashes.SHA256())))
        signer["signature_algorithm"] = {"algorithm": "0.4.0.127.0.7.1.1.4.1.3"}
        signer["signature"] = r.to_bytes(32, "big") + s.to_bytes(32, "big")

    result = verify(_edit_sod(personalise(TD3, photo, pki), to_plain), store, at=NOW)
    assert result.passed, failures(result)


def test_signature_algorithm_that_does_not_fit_the_key(pki, store, photo):
    def claim_rsa(signed):
        signed["signer_infos"][0]["signature_algorithm"] = {"algorithm": "sha256_rsa"}

    result = verify(_edit_sod(personalise(TD3, photo, pki), claim_rsa), store, at=NOW)
    assert "does not fit an EC key" in failures(result)["sod.signature"]


# --- Check, the shared shape ------------------------------------------------------

def test_check_accepts_plain_status_strings():
    check = Check("x", "not_done", "why")
    assert check.status is CheckStatus.NOT_DONE and check.status == "not_done"
    assert check.to_dict() == {"name": "x", "status": "not_done", "reason": "why"}
    assert Check.passed("y").ok and not Check.failed("z", "bad").ok
    with pytest.raises(ValueError):
        Check("x", "maybe")


# --- certificates whose EC keys spell their curve out -------------------------------------------------------

@pytest.fixture(scope="module")
def explicit_pki():
    return make_test_pki(key="ecdsa-brainpool-explicit", now=NOW)


def test_explicit_brainpool_keys_are_read_as_their_named_curve(explicit_pki):
    # Whether or not the installed cryptography accepts explicit parameters itself, Limes
    # must give the standardized curve the parameters spell out, with the same point.
    key = public_key(explicit_pki.dsc.certificate)
    assert isinstance(key.curve, ec.BrainpoolP256R1)
    assert key.public_numbers() == explicit_pki.dsc.key.public_key().public_numbers()


def test_a_document_signer_of_another_explicit_csca_is_not_chained(photo, explicit_pki):
    impostor = make_test_pki(key="ecdsa-brainpool-explicit", now=NOW)
    store = CscaStore.from_certificates([explicit_pki.csca.certificate])
    store.add_crl(explicit_pki.crl)
    result = verify(personalise(TD3, photo, impostor), store, at=NOW)
    assert status(result, "sod.signature") is CheckStatus.PASS
    assert status(result, "dsc.chain") is CheckStatus.FAIL, failures(result)


def test_a_master_list_of_explicit_keys_is_trusted_through_its_csca(explicit_pki):
    store = CscaStore.from_certificates([explicit_pki.csca.certificate])
    assert store.add_master_list(explicit_pki.master_list, at=NOW).listed == 1


def test_explicit_parameters_of_no_known_curve_stay_refused(explicit_pki):
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    certificate = asn1_x509.Certificate.load(explicit_pki.dsc.certificate.public_bytes(serialization.Encoding.DER))
    domain = certificate["tbs_certificate"]["subject_public_key_info"]["algorithm"]["parameters"].chosen
    domain["curve"]["b"] = bytes(31) + b"\x07"  # another curve: the generator is no longer on it
    tampered = x509.load_der_x509_certificate(certificate.dump(force=True))
    with pytest.raises(UnsupportedAlgorithm):
        public_key(tampered)
