"""Hostile chip data never crashes passive authentication: it ends in failed checks."""
from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.checks import CheckStatus
from drivers.emrtd.lds import EF_SOD
from drivers.emrtd.passiveauth import CscaStore, StoreError, verify
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import make_test_pki

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
_ok, _photo = cv2.imencode(".jpg", np.full((24, 20, 3), 90, np.uint8))
PKIS = {key: make_test_pki(key=key, now=NOW) for key in ("ecdsa-p256", "rsa-pss-2048", "ecdsa-brainpool-explicit")}
FILES = {key: personalise(TD3, _photo.tobytes(), pki, dg11={"full_name": "A<<B"}) for key, pki in PKIS.items()}
STORES = {key: CscaStore.from_certificates([pki.csca.certificate]) for key, pki in PKIS.items()}
for _key, _pki in PKIS.items():
    STORES[_key].add_crl(_pki.crl)


@st.composite
def damaged(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "cut", "insert"]))
        if kind == "flip":
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[position:position + draw(st.integers(1, 40))]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=3))
        if not data:
            data = bytearray(b"\x00")
    return bytes(data)


@settings(max_examples=250, deadline=None)
@given(data=st.data(), key=st.sampled_from(sorted(PKIS)), target=st.sampled_from([EF_SOD, 0x0101, 0x0102]))
def test_damaged_file_gives_failed_checks_not_exceptions(data, key, target):
    files = dict(FILES[key])
    files[target] = data.draw(damaged(files[target]))
    result = verify(files, STORES[key], printed_mrz=TD3, at=NOW)
    assert all(c.status in CheckStatus for c in result)
    if target != EF_SOD and files[target] != FILES[key][target]:
        # a damaged data group is never authenticated (damage to the SOD may hit
        # unsigned fields such as the SignedData version, which do not matter)
        assert not result.passed
    result.to_dict()


@settings(max_examples=100, deadline=None)
@given(files=st.dictionaries(st.sampled_from([EF_SOD, 0x0101, 0x0102, 0x010E, 0x011E]), st.binary(max_size=80)))
def test_arbitrary_files(files):
    result = verify(files, STORES["ecdsa-p256"], at=NOW)
    assert not result.passed


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_damaged_master_list_is_refused_or_harmless(data):
    pki = PKIS["ecdsa-p256"]
    store = CscaStore.from_certificates([pki.csca.certificate])
    try:
        store.add_master_list(data.draw(damaged(pki.master_list)), at=NOW)
    except StoreError:
        return
    # accepted only if the damage missed everything signed: the same single CSCA
    assert [c.der for c in store.cscas] == [pki.csca.certificate.public_bytes(Encoding.DER)]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), what=st.sampled_from(["crl", "certificate"]))
def test_damaged_crl_or_certificate_is_refused_or_harmless(data, what):
    from cryptography.hazmat.primitives.serialization import Encoding

    pki = PKIS["ecdsa-p256"]
    store = CscaStore.from_certificates([pki.csca.certificate])
    original = (pki.crl if what == "crl" else pki.csca.certificate).public_bytes(Encoding.DER)
    try:
        if what == "crl":
            store.add_crl(data.draw(damaged(original)))
        else:
            store.add_certificate(data.draw(damaged(original)))
    except StoreError:
        return
    # accepted: a CRL only if its signature still verifies; a certificate may
    # load with a broken signature (a CSCA is trusted as configured), but never
    # raises anything other than StoreError
    assert what == "certificate" or len(store.crls) == 1


def test_a_name_attribute_of_the_wrong_asn1_type_is_refused():
    # Found by the test above: cryptography decodes a BIT STRING common name with a TypeError.
    from cryptography.hazmat.primitives.serialization import Encoding

    der = PKIS["ecdsa-p256"].csca.certificate.public_bytes(Encoding.DER)
    common_name = b"\x0c\x08CSCA UTO"
    assert common_name in der
    with pytest.raises(StoreError, match="not a PEM or DER certificate"):
        CscaStore().add_certificate(der.replace(common_name, b"\x03\x08CSCA UTO", 1))


def test_a_damaged_rsassa_pss_mask_generation_function_fails_the_signature():
    # Found by the damage test above: the signer's PSS parameters no longer parse as mgf1's.
    mgf1 = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08"  # OID 1.2.840.113549.1.1.8
    files = dict(FILES["rsa-pss-2048"])
    sod = files[EF_SOD]
    at = sod.rindex(mgf1)  # the SignerInfo's, after the certificate's own
    files[EF_SOD] = sod[:at] + mgf1[:-1] + b"\x07" + sod[at + len(mgf1):]
    result = verify(files, STORES["rsa-pss-2048"], printed_mrz=TD3, at=NOW)
    check = result.check("sod.signature")
    assert check.status is CheckStatus.FAIL and "malformed RSASSA-PSS parameters" in check.reason, check


# --- the asn1crypto certificate decoding and the tolerant master list -----------------------------

def _faulty_lists():
    from drivers.emrtd.passiveauth.masterlist import MASTER_LIST_OID, encode_content
    from hardware_sim.pki import CSCA_FAULTS, faulty_csca, sign_cms

    pki = PKIS["ecdsa-p256"]
    faulty = {fault: faulty_csca(pki.csca, fault) for fault in CSCA_FAULTS}  # ECDSA: each signing differs
    return pki, faulty, sign_cms(MASTER_LIST_OID, encode_content(list(faulty.values())), pki.master_list_signer,
                                 signing_time=NOW)


FAULTY_PKI, FAULTY, FAULTY_LIST = _faulty_lists()


@settings(max_examples=200, deadline=None)
@given(data=st.data(), fault=st.sampled_from(sorted(FAULTY)))
def test_damaged_faulty_certificate_decodes_or_is_refused_and_never_verifies_when_signed_bytes_change(data, fault):
    from drivers.emrtd.passiveauth.certificate import Certificate, CertificateError

    original = Certificate.load(FAULTY[fault])
    damaged_der = data.draw(damaged(FAULTY[fault]))
    try:
        certificate = Certificate.load(damaged_der)
    except CertificateError:
        return
    certificate.subject.rfc4514_string(), certificate.csca_deviations(), certificate.country  # noqa: B018
    if certificate.tbs_der != original.tbs_der:  # what the signature covers changed: it must not verify
        assert not certificate.is_issued_by(original)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_damaged_list_of_faulty_cscas_is_refused_or_adds_only_what_was_signed(data):
    store = CscaStore()
    try:
        load = store.add_master_list(data.draw(damaged(FAULTY_LIST)), at=NOW, trust_list_issuer=True)
    except StoreError:
        return
    assert {c.der for c in store.cscas} <= set(FAULTY.values())
    assert all(e.status in ("accepted", "accepted-with-deviation", "duplicate", "refused") for e in load.entries)
