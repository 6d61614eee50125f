"""Chip Authentication protocol choice, ISO/IEC 9796-2 message recovery (the
Active Authentication worked example of ICAO Doc 9303 Part 11, Appendix F),
Active Authentication signature checks, and the public key parser under
hostile input."""
from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, given, settings, strategies as st

from drivers.emrtd.chipauth import aa, ca, iso9796
from drivers.emrtd.lds.cardaccess import (
    ID_PK_DH, ID_PK_ECDH, encode_ca_info, encode_ca_public_key_info, encode_security_infos, parse_security_infos,
)
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.lds.publickey import encode_dh_public_key, encode_ec_public_key, parse_public_key
from drivers.emrtd.pace import standard_group

H = bytes.fromhex
EC_GROUP = standard_group(13)
DH_GROUP = standard_group(2)
EC_KEY = encode_ec_public_key(EC_GROUP.curve, EC_GROUP.power(EC_GROUP.generator, 4242))
DH_KEY = encode_dh_public_key(DH_GROUP, DH_GROUP.power(DH_GROUP.generator, 4242))

# Doc 9303 Part 11 Appendix F: RSA-1024, SHA-1.
AA_CHALLENGE = H("F173589974BF40C6")
AA_M1 = H("9D2784A67F8E7C659973EA1AEA25D95B6C8F91E5002F369F0FBDCE8A3CEC1991B543F1696546C5524CF23A5303CD6C98"
          "599F40B79F377B5F3A1406B3B4D8F96784D23AA88DB7E1032A405E69325FA91A6E86F5C71AEA978264C4A207446DAD4E"
          "7292E2DCDA3024B47DA8")
AA_DIGEST = H("C063AA1E6D22FBD976AB0FE73D94D2D9C6D88127")
AA_REPRESENTATIVE = H(
    "6A9D2784A67F8E7C659973EA1AEA25D95B6C8F91E5002F369F0FBDCE8A3CEC1991B543F1696546C5524CF23A5303CD6C"
    "98599F40B79F377B5F3A1406B3B4D8F96784D23AA88DB7E1032A405E69325FA91A6E86F5C71AEA978264C4A207446DAD"
    "4E7292E2DCDA3024B47DA8C063AA1E6D22FBD976AB0FE73D94D2D9C6D88127BC")


def infos(*items: bytes):
    return parse_security_infos(encode_security_infos(list(items)), "DG14")


# -- Chip Authentication: which protocol and key -------------------------------------------------------

def test_protocol_names_and_identifiers():
    assert ca.CaProtocol.from_name("ecdh-aes-128").oid == "0.4.0.127.0.7.2.2.3.2.2"
    assert ca.CaProtocol.from_oid("0.4.0.127.0.7.2.2.3.1.1").name == "DH-3DES"
    for bad in ("0.4.0.127.0.7.2.2.3.3.1", "0.4.0.127.0.7.2.2.3.2.9", "0.4.0.127.0.7.2.2.4.2.2", "1.2"):
        with pytest.raises(ca.ChipAuthenticationError):
            ca.CaProtocol.from_oid(bad)


def test_aes_is_chosen_before_3des():
    chosen = ca.choose(infos(encode_ca_info("0.4.0.127.0.7.2.2.3.2.1"), encode_ca_info("0.4.0.127.0.7.2.2.3.2.4"),
                             encode_ca_public_key_info(ID_PK_ECDH, EC_KEY)))
    assert chosen.protocol.name == "ECDH-AES-256" and chosen.key.group is EC_GROUP


def test_key_ids_match_protocols_to_keys():
    chosen = ca.choose(infos(encode_ca_info("0.4.0.127.0.7.2.2.3.1.2", 7),
                             encode_ca_public_key_info(ID_PK_ECDH, EC_KEY, 3),
                             encode_ca_public_key_info(ID_PK_DH, DH_KEY, 7)))
    assert (chosen.protocol.name, chosen.key_id, chosen.key.algorithm) == ("DH-AES-128", 7, "dh")
    assert "key 7" in chosen.describe()


