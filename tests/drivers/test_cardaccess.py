"""EF.CardAccess / DG14 SecurityInfos."""
from __future__ import annotations

import pytest
from asn1crypto import core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.emrtd import tlv
from drivers.emrtd.lds.cardaccess import (
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    OtherInfo,
    PaceInfo,
    encode_pace_info,
    encode_security_infos,
    parse_security_infos,
)
from drivers.emrtd.lds.errors import LdsError

H = bytes.fromhex
# EF.CardAccess of the Doc 9303 Part 11 PACE ECDH-GM worked example.
EXAMPLE_CARD_ACCESS = H("31143012060A04007F0007020204020202010202010D")


def _info(oid: str, *values: core.Asn1Value) -> bytes:
    return tlv.encode(0x30, b"".join(value.dump() for value in (core.ObjectIdentifier(oid), *values)))


def test_worked_example_card_access():
    [info] = parse_security_infos(EXAMPLE_CARD_ACCESS)
    assert info == PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)
    assert info.mapping == "ECDH-GM"


def test_encoder_reproduces_the_example():
    assert encode_security_infos([encode_pace_info("0.4.0.127.0.7.2.2.4.2.2", 13)]) == EXAMPLE_CARD_ACCESS


def test_dg14_style_infos():
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    data = encode_security_infos([
        _info("0.4.0.127.0.7.2.2.3.2.2", core.Integer(1)),
        _info("0.4.0.127.0.7.2.2.1.2", core.Any.load(key)),
        _info("2.23.136.1.1.5", core.Integer(1), core.ObjectIdentifier("0.4.0.127.0.7.1.1.4.1.3")),
        _info("1.2.3.4", core.Null()),
    ])
    infos = parse_security_infos(data, "DG14")
    assert ChipAuthenticationInfo("0.4.0.127.0.7.2.2.3.2.2", 1, None) in infos
    assert ChipAuthenticationPublicKeyInfo("0.4.0.127.0.7.2.2.1.2", key, None) in infos
    assert ActiveAuthenticationInfo(1, "0.4.0.127.0.7.1.1.4.1.3") in infos
    assert OtherInfo("1.2.3.4") in infos


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (H("3100"), "empty"),
    (EXAMPLE_CARD_ACCESS[:-1], "malformed"),
    (EXAMPLE_CARD_ACCESS + b"\x00", "malformed"),
    (H("3110300E060A04007F000702020402020400"), "version is not an INTEGER"),
])
def test_malformed_card_access_is_a_clear_error(data, reason):
    with pytest.raises(LdsError, match=reason) as caught:
        parse_security_infos(data)
    assert caught.value.file == "EF.CardAccess"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_random_bytes_parse_or_raise_lds_error(data):
    try:
        parse_security_infos(data)
    except LdsError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(EXAMPLE_CARD_ACCESS) - 1), st.integers(1, 255))
def test_flipped_bytes_parse_or_raise_lds_error(position, mask):
    data = bytearray(EXAMPLE_CARD_ACCESS)
    data[position] ^= mask
    try:
        parse_security_infos(bytes(data))
    except LdsError:
        pass
