"""`limes pki dev-certs` and proto.tls: the development PKI's files, and how bad TLS files are reported."""
from __future__ import annotations

import ipaddress
import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from limes.cli import main
from proto.dev_pki import DevPki, DevPkiError, dev_certs
from proto.tls import PeerIdentity, TlsError, TlsFiles, certificate_identity


def load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_dev_certs_makes_a_ca_server_station_and_user_certificates(capsys, tmp_path):
    out = tmp_path / "pki"
    assert main(["pki", "dev-certs", "--out", str(out), "--station", "GATE-1", "--station", "GATE-2",
                 "--user", "officer-17", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["stations"]) == {"GATE-1", "GATE-2"} and set(result["users"]) == {"officer-17"}
    ca = load(out / "ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    server = load(out / "server.pem")
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"localhost"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                              ipaddress.ip_address("::1")}
    usages = set(server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert usages == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}

    for kind, name in (("station", "GATE-1"), ("station", "GATE-2"), ("user", "officer-17")):
        certificate = out / f"{kind}-{name}.pem"
        assert certificate_identity(certificate.read_bytes()) == PeerIdentity(kind, name)
        subject = load(certificate).subject
        assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
        assert load(certificate).issuer == ca.subject
        assert list(load(certificate).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
            [ExtendedKeyUsageOID.CLIENT_AUTH]
        TlsFiles(out / "ca.pem", certificate, out / f"{kind}-{name}.key").read()  # key and certificate fit
    for key in out.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_run_again_keeps_the_ca_and_adds_what_is_new(tmp_path):
    first = dev_certs(tmp_path, stations=("GATE-1",))
    ca = (tmp_path / "ca.pem").read_bytes()
    second = dev_certs(tmp_path, stations=("GATE-1", "GATE-9"))
    assert (tmp_path / "ca.pem").read_bytes() == ca
    assert second.created == ["station-GATE-9.pem", "station-GATE-9.key"]
    assert first.stations["GATE-1"] == second.stations["GATE-1"]
    # A further host name makes a new server certificate from the same CA.
    third = dev_certs(tmp_path, stations=("GATE-1",), hosts=("central.example",))
    assert third.created == ["server.pem", "server.key"]
    names = load(tmp_path / "server.pem").extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "central.example" in names.get_values_for_type(x509.DNSName)
    assert load(tmp_path / "server.pem").issuer == load(tmp_path / "ca.pem").subject


def test_text_output_says_how_to_use_the_files(capsys, tmp_path):
    assert main(["pki", "dev-certs", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "station DEMO-EGATE-01" in out and "user demo-admin" in out
    assert f"--tls-ca {tmp_path / 'ca.pem'}" in out


@pytest.mark.parametrize("name", ["", "../etc", "GATE 1", "x" * 65, "-dash"])
def test_a_name_that_cannot_be_a_subject_is_refused(capsys, tmp_path, name):
    assert main(["pki", "dev-certs", "--out", str(tmp_path), f"--station={name}"]) == 2
    assert "certificate holder's name" in capsys.readouterr().err
    assert not (tmp_path / "ca.pem").exists()


def test_half_a_ca_is_refused(tmp_path):
    (tmp_path / "ca.pem").write_text("not a CA")
    with pytest.raises(DevPkiError, match="only one of ca.pem and ca.key"):
        DevPki(tmp_path)


def test_tls_files_that_do_not_load_or_fit_are_named(tmp_path):
    pki = DevPki(tmp_path)
    gate, user = pki.station("GATE-1"), pki.user("someone")
    with pytest.raises(TlsError, match="cannot read"):
        TlsFiles(tmp_path / "missing.pem", gate.certificate, gate.key).read()
    with pytest.raises(TlsError, match="not a PEM certificate"):
        TlsFiles(gate.key, gate.certificate, gate.key).read()
    with pytest.raises(TlsError, match="does not belong to certificate"):
        TlsFiles(gate.ca, gate.certificate, user.key).read()


def test_tls_options_are_all_or_plaintext():
    assert TlsFiles.from_options(None, None, None, True, "x") is None
    assert TlsFiles.from_options("a", "b", "c", False, "x") == TlsFiles(Path("a"), Path("b"), Path("c"))
    with pytest.raises(TlsError, match="needs a CA, a certificate and a key"):
        TlsFiles.from_options("a", None, None, False, "x")
    with pytest.raises(TlsError, match="exclude each other"):
        TlsFiles.from_options("a", "b", "c", True, "x")


def test_a_listener_certificate_names_its_service_and_is_a_client_only_when_asked(tmp_path):
    pki = DevPki(tmp_path / "pki")
    member, router = pki.listener("matcher-member"), pki.listener("matcher-router", client=True)
    for files, usages in ((member, [ExtendedKeyUsageOID.SERVER_AUTH]),
                          (router, [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])):
        certificate = load(files.certificate)
        assert list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == usages
        assert certificate_identity(files.certificate.read_bytes()) == PeerIdentity("service", files.certificate.stem
                                                                                    .removeprefix("listener-"))
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
        files.read()  # the key belongs to the certificate
    with pytest.raises(DevPkiError):
        pki.listener("../escape")