def test_a_key_without_chip_authentication_info_implies_3des():
    chosen = ca.choose(infos(encode_ca_public_key_info(ID_PK_DH, DH_KEY)))
    assert chosen.protocol.name == "DH-3DES"


def test_unusable_announcements_are_clear_errors():
    assert not ca.offered(infos(encode_ca_info("0.4.0.127.0.7.2.2.3.2.2")))
    with pytest.raises(ca.ChipAuthenticationError, match="no Chip Authentication public key"):
        ca.choose(infos(encode_ca_info("0.4.0.127.0.7.2.2.3.2.2")))
    with pytest.raises(ca.ChipAuthenticationError, match="ECDH-AES-128 announced with a DH"):
        ca.choose(infos(encode_ca_info("0.4.0.127.0.7.2.2.3.2.2"), encode_ca_public_key_info(ID_PK_DH, DH_KEY)))


# -- ISO/IEC 9796-2 and Active Authentication ----------------------------------------------------------------

def test_representative_of_the_worked_example():
    assert hashlib.sha1(AA_M1 + AA_CHALLENGE).digest() == AA_DIGEST
    assert iso9796.capacity(128, "sha1") == len(AA_M1) == 106
    assert iso9796.message_representative(AA_M1, AA_CHALLENGE, "sha1", 128) == AA_REPRESENTATIVE


@pytest.fixture(scope="module")
def rsa_1024():
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _sign(key: rsa.RSAPrivateKey, representative: bytes, alternative: bool) -> bytes:
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    s = pow(int.from_bytes(representative, "big"), numbers.d, n)
    return (min(s, n - s) if alternative else s).to_bytes(128, "big")


@pytest.mark.parametrize("alternative", [False, True], ids=["B.4 plain", "B.6 min(s, n-s)"])
def test_worked_example_representative_recovers_with_either_signature_production(rsa_1024, alternative):
    public = rsa_1024.public_key().public_numbers()
    signature = _sign(rsa_1024, AA_REPRESENTATIVE, alternative)
    recovered = iso9796.recover(public.n, public.e, signature, AA_CHALLENGE)
    assert (recovered.m1, recovered.hash_name) == (AA_M1, "sha1")
    with pytest.raises(iso9796.Iso9796Error, match="digest"):
        iso9796.recover(public.n, public.e, signature, H("0000000000000000"))


@pytest.mark.parametrize("hash_name", ["sha224", "sha256", "sha384", "sha512"])
def test_explicit_hash_trailers(rsa_1024, hash_name):
    public = rsa_1024.public_key().public_numbers()
    m1 = bytes(range(iso9796.capacity(128, hash_name)))
    representative = iso9796.message_representative(m1, AA_CHALLENGE, hash_name, 128)
    assert representative[-1] == 0xCC
    assert iso9796.recover(public.n, public.e, _sign(rsa_1024, representative, True), AA_CHALLENGE).hash_name \
        == hash_name


def test_broken_signatures_are_clear_errors(rsa_1024):
    public = rsa_1024.public_key().public_numbers()
    with pytest.raises(iso9796.Iso9796Error, match="does not fit"):
        iso9796.recover(public.n, public.e, bytes(129), AA_CHALLENGE)
    with pytest.raises(iso9796.Iso9796Error, match="no trailer|header|trailer"):
        iso9796.recover(public.n, public.e, bytes(127) + b"\x05", AA_CHALLENGE)
    full_recovery = b"\x4A" + AA_REPRESENTATIVE[1:]
    with pytest.raises(iso9796.Iso9796Error, match="expected 6A"):
        iso9796.recover(public.n, public.e, _sign(rsa_1024, full_recovery, False), AA_CHALLENGE)


def _public_key(key) -> object:
    return parse_public_key(key.public_key().public_bytes(serialization.Encoding.DER,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo), "DG15")


