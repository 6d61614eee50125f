"""CscaStore: CSCA files, signed master lists and CRLs, each checked before it is trusted."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from drivers.emrtd.passiveauth import CscaStore, StoreError
from drivers.emrtd.passiveauth.masterlist import MASTER_LIST_OID, encode_content
from hardware_sim.pki import make_crl, make_test_pki, sign_cms

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def pki():
    return make_test_pki(now=NOW)


@pytest.fixture(scope="module")
def other():
    return make_test_pki("D", now=NOW)


def der(signer) -> bytes:
    return signer.certificate.public_bytes(Encoding.DER)


def test_load_pem_der_bundle_and_crl_from_a_directory(tmp_path, pki, other):
    pki.save(tmp_path / "pki")
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(tmp_path / "pki" / "csca.pem", trust / "utopia.pem")
    (trust / "germany.der").write_bytes(der(other.csca))
    shutil.copy(tmp_path / "pki" / "crl.pem", trust / "a-utopia-crl.pem")  # sorts before the CSCA
    (trust / "germany.crl").write_bytes(other.crl.public_bytes(Encoding.DER))
    shutil.copy(tmp_path / "pki" / "masterlist.ml", trust / "utopia.ml")
    (trust / "notes.txt").write_text("ignored")
    store = CscaStore()
    store.load_dir(trust)
    assert {c.subject.rfc4514_string() for c in store.cscas} == {
        "CN=CSCA UTO,O=Limes test PKI,C=UT", "CN=CSCA D,O=Limes test PKI,C=DE"}
    assert store.crl_for(pki.csca.certificate) is not None
    assert store.crl_for(other.csca.certificate) is not None


def test_pem_bundle_of_two(tmp_path, pki, other):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pki.csca.certificate.public_bytes(Encoding.PEM)
                       + other.csca.certificate.public_bytes(Encoding.PEM))
    store = CscaStore()
    store.load_file(bundle)
    assert len(store.cscas) == 2
    store.load_file(bundle)
    assert len(store.cscas) == 2  # loading twice adds nothing


def test_document_signer_is_no_csca(pki):
    with pytest.raises(StoreError, match="not a CA certificate"):
        CscaStore().add_certificate(der(pki.dsc))


def test_garbage_certificate_file(tmp_path):
    path = tmp_path / "junk.pem"
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(StoreError, match="junk.pem: not a PEM or DER certificate"):
        CscaStore().load_file(path)


# --- master lists -------------------------------------------------------------------

def test_master_list_adds_cscas_when_its_signer_is_trusted(pki, other):
    content = encode_content([der(pki.csca), der(other.csca), der(pki.dsc)])
    master_list = sign_cms(MASTER_LIST_OID, content, pki.master_list_signer)
    store = CscaStore.from_certificates([pki.csca.certificate])
    load = store.add_master_list(master_list, at=NOW)
    assert (load.added, load.listed, load.skipped) == (1, 2, 1)  # the DSC is skipped: not a CA
    assert len(store.cscas) == 2


def test_master_list_with_untrusted_signer_is_refused(pki):
    with pytest.raises(StoreError, match="not issued by a trusted CSCA"):
        CscaStore().add_master_list(pki.master_list, at=NOW)


def test_master_list_bootstraps_from_its_own_csca_when_asked(pki):
    store = CscaStore()
    assert store.add_master_list(pki.master_list, at=NOW, trust_list_issuer=True).added == 1
    assert store.cscas[0].der == der(pki.csca)


def test_tampered_master_list_is_refused(pki, other):
    store = CscaStore.from_certificates([pki.csca.certificate])
    genuine = bytearray(pki.master_list)
    # swap in another state's CSCA subject inside the signed content
    position = genuine.find(b"CSCA UTO")
    genuine[position:position + 8] = b"CSCA EVL"
    with pytest.raises(StoreError, match="messageDigest does not match"):
        store.add_master_list(bytes(genuine), at=NOW)
    assert len(store.cscas) == 1


def test_master_list_signature_bytes_tampered(pki):
    store = CscaStore.from_certificates([pki.csca.certificate])
    forged = sign_cms(MASTER_LIST_OID, encode_content([der(pki.csca)]), pki.master_list_signer,
                      signing_key=make_test_pki().master_list_signer.key)
    with pytest.raises(StoreError, match="signature does not verify"):
        store.add_master_list(forged, at=NOW)


def test_master_list_signed_without_the_signer_usage_is_refused(pki):
    by_dsc = sign_cms(MASTER_LIST_OID, encode_content([der(pki.csca)]), pki.dsc)
    with pytest.raises(StoreError, match="cscaMasterListSigningKey"):
        CscaStore.from_certificates([pki.csca.certificate]).add_master_list(by_dsc, at=NOW)


def test_master_list_signer_expired(pki):
    with pytest.raises(StoreError, match="not valid at"):
        CscaStore.from_certificates([pki.csca.certificate]).add_master_list(
            pki.master_list, at=NOW + dt.timedelta(days=365 * 5))


def test_unreadable_master_list(tmp_path):
    path = tmp_path / "broken.ml"
    path.write_bytes(b"\x30\x03\x02\x01\x00")
    with pytest.raises(StoreError, match="master list unreadable"):
        CscaStore().load_file(path)


# --- CRLs ---------------------------------------------------------------------------

def test_crl_from_unknown_issuer_is_refused(pki, other):
    with pytest.raises(StoreError, match="not a CSCA in the store"):
        CscaStore.from_certificates([pki.csca.certificate]).add_crl(other.crl)


def test_crl_with_forged_signature_is_refused(pki):
    impostor = make_test_pki(now=NOW)  # same CSCA name, other key
    with pytest.raises(StoreError, match="does not verify"):
        CscaStore.from_certificates([pki.csca.certificate]).add_crl(make_crl(impostor.csca, [], NOW))


def test_crl_in_der_and_pem(pki):
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(pki.crl.public_bytes(Encoding.DER))
    store.add_crl(pki.crl.public_bytes(Encoding.PEM))
    assert len(store.crls) == 1  # both read; the same CRL is kept once
    with pytest.raises(StoreError, match="not a PEM or DER CRL"):
        store.add_crl(b"nonsense")


def test_forged_crl_in_a_folder_is_refused_with_its_reason(tmp_path, pki):
    impostor = make_test_pki(now=NOW)  # same CSCA name, other key
    (tmp_path / "utopia.der").write_bytes(der(pki.csca))
    (tmp_path / "forged.crl").write_bytes(make_crl(impostor.csca, [], NOW).public_bytes(Encoding.DER))
    with pytest.raises(StoreError, match="CRL signature of .*CSCA UTO.* does not verify"):
        CscaStore().load_dir(tmp_path)


def test_only_the_newest_crl_of_an_issuer_is_kept(pki):
    store = CscaStore.from_certificates([pki.csca.certificate])
    newer = make_crl(pki.csca, [pki.dsc], NOW, number=2)
    assert store.add_crl(newer) == "accepted"
    assert store.add_crl(make_crl(pki.csca, [], NOW - dt.timedelta(days=10))) == "older"
    assert store.add_crl(newer) == "duplicate"
    same_day_higher_number = make_crl(pki.csca, [], NOW, number=3)
    assert store.add_crl(same_day_higher_number) == "accepted"
    assert store.crls == (same_day_higher_number,) and store.crl_for(pki.csca.certificate) == same_day_higher_number


def test_refresh_crls_rereads_changed_files_and_keeps_the_newest_good_one(tmp_path, pki):
    import os

    (tmp_path / "utopia.der").write_bytes(der(pki.csca))
    first = make_crl(pki.csca, [], NOW - dt.timedelta(days=10))
    (tmp_path / "utopia.crl").write_bytes(first.public_bytes(Encoding.DER))
    store = CscaStore()
    store.load_dir(tmp_path)
    assert store.refresh_crls(tmp_path) == []  # nothing changed since load_dir read it

    newer = make_crl(pki.csca, [pki.dsc], NOW, number=2)
    (tmp_path / "utopia.crl").write_bytes(newer.public_bytes(Encoding.DER))
    os.utime(tmp_path / "utopia.crl", ns=(1, 1))  # a changed modification time, whatever the clock's grain
    [load] = store.refresh_crls(tmp_path)
    assert (load.status, store.crl_for(pki.csca.certificate)) == ("accepted", newer)
    assert "CSCA UTO" in load.issuer

    impostor = make_test_pki(now=NOW)  # a newer CRL under the same name that does not verify
    (tmp_path / "forged.crl").write_bytes(
        make_crl(impostor.csca, [], NOW + dt.timedelta(days=1), number=9).public_bytes(Encoding.DER))
    (tmp_path / "older.crl").write_bytes(first.public_bytes(Encoding.DER))
    (tmp_path / "broken.crl").write_bytes(b"not a CRL")
    loads = {Path(load.path).name: load for load in store.refresh_crls(tmp_path)}
    assert {name: load.status for name, load in loads.items()} == {
        "broken.crl": "refused", "forged.crl": "refused", "older.crl": "older"}
    assert "does not verify" in loads["forged.crl"].reason and "not a PEM or DER CRL" in loads["broken.crl"].reason
    assert store.crl_for(pki.csca.certificate) == newer and store.crls == (newer,)
    assert store.refresh_crls(tmp_path) == []  # a refused file is not read again until it changes


def test_the_gates_refresher_puts_a_crl_dropped_into_the_folder_in_use(tmp_path, pki):
    import os
    import time

    from edge.runtime import CrlRefresher

    (tmp_path / "utopia.der").write_bytes(der(pki.csca))
    older = make_crl(pki.csca, [], NOW - dt.timedelta(days=10))
    (tmp_path / "utopia.crl").write_bytes(older.public_bytes(Encoding.DER))
    store = CscaStore()
    store.load_dir(tmp_path)
    refresher = CrlRefresher(store, [tmp_path], every_s=0.05)
    refresher.start()
    try:
        newer = make_crl(pki.csca, [pki.dsc], NOW, number=2)
        (tmp_path / "utopia.crl").write_bytes(newer.public_bytes(Encoding.DER))
        os.utime(tmp_path / "utopia.crl", ns=(1, 1))
        deadline = time.monotonic() + 10
        while store.crl_for(pki.csca.certificate) != newer and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.crl_for(pki.csca.certificate) == newer
    finally:
        refresher.close()
