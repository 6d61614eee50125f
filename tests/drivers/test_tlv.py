import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.emrtd import tlv


def test_round_trip_nested():
    inner = tlv.encode(0x5F1F, b"P<UTO") + tlv.encode(0x02, b"\x01")
    outer = tlv.encode(0x61, inner)
    item = tlv.decode_one(outer, 0x61)
    assert item.constructed
    assert item.find(0x5F1F).value == b"P<UTO"
    assert [child.tag for child in item.children()] == [0x5F1F, 0x02]


def test_long_lengths():
    value = bytes(300)
    encoded = tlv.encode(0x5F2E, value)
    assert encoded[:5] == bytes.fromhex("5F2E82012C")
    assert tlv.total_length(encoded[:5]) == len(encoded)
    assert tlv.decode_one(encoded).value == value


@pytest.mark.parametrize("data, message", [
    (bytes.fromhex("5F"), "tag runs past"),
    (bytes.fromhex("0105AA"), "claims 5 bytes"),
    (bytes.fromhex("0180"), "indefinite"),
    (bytes.fromhex("0185FFFFFFFFFF"), "too long"),
])
def test_malformed_data_is_a_clear_error(data, message):
    with pytest.raises(tlv.TlvError, match=message):
        tlv.decode(data)


@given(st.binary(max_size=512))
def test_arbitrary_bytes_parse_or_raise_tlv_error(data):
    try:
        items = tlv.decode(data)
    except tlv.TlvError:
        return
    # Every byte is accounted for: values never overlap or run past the data.
    assert sum(len(item.value) for item in items) + 2 * len(items) <= len(data)