def test_active_authentication_with_rsa(rsa_1024):
    key = _public_key(rsa_1024)
    signature = _sign(rsa_1024, AA_REPRESENTATIVE, True)
    assert aa.verify(key, None, AA_CHALLENGE, signature) == "RSA-1024 ISO/IEC 9796-2 signature with SHA1"
    with pytest.raises(ValueError, match="digest"):
        aa.verify(key, None, b"\x00" * 8, signature)


@pytest.mark.parametrize("curve, algorithm, hash_algorithm", [
    (ec.SECP256R1(), "0.4.0.127.0.7.1.1.4.1.3", "sha256"),
    (ec.BrainpoolP384R1(), "0.4.0.127.0.7.1.1.4.1.4", "sha384"),
    (ec.SECP521R1(), "1.2.840.10045.4.3.4", "sha512"),
])
def test_active_authentication_with_plain_ecdsa(curve, algorithm, hash_algorithm):
    from cryptography.hazmat.primitives import hashes

    private = ec.generate_private_key(curve)
    key = _public_key(private)
    r, s = decode_dss_signature(private.sign(AA_CHALLENGE, ec.ECDSA(getattr(hashes, hash_algorithm.upper())())))
    half = (key.group.order.bit_length() + 7) // 8
    signature = r.to_bytes(half, "big") + s.to_bytes(half, "big")
    assert aa.verify(key, algorithm, AA_CHALLENGE, signature).startswith("ECDSA")
    with pytest.raises(ValueError, match="does not verify"):
        aa.verify(key, algorithm, b"\x01" * 8, signature)
    with pytest.raises(ValueError, match="names no Active Authentication signature algorithm"):
        aa.verify(key, None, AA_CHALLENGE, signature)
    with pytest.raises(ValueError, match="not one Doc 9303 allows"):
        aa.verify(key, "0.4.0.127.0.7.1.1.4.1.1", AA_CHALLENGE, signature)  # SHA-1
    with pytest.raises(ValueError, match="plain ECDSA signature"):
        aa.verify(key, algorithm, AA_CHALLENGE, signature[:-1])


# Curves `cryptography` lacks, signed by the `ecdsa` package's own curve definitions: this also checks
# drivers.emrtd.pace.curves' parameters for them against an independent table.
@pytest.mark.parametrize("parameter_id, ecdsa_curve", [(9, "BRAINPOOLP192r1"), (11, "BRAINPOOLP224r1"),
                                                        (14, "BRAINPOOLP320r1")])
@pytest.mark.parametrize("algorithm, hash_name", [("0.4.0.127.0.7.1.1.4.1.3", "sha256"),
                                                  ("1.2.840.10045.4.3.4", "sha512")])
@pytest.mark.parametrize("named", [False, True])
def test_ecdsa_on_curves_the_library_lacks(parameter_id, ecdsa_curve, algorithm, hash_name, named):
    import ecdsa

    group = standard_group(parameter_id)
    assert group.library_curve is None
    signer = ecdsa.SigningKey.generate(curve=getattr(ecdsa.curves, ecdsa_curve), hashfunc=getattr(hashlib, hash_name))
    point = signer.get_verifying_key().pubkey.point
    key = parse_public_key(encode_ec_public_key(group.curve, (point.x(), point.y()), named=named), "DG15")
    signature = signer.sign(AA_CHALLENGE, sigencode=ecdsa.util.sigencode_string)
    assert aa.verify(key, algorithm, AA_CHALLENGE, signature) == \
        f"ECDSA {group.name} signature with {hash_name.upper()}"
    with pytest.raises(ValueError, match="does not verify"):
        aa.verify(key, algorithm, b"\x01" * 8, signature)
    with pytest.raises(ValueError, match="plain ECDSA signature"):
        aa.verify(key, algorithm, AA_CHALLENGE, signature[:-1])


