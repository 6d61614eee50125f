"""DG3: encoded fingers, ISO/IEC 19794-4 finger image records (or 19794-2 minutiae records) inside
the biometric information template of ISO/IEC 7816-11, as DG2 carries the face (Doc 9303 Part 10).

    63 DG3
      7F61 biometric information group template
        02   number of instances
        7F60 biometric information template (one per finger record)
          A1       biometric header (81 type 08 finger, 82 subtype finger position, 87 format owner,
                   88 format type: 0007 finger image, 0001 finger minutiae)
          5F2E     biometric data block: the record ('FIR\\0' ... or 'FMR\\0' ...)

The chip serves DG3 only to an inspection system that passed Terminal Authentication with the right
to read it. This module frames and unframes the records; drivers.fingerprint decodes them.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.emrtd import tlv
from drivers.emrtd.lds.errors import LdsError, parsing

FILE = "DG3"
TAG = 0x63
GROUP_TEMPLATE = 0x7F61
INSTANCE_TEMPLATE = 0x7F60
HEADER_TEMPLATE = 0xA1
DATA_BLOCK = 0x5F2E
FORMAT_OWNER_SC37 = 0x0101
FORMAT_TYPE_FINGER_IMAGE = 0x0007
FORMAT_TYPE_FINGER_MINUTIAE = 0x0001
BIOMETRIC_TYPE_FINGER = 0x08
# CBEFF biometric subtype (ISO/IEC 7816-11): bit 0 right, bit 1 left, then the finger in bits 2-4
_FINGERS = {1: 0x04, 2: 0x08, 3: 0x0C, 4: 0x10, 5: 0x14}
SUBTYPES = {position: (0x01 if position <= 5 else 0x02) | _FINGERS[(position - 1) % 5 + 1] for position in range(1, 11)}
POSITIONS = {subtype: position for position, subtype in SUBTYPES.items()}
RECORD_KINDS = {b"FIR\x00": FORMAT_TYPE_FINGER_IMAGE, b"FMR\x00": FORMAT_TYPE_FINGER_MINUTIAE}


@dataclass(frozen=True)
class FingerRecord:
    format_type: int     # FORMAT_TYPE_FINGER_IMAGE or FORMAT_TYPE_FINGER_MINUTIAE
    position: int | None  # ISO/IEC 19794 finger position 1-10, from the header's subtype when given
    record: bytes        # the 19794-4 or 19794-2 record

    @property
    def kind(self) -> str:
        return "image" if self.format_type == FORMAT_TYPE_FINGER_IMAGE else "minutiae"


def encode(records: list[FingerRecord]) -> bytes:
    if not 1 <= len(records) <= 255:
        raise LdsError(FILE, "DG3 holds 1-255 finger records")
    templates = b""
    for record in records:
        header = (tlv.encode(0x80, b"\x01\x01") + tlv.encode(0x81, bytes([BIOMETRIC_TYPE_FINGER]))
                  + (tlv.encode(0x82, bytes([SUBTYPES[record.position]])) if record.position in SUBTYPES else b"")
                  + tlv.encode(0x87, FORMAT_OWNER_SC37.to_bytes(2, "big"))
                  + tlv.encode(0x88, record.format_type.to_bytes(2, "big")))
        templates += tlv.encode(INSTANCE_TEMPLATE, tlv.encode(HEADER_TEMPLATE, header)
                                + tlv.encode(DATA_BLOCK, record.record))
    return tlv.encode(TAG, tlv.encode(GROUP_TEMPLATE, tlv.encode(0x02, bytes([len(records)])) + templates))


def parse(data: bytes) -> list[FingerRecord]:
    records = []
    with parsing(FILE):
        group = tlv.decode_one(data, TAG).find(GROUP_TEMPLATE)
        if group is None or not group.constructed:
            raise LdsError(FILE, "biometric information group template (7F61) missing")
        children = group.children()
        count = next((c for c in children if c.tag == 0x02), None)
        if count is None or len(count.value) != 1:
            raise LdsError(FILE, "number of instances (02) missing or not one byte")
        templates = [c for c in children if c.tag == INSTANCE_TEMPLATE]
        if len(templates) != count.value[0] or not templates:
            raise LdsError(FILE, f"{count.value[0]} instances announced, {len(templates)} present")
        for template in templates:
            if not template.constructed:
                raise LdsError(FILE, "biometric information template (7F60) is not constructed")
            header = template.find(HEADER_TEMPLATE)
            block = template.find(DATA_BLOCK)
            if header is None or not header.constructed:
                raise LdsError(FILE, "biometric header template (A1) missing")
            if block is None:
                raise LdsError(FILE, "biometric data block (5F2E) missing (enciphered 7F2E blocks are not read)")
            elements = {child.tag: child.value for child in header.children()}
            format_type = RECORD_KINDS.get(block.value[:4])
            if format_type is None:
                raise LdsError(FILE, f"data block starts with {block.value[:4]!r}: neither 'FIR\\0' nor 'FMR\\0'")
            declared = elements.get(0x88)
            if declared is not None and int.from_bytes(declared, "big") != format_type:
                raise LdsError(FILE, f"format type {declared.hex()} does not match a {block.value[:3]!r} record")
            subtype = elements.get(0x82, b"")
            position = POSITIONS.get(subtype[0]) if len(subtype) == 1 else None
            records.append(FingerRecord(format_type, position, block.value))
    return records
