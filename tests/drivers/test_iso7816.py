"""APDU encoding in the four ISO 7816-3 cases and the T=0 chaining conventions."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.emrtd.iso7816.apdu import ApduError, CommandApdu, ResponseApdu, StatusError
from drivers.emrtd.iso7816.transceiver import CallableTransceiver, ResponseChaining, send

H = bytes.fromhex


@pytest.mark.parametrize(
    "command, wire",
    [
        (CommandApdu(0x00, 0xA4, 0x04, 0x0C, H("A0000002471001")), H("00A4040C07A0000002471001")),
        (CommandApdu(0x00, 0x84, 0x00, 0x00, ne=8), H("0084000008")),
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=256), H("00B0000000")),
        (CommandApdu(0x00, 0x88, 0x00, 0x00), H("00880000")),
        (CommandApdu(0x00, 0x82, 0x00, 0x00, H("0102"), ne=40), H("008200000201 0228".replace(" ", ""))),
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=0x10000), H("00B00000000000")),
        (CommandApdu(0x00, 0xB0, 0x01, 0x02, ne=1000), H("00B0010200 03E8".replace(" ", ""))),
        (CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=4, extended=True), H("00B00000000004")),
        (CommandApdu(0x00, 0xD6, 0x00, 0x00, bytes(300)), H("00D6000000012C") + bytes(300)),
        (
            CommandApdu(0x0C, 0xB0, 0x00, 0x00, bytes(3), ne=0x10000, extended=True),
            H("0CB0000000000300000000 00".replace(" ", "")),
        ),
    ],
)
def test_encode_and_parse_are_inverse(command, wire):
    assert command.encode() == wire
    assert CommandApdu.parse(wire).encode() == wire


@given(st.binary(max_size=300), st.one_of(st.none(), st.integers(1, 0x10000)), st.booleans())
def test_round_trip_property(data, ne, extended):
    command = CommandApdu(0x00, 0xB0, 1, 2, data, ne, extended)
    parsed = CommandApdu.parse(command.encode())
    assert (parsed.data, parsed.ne) == (command.data, command.ne)


@given(st.binary(max_size=40))
def test_parse_of_garbage_is_apdu_error_or_valid(raw):
    try:
        CommandApdu.parse(raw)
    except ApduError:
        pass


@pytest.mark.parametrize("raw", [b"", b"\x00\xa4", H("00A4040C05AABB"), H("00B000000001")])
def test_malformed_commands_raise(raw):
    with pytest.raises(ApduError):
        CommandApdu.parse(raw)


def test_invalid_fields_raise():
    with pytest.raises(ApduError, match="p1"):
        CommandApdu(0, 0xB0, 256, 0)
    with pytest.raises(ApduError, match="ne"):
        CommandApdu(0, 0xB0, 0, 0, ne=0)


def test_status_error_names_the_meaning():
    with pytest.raises(StatusError, match="6A82.*not found") as caught:
        ResponseApdu.parse(H("6A82")).check("SELECT DG3")
    assert caught.value.sw == 0x6A82
    assert ResponseApdu.parse(H("01029000")).check().data == H("0102")
    with pytest.raises(ApduError):
        ResponseApdu.parse(b"\x90")


def test_get_response_chaining_collects_all_parts():
    parts = {0: (H("0102"), H("6103")), 1: (H("030405"), H("9000"))}
    calls = []

    def card(apdu: bytes) -> bytes:
        calls.append(apdu)
        data, sw = parts[len(calls) - 1]
        return data + sw

    response = send(ResponseChaining(CallableTransceiver(card)), CommandApdu(0, 0xB0, 0, 0, ne=256))
    assert response.data == H("0102030405") and response.ok
    assert calls[1] == H("00C0000003")


def test_wrong_le_is_resent_with_the_exact_length():
    calls = []

    def card(apdu: bytes) -> bytes:
        calls.append(apdu)
        return H("6C05") if len(calls) == 1 else bytes(5) + H("9000")

    response = send(ResponseChaining(CallableTransceiver(card)), CommandApdu(0, 0xB0, 0, 0, ne=256))
    assert response.data == bytes(5)
    assert calls[1] == H("00B0000005")


def test_endless_chaining_is_bounded():
    chain = ResponseChaining(CallableTransceiver(lambda apdu: H("00") + H("6101")))
    with pytest.raises(ApduError, match="chaining"):
        chain.transmit(H("00B0000000"))
