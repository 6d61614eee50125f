"""BER-TLV as used by ISO/IEC 7816-4 and the ICAO 9303 LDS.

Tags are kept as the integer of their raw bytes (0x5F1F, 0x7F61, ...), which is
how ICAO Doc 9303 writes them. Parsing is strict: a length that runs past the
data, an indefinite length or an unterminated multi-byte tag is a TlvError,
never an IndexError, so hostile chip data ends in a clear error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator


class TlvError(ValueError):
    """Data that is not well-formed BER-TLV."""


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        first = self.tag.to_bytes(_tag_size(self.tag), "big")[0]
        return bool(first & 0x20)

    def children(self) -> list["Tlv"]:
        """The TLVs nested in a constructed object."""
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive and has no children")
        return decode(self.value)

    def find(self, tag: int) -> "Tlv | None":
        """The first direct child with this tag."""
        return next((child for child in self.children() if child.tag == tag), None)

    def encode(self) -> bytes:
        return encode(self.tag, self.value)


def _tag_size(tag: int) -> int:
    return max(1, (tag.bit_length() + 7) // 8)


def encode_length(length: int) -> bytes:
    if length < 0:
        raise TlvError("negative length")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(body) > 4:
        raise TlvError(f"length {length} too large")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, value: bytes) -> bytes:
    return tag.to_bytes(_tag_size(tag), "big") + encode_length(len(value)) + value


def read_tag(data: bytes, offset: int) -> tuple[int, int]:
    """Return (tag, offset after the tag)."""
    if offset >= len(data):
        raise TlvError("missing tag")
    start = offset
    first = data[offset]
    offset += 1
    if first & 0x1F == 0x1F:  # tag number continues in following bytes
        while True:
            if offset >= len(data):
                raise TlvError("tag runs past the end of the data")
            if offset - start >= 4:
                raise TlvError("tag longer than 4 bytes")
            byte = data[offset]
            offset += 1
            if not byte & 0x80:
                break
    return int.from_bytes(data[start:offset], "big"), offset


def read_length(data: bytes, offset: int) -> tuple[int, int]:
    """Return (length, offset after the length field)."""
    if offset >= len(data):
        raise TlvError("missing length")
    first = data[offset]
    offset += 1
    if first < 0x80:
        return first, offset
    count = first & 0x7F
    if count == 0:
        raise TlvError("indefinite length is not allowed in the LDS")
    if count > 4:
        raise TlvError(f"length field of {count} bytes is too long")
    if offset + count > len(data):
        raise TlvError("length field runs past the end of the data")
    return int.from_bytes(data[offset:offset + count], "big"), offset + count


def iterate(data: bytes) -> Iterator[Tlv]:
    offset = 0
    while offset < len(data):
        tag, offset = read_tag(data, offset)
        length, offset = read_length(data, offset)
        end = offset + length
        if end > len(data):
            raise TlvError(f"tag {tag:X} claims {length} bytes but only {len(data) - offset} remain")
        yield Tlv(tag, bytes(data[offset:end]))
        offset = end


def decode(data: bytes) -> list[Tlv]:
    """All TLVs in data, in order."""
    return list(iterate(data))


def decode_one(data: bytes, expected_tag: int | None = None) -> Tlv:
    """Exactly one TLV spanning data (trailing bytes are an error)."""
    items = decode(data)
    if len(items) != 1:
        raise TlvError(f"expected one TLV, found {len(items)}")
    if expected_tag is not None and items[0].tag != expected_tag:
        raise TlvError(f"expected tag {expected_tag:X}, found {items[0].tag:X}")
    return items[0]


def header_length(data: bytes) -> int:
    """Size of the tag and length fields at the start of data; lets a reader
    learn a file's total size from its first few bytes."""
    _, offset = read_tag(data, 0)
    length, offset = read_length(data, offset)
    return offset


def total_length(data: bytes) -> int:
    """Size of the whole TLV starting at data[0], from its header alone."""
    _, offset = read_tag(data, 0)
    length, offset = read_length(data, offset)
    return offset + length
