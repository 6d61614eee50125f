"""The test PKI: certificate profiles Doc 9303 Part 12 asks for, and save/load."""
from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from drivers.emrtd.passiveauth.masterlist import MASTER_LIST_SIGNER_EKU
from drivers.emrtd.passiveauth.masterlist import parse as parse_master_list
from hardware_sim.pki import TestPki, make_test_pki

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return make_test_pki(now=NOW)


def extension(certificate: x509.Certificate, kind):
    return certificate.extensions.get_extension_for_class(kind).value


def country(certificate: x509.Certificate) -> str:
    return certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value


def test_csca_is_a_self_signed_ca(pki):
    csca = pki.csca.certificate
    assert csca.subject == csca.issuer
    csca.verify_directly_issued_by(csca)
    assert extension(csca, x509.BasicConstraints).ca
    usage = extension(csca, x509.KeyUsage)
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert country(csca) == "UT"
    assert csca.not_valid_before_utc < NOW < csca.not_valid_after_utc


def test_document_signer_profile(pki):
    dsc = pki.dsc.certificate
    dsc.verify_directly_issued_by(pki.csca.certificate)
    assert not extension(dsc, x509.BasicConstraints).ca
    usage = extension(dsc, x509.KeyUsage)
    assert usage.digital_signature and not usage.key_cert_sign
    assert country(dsc) == "UT"
    assert dsc.not_valid_before_utc < NOW < dsc.not_valid_after_utc
    assert (extension(dsc, x509.AuthorityKeyIdentifier).key_identifier
            == extension(pki.csca.certificate, x509.SubjectKeyIdentifier).digest)


def test_expired_dsc_was_issued_inside_the_csca_validity(pki):
    expired = pki.expired_dsc.certificate
    expired.verify_directly_issued_by(pki.csca.certificate)
    assert expired.not_valid_after_utc < NOW
    assert expired.not_valid_before_utc >= pki.csca.certificate.not_valid_before_utc


def test_crl_lists_the_revoked_dsc_only(pki):
    crl = pki.crl
    assert crl.is_signature_valid(pki.csca.certificate.public_key())
    assert crl.issuer == pki.csca.certificate.subject
    assert [r.serial_number for r in crl] == [pki.revoked_dsc.certificate.serial_number]
    assert crl.next_update_utc > NOW


def test_revoke_dsc_option():
    pki = make_test_pki(now=NOW, revoke_dsc=True)
    assert {r.serial_number for r in pki.crl} == {pki.revoked_dsc.certificate.serial_number,
                                                  pki.dsc.certificate.serial_number}


def test_master_list_holds_the_csca_signed_by_the_master_list_signer(pki):
    signer = pki.master_list_signer.certificate
    signer.verify_directly_issued_by(pki.csca.certificate)
    assert x509.ObjectIdentifier(MASTER_LIST_SIGNER_EKU) in extension(signer, x509.ExtendedKeyUsage)
    parsed = parse_master_list(pki.master_list)
    assert [x509.load_der_x509_certificate(c) for c in parsed.certificates] == [pki.csca.certificate]
    assert x509.load_der_x509_certificate(parsed.signed.signer_certificate) == signer


@pytest.mark.parametrize("key, kind, size", [("rsa-2048", rsa.RSAPrivateKey, 2048),
                                             ("rsa-pss-2048", rsa.RSAPrivateKey, 2048),
                                             ("ecdsa-p256", ec.EllipticCurvePrivateKey, 256)])
def test_key_kinds(key, kind, size):
    pki = make_test_pki(key=key, now=NOW)
    assert isinstance(pki.dsc.key, kind) and pki.dsc.key.key_size == size
    pki.dsc.certificate.verify_directly_issued_by(pki.csca.certificate)
    assert pki.dsc.pss == (key == "rsa-pss-2048")


@pytest.mark.parametrize("icao, iso", [("UTO", "UT"), ("D", "DE"), ("FRA", "FR"), ("GBD", "GB")])
def test_country_codes(icao, iso):
    pki = make_test_pki(icao, now=NOW)
    assert pki.country == icao
    assert country(pki.csca.certificate) == country(pki.dsc.certificate) == iso


def test_bad_arguments():
    with pytest.raises(ValueError, match="not an ICAO state code"):
        make_test_pki("XYZ")
    with pytest.raises(ValueError, match="unknown key kind"):
        make_test_pki(key="dsa-1024")  # type: ignore[arg-type]


def test_custom_validity():
    pki = make_test_pki(now=NOW, dsc_validity=dt.timedelta(days=30))
    assert pki.dsc.certificate.not_valid_after_utc - pki.dsc.certificate.not_valid_before_utc == dt.timedelta(days=30)


def test_save_and_load_round_trip(tmp_path, pki):
    pki.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"csca.pem", "csca.key", "dsc.pem", "dsc.key", "crl.pem",
                                                    "masterlist.ml", "pki.json"}
    assert (tmp_path / "csca.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    loaded = TestPki.load(tmp_path)
    assert loaded.country == "UTO" and loaded.key_kind == "ecdsa-p256"
    assert loaded.csca.certificate == pki.csca.certificate
    assert loaded.dsc.key.private_numbers() == pki.dsc.key.private_numbers()
    assert loaded.crl == pki.crl
    assert loaded.master_list == pki.master_list
    # the loaded keys still sign for their certificates
    signature = loaded.dsc.sign(b"data")
    pki.dsc.certificate.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))


def test_the_pki_bench_runs_small_and_gives_its_keys(capsys):
    import json

    from limes.cli import main

    assert main(["bench", "pki", "--cscas", "20", "--dscs", "50", "--loads", "1", "--repeat", "5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"date", "machine", "load_average", "keys", "cscas", "dscs", "crls", "build_s", "load_ms", "verify_ms",
            "target_load_s", "target_verify_ms_p95", "meets_target", "checks"} <= set(report)
    assert (report["cscas"], report["dscs"], report["crls"]) == (20, 50, 20)
    assert report["verify_ms"]["count"] == 5 and report["load_ms"]["count"] == 1