def test_ecdsa_on_a_dg15_keys_own_explicit_curve():
    import ecdsa
    from drivers.emrtd.pace.curves import Curve

    secp256k1 = ecdsa.curves.SECP256k1  # not among Doc 9303's standardized curves
    field, generator = secp256k1.curve, secp256k1.generator
    curve = Curve.explicit(field.p(), field.a(), field.b(), (generator.x(), generator.y()), secp256k1.order)
    signer = ecdsa.SigningKey.generate(curve=secp256k1, hashfunc=hashlib.sha256)
    point = signer.get_verifying_key().pubkey.point
    key = parse_public_key(encode_ec_public_key(curve, (point.x(), point.y())), "DG15")
    signature = signer.sign(AA_CHALLENGE, sigencode=ecdsa.util.sigencode_string)
    assert aa.verify(key, "0.4.0.127.0.7.1.1.4.1.3", AA_CHALLENGE, signature).startswith("ECDSA explicit curve")
    forged = signature[:32] + (int.from_bytes(signature[32:], "big") ^ 1).to_bytes(32, "big")
    with pytest.raises(ValueError, match="does not verify"):
        aa.verify(key, "0.4.0.127.0.7.1.1.4.1.3", AA_CHALLENGE, forged)


def test_both_ecdsa_verifiers_agree_on_a_curve_both_know():
    from cryptography.hazmat.primitives import hashes

    private = ec.generate_private_key(ec.BrainpoolP256R1())
    key = _public_key(private)
    r, s = decode_dss_signature(private.sign(AA_CHALLENGE, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert aa._verify_on_own_curve(key.group.curve, key.public, signature, AA_CHALLENGE, "sha256")
    assert not aa._verify_on_own_curve(key.group.curve, key.public, signature, b"\x02" * 8, "sha256")


# -- public keys: every curve, explicit and named, and hostile bytes ------------------------------------------

@pytest.mark.parametrize("parameter_id", range(8, 19))
@pytest.mark.parametrize("named", [False, True])
def test_ec_keys_round_trip_on_every_standard_curve(parameter_id, named):
    group = standard_group(parameter_id)
    point = group.power(group.generator, 777)
    key = parse_public_key(encode_ec_public_key(group.curve, point, named=named), "DG14")
    assert key.group is group and key.public == point


def test_dh_keys_are_matched_to_the_standard_groups():
    key = parse_public_key(DH_KEY, "DG14")
    assert key.group is DH_GROUP and key.describe().startswith("DH on 2048-bit")


def test_explicit_curves_not_standardized_are_checked():
    from drivers.emrtd.pace.curves import Curve, CurveError

    curve = standard_group(12).curve
    with pytest.raises(CurveError, match="inconsistent"):
        Curve.explicit(curve.p, curve.a, curve.b, curve.generator, curve.n - 2)


VALID_KEYS = [EC_KEY, DH_KEY, encode_ec_public_key(EC_GROUP.curve, EC_GROUP.generator, named=True),
              rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
                  serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID_KEYS), st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), max_size=4),
       st.integers(0, 10_000))
def test_mutated_public_keys_parse_or_raise_lds_error(original, flips, cut):
    data = bytearray(original)
    for position, mask in flips:
        data[position % len(data)] ^= mask
    data = bytes(data[:max(1, len(data) - cut % 8)])
    try:
        parse_public_key(data, "DG14")
    except LdsError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_as_public_key_raise_lds_error(data):
    try:
        parse_public_key(data, "DG15")
    except LdsError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=3))
def test_choosing_from_mutated_security_infos_gives_only_clear_errors(flips):
    data = bytearray(encode_security_infos([encode_ca_info("0.4.0.127.0.7.2.2.3.2.2", 1),
                                            encode_ca_public_key_info(ID_PK_ECDH, EC_KEY, 1)]))
    for position, mask in flips:
        data[position % len(data)] ^= mask
    try:
        ca.choose(parse_security_infos(bytes(data), "DG14"))
    except (LdsError, ca.ChipAuthenticationError):
        pass
