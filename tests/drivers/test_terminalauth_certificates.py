"""CV certificates (BSI TR-03110): parsed and verified on certificates Limes did not make
(tests/drivers/fixtures/cvc/README.md says where each comes from), issued and re-read, and fuzzed."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.emrtd import tlv
from drivers.emrtd.pace import standard_group
from drivers.emrtd.terminalauth import certificates as cvc

FIXTURES = Path(__file__).parent / "fixtures" / "cvc"


def fixture(name: str) -> bytes:
    return bytes.fromhex((FIXTURES / f"{name}.hex").read_text().strip())


def flipped(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


# -- real certificates --------------------------------------------------------------------------------

def test_an_inspection_system_cvca_parses_and_verifies_itself():
    certificate = cvc.parse_certificate(fixture("deiscvca00001"))
    assert certificate.holder == certificate.authority == "DEISCVCA00001"
    assert certificate.public_key.algorithm == cvc.ECDSA_SHA256
    assert certificate.public_key.curve.name == "brainpoolP256r1"
    assert certificate.chat.terminal_type == cvc.ID_IS
    assert certificate.chat.role == cvc.ROLE_CVCA
    assert certificate.chat.rights & cvc.READ_DG3 and certificate.chat.rights & cvc.READ_DG4
    assert (certificate.effective, certificate.expiry) == (dt.date(2014, 5, 5), dt.date(2015, 5, 5))
    assert certificate.signed_by(certificate.public_key)
    assert certificate.encode() == fixture("deiscvca00001")


def test_a_changed_byte_of_the_body_breaks_the_real_signature():
    data = fixture("deiscvca00001")
    holder = data.index(b"DEISCVCA00001", 20)  # the CHR, inside the signed body
    changed = cvc.parse_certificate(flipped(data, holder + 12))
    assert changed.holder == "DEISCVCA00000"
    assert not changed.signed_by(cvc.parse_certificate(data).public_key)


def test_a_real_three_level_chain_verifies_link_by_link():
    root = cvc.parse_certificate(fixture("desrcacc100001"))
    device, issuer = (cvc.parse_certificate(item.encode()) for item in tlv.decode(fixture("nitrokey_device_chain")))
    assert (issuer.authority, issuer.holder) == ("DESRCACC100001", "DEDINK0400001")
    assert (device.authority, device.holder) == ("DEDINK0400001", "DENK040414400000")
    assert issuer.public_key.curve is None  # inherited from the root, as TR-03110 allows
    assert root.signed_by(root.public_key)
    issuer_key = issuer.public_key.inherit(root.public_key)
    assert issuer.signed_by(root.public_key)
    assert device.signed_by(issuer_key)
    assert not device.signed_by(root.public_key)  # a key that did not sign it


def test_an_issuer_key_without_domain_parameters_cannot_verify_on_its_own():
    _, issuer = (cvc.parse_certificate(item.encode()) for item in tlv.decode(fixture("nitrokey_device_chain")))
    with pytest.raises(cvc.CvcError, match="domain parameters"):
        issuer.signed_by(issuer.public_key)


def test_a_real_authenticated_request_on_a_curve_the_library_lacks():
    device, issuer = (cvc.parse_certificate(item.encode()) for item in tlv.decode(fixture("nitrokey_device_chain")))
    root = cvc.parse_certificate(fixture("desrcacc100001"))
    request = cvc.parse_request(fixture("nitrokey_key_attestation_request"))
    assert isinstance(request, cvc.AuthenticatedRequest)
    assert request.authority == "DENK040414400000"
    assert request.request.holder == "DENK040414400001"
    assert request.request.chat is None and request.request.effective is None
    assert request.request.public_key.curve.name == "explicit curve"  # secp256k1, given only as parameters
    assert request.request.signed_by(request.request.public_key)  # proof of possession
    device_key = device.public_key.inherit(issuer.public_key.inherit(root.public_key))
    assert request.signed_by(device_key)
    tampered = cvc.parse_request(flipped(fixture("nitrokey_key_attestation_request"), -3))
    assert not tampered.signed_by(device_key)


def test_a_sample_whose_point_is_off_its_curve_is_refused_clearly():
    with pytest.raises(cvc.CvcError, match="not on brainpoolP224r1"):
        cvc.parse_certificate(fixture("decvcaepass001"))


def test_a_certificate_is_not_taken_for_a_request_nor_the_other_way():
    with pytest.raises(cvc.CvcError, match="request starts with"):
        cvc.parse_request(tlv.encode(0x30, b""))
    request = tlv.decode_one(fixture("nitrokey_key_attestation_request")).children()[0].encode()
    with pytest.raises(cvc.CvcError, match="not those of a CV certificate"):
        cvc.parse_certificate(request)


# -- issued here: EC and RSA, dates, CHAT -------------------------------------------------------------

def _ec_cvca(algorithm: str = cvc.ECDSA_SHA256):
    key = ec.generate_private_key(ec.BrainpoolP256R1())
    public = cvc.CvPublicKey.from_key(key.public_key(), algorithm, standard_group(13).curve, explicit=True)
    certificate = cvc.issue(authority="UTCVCA00001", public_key=public, holder="UTCVCA00001",
                            chat=cvc.Chat.inspection_system(cvc.ROLE_CVCA, cvc.READ_DG3 | cvc.READ_DG4),
                            effective=dt.date(2026, 1, 1), expiry=dt.date(2029, 1, 1), signer=key,
                            signer_algorithm=algorithm)
    return key, certificate


@pytest.mark.parametrize("algorithm", [f"{cvc.ID_TA}.2.{n}" for n in range(1, 6)])
def test_ecdsa_certificates_issued_here_round_trip_and_verify(algorithm):
    _, certificate = _ec_cvca(algorithm)
    again = cvc.parse_certificate(certificate.encode())
    assert again == certificate
    assert again.signed_by(again.public_key)
    assert again.chat.describe() == "inspection system, CVCA, reads DG3+DG4"


@pytest.mark.parametrize("algorithm", [f"{cvc.ID_TA}.1.{n}" for n in range(1, 7)])
def test_rsa_certificates_verify_under_each_padding_and_hash(algorithm):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = cvc.CvPublicKey.from_key(key.public_key(), algorithm)
    certificate = cvc.issue(authority="UTDV0000001", public_key=public, holder="UTIS0000001",
                            chat=cvc.Chat.inspection_system(cvc.ROLE_TERMINAL, cvc.READ_DG3),
                            effective=dt.date(2026, 12, 1), expiry=dt.date(2026, 12, 31), signer=key,
                            signer_algorithm=algorithm)
    again = cvc.parse_certificate(certificate.encode())
    assert again.signed_by(again.public_key)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not again.signed_by(cvc.CvPublicKey.from_key(other.public_key(), algorithm))


def test_a_terminal_key_inherits_the_cvca_domain_parameters():
    cvca_key, cvca = _ec_cvca()
    terminal = ec.generate_private_key(ec.BrainpoolP256R1())
    public = cvc.CvPublicKey.from_key(terminal.public_key(), cvc.ECDSA_SHA256)
    issued = cvc.issue(authority=cvca.holder, public_key=public, holder="UTIS0000001",
                       chat=cvc.Chat.inspection_system(cvc.ROLE_TERMINAL, cvc.READ_DG3), effective=dt.date(2026, 12, 1),
                       expiry=dt.date(2026, 12, 2), signer=cvca_key, signer_algorithm=cvc.ECDSA_SHA256)
    parsed = cvc.parse_certificate(issued.encode())
    assert b"\x81" not in tlv.decode_one(parsed.public_key.encode()).value[:14]  # no domain parameters sent
    assert parsed.signed_by(cvca.public_key)
    assert parsed.valid_on(dt.date(2026, 12, 2)) and not parsed.valid_on(dt.date(2026, 12, 3))


@pytest.mark.parametrize("field, value, message", [
    (cvc.EFFECTIVE, bytes([2, 6, 1, 3, 0, 1]), "month must be in 1..12"),
    (cvc.EFFECTIVE, bytes([2, 6, 0, 1, 0, 0x0A]), "six unpacked BCD digits"),
    (cvc.EXPIRY, bytes([2, 5, 0, 1, 0, 1]), "expires"),
    (cvc.PROFILE, b"\x01", "profile identifier"),
    (cvc.HOLDER, b"", "CHR of 0 characters"),
])
def test_malformed_fields_are_named(field, value, message):
    _, certificate = _ec_cvca()
    body = tlv.decode_one(certificate.body)
    fields = b"".join(tlv.encode(item.tag, value if item.tag == field else item.value) for item in body.children())
    data = tlv.encode(cvc.CV_CERTIFICATE, tlv.encode(cvc.BODY, fields) + tlv.encode(cvc.SIGNATURE, b"\x01"))
    with pytest.raises(cvc.CvcError, match=message):
        cvc.parse_certificate(data)


def test_fields_out_of_order_are_refused():
    _, certificate = _ec_cvca()
    children = tlv.decode_one(certificate.body).children()
    children[1], children[3] = children[3], children[1]  # CHR before CAR
    data = tlv.encode(cvc.CV_CERTIFICATE, tlv.encode(cvc.BODY, b"".join(c.encode() for c in children))
                      + tlv.encode(cvc.SIGNATURE, certificate.signature))
    with pytest.raises(cvc.CvcError, match="body fields"):
        cvc.parse_certificate(data)


# -- fuzzing --------------------------------------------------------------------------------------------

REAL = [fixture("deiscvca00001"), fixture("desrcacc100001"), *(item.encode() for item in tlv.decode(
    fixture("nitrokey_device_chain")))]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_arbitrary_bytes_parse_or_raise_cvc_error(data):
    for parser in (cvc.parse_certificate, cvc.parse_request):
        try:
            parser(data)
        except cvc.CvcError:
            pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL), st.data())
def test_mutated_real_certificates_parse_or_raise_cvc_error_and_never_verify_wrongly(original, data):
    index = data.draw(st.integers(0, len(original) - 1))
    mask = data.draw(st.integers(1, 255))
    mutated = bytearray(original)
    mutated[index] ^= mask
    cut = data.draw(st.integers(0, len(mutated)))
    try:
        certificate = cvc.parse_certificate(bytes(mutated[:cut]) if cut < len(mutated) else bytes(mutated))
    except cvc.CvcError:
        return
    root = cvc.parse_certificate(fixture("desrcacc100001"))
    key = certificate.public_key if certificate.public_key.curve else certificate.public_key.inherit(root.public_key)
    try:
        verified = certificate.signed_by(key)
    except cvc.CvcError:
        return
    # a mutation that still parses and verifies can only be one outside what the signature covers: none is
    assert not verified or bytes(mutated) == original
