"""ANSI/NIST-ITL 1-2011 transactions carrying finger images: a Type-1 header with Type-4 or Type-14 records.

Type-4 (high-resolution grey finger image) is binary: an 18-byte header, then the image. Type-14
(variable-resolution finger image) and Type-1 are tagged ASCII fields "T.NNN:value" parted by GS,
subfields by RS, items by US, each record closed by FS, its image in field .999 as raw bytes.
Images travel WSQ-compressed (drivers.fingerprint.wsq) or uncompressed. What is read is checked
field by field; anything malformed is a FingerprintError naming the record and field.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date

import numpy as np

from drivers.fingerprint import wsq
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.image import check_size

FS, GS, RS, US = b"\x1c", b"\x1d", b"\x1e", b"\x1f"
VERSION = "0500"                 # ANSI/NIST-ITL 1-2011
RESOLUTION_PPMM = "19.69"        # 500 ppi in pixels per millimetre
MAX_TRANSACTION = 64 * 1024 * 1024
_TYPE4 = struct.Struct(">IBB6sBHHB")   # 18 bytes
_POSITIONS = set(range(0, 11)) | {13, 14, 15}   # 13-15: right four, left four, both thumbs (slaps)
_COMPRESSIONS = {"NONE": 0, "WSQ": 1}
_TYPE14_COMPRESSION = {"NONE": "NONE", "WSQ": "WSQ20"}


@dataclass(frozen=True)
class FingerImage:
    position: int                 # finger position code (FGP)
    image: np.ndarray             # (H, W) uint8, 500 ppi
    compression: str = "WSQ"      # how it travels: WSQ or NONE
    quality: int | None = None    # 0-100 (Type-14 field 14.024 FQM); Type-4 has no place for it

    def __post_init__(self) -> None:
        if self.position not in _POSITIONS:
            raise FingerprintError(f"finger position {self.position} is not one of 0-10, 13-15")
        if self.compression not in _COMPRESSIONS:
            raise FingerprintError(f"compression {self.compression!r} is neither WSQ nor NONE")


def encode(fingers: list[FingerImage], record_type: int = 14, *, agency: str = "LIMES", control: str = "1",
           when: date | None = None) -> bytes:
    """A transaction: its Type-1 record, then one Type-4 or Type-14 record per finger image."""
    if record_type not in (4, 14):
        raise FingerprintError("finger images go in Type-4 or Type-14 records")
    if not 0 < len(fingers) < 100:
        raise FingerprintError("a transaction carries 1-99 finger images")
    day = (when or date.today()).strftime("%Y%m%d")
    content = [f"1\x1f{len(fingers)}".encode()] + [f"{record_type}\x1f{i:02d}".encode()
                                                   for i in range(1, len(fingers) + 1)]
    header = _tagged(1, [(2, VERSION.encode()), (3, RS.join(content)), (4, b"CRM"), (5, day.encode()),
                         (7, agency.encode()), (8, agency.encode()), (9, control.encode()),
                         (11, RESOLUTION_PPMM.encode()), (12, RESOLUTION_PPMM.encode())])
    encode_record = _type4 if record_type == 4 else _type14
    return header + b"".join(encode_record(finger, idc, day) for idc, finger in enumerate(fingers, start=1))


def _image_bytes(finger: FingerImage) -> bytes:
    image = check_size(finger.image)
    return wsq.encode(image) if finger.compression == "WSQ" else np.ascontiguousarray(image).tobytes()


def _type4(finger: FingerImage, idc: int, _day: str) -> bytes:
    data = _image_bytes(finger)
    height, width = finger.image.shape
    positions = bytes([finger.position, 255, 255, 255, 255, 255])
    return _TYPE4.pack(_TYPE4.size + len(data), idc, 0, positions, 0, width, height,
                       _COMPRESSIONS[finger.compression]) + data


def _type14(finger: FingerImage, idc: int, day: str) -> bytes:
    height, width = finger.image.shape
    fields = [(2, f"{idc:02d}".encode()), (3, b"0"), (4, b"LIMES"), (5, day.encode()), (6, str(width).encode()),
              (7, str(height).encode()), (8, b"1"), (9, b"500"), (10, b"500"),
              (11, _TYPE14_COMPRESSION[finger.compression].encode()), (12, b"8"), (13, str(finger.position).encode())]
    if finger.quality is not None:
        fields.append((24, US.join([str(finger.position).encode(), str(finger.quality).encode(), b"0000", b"0"])))
    fields.append((999, _image_bytes(finger)))
    return _tagged(14, fields)


def _tagged(record_type: int, fields: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(GS + f"{record_type}.{tag:03d}:".encode() + value for tag, value in fields) + FS
    length = 0
    while True:  # LEN counts its own digits: settle it
        first = f"{record_type}.001:{length}".encode()
        if len(first) + len(body) == length:
            return first + body
        length = len(first) + len(body)


def decode(data: bytes) -> list[FingerImage]:
    """The finger images of a transaction (Type-4 and Type-14 records; other record types are refused)."""
    data = bytes(data)
    if len(data) > MAX_TRANSACTION:
        raise FingerprintError(f"transaction of {len(data)} bytes is over {MAX_TRANSACTION}")
    fields, offset = _read_tagged(data, 0, 1)
    types = _content(fields)
    fingers = []
    for record_type in types:
        if record_type == 4:
            finger, offset = _read_type4(data, offset)
        elif record_type == 14:
            record, offset = _read_tagged(data, offset, 14)
            finger = _finger_of_type14(record)
        else:
            raise FingerprintError(f"record type {record_type} is not read here (only Type-4 and Type-14)")
        fingers.append(finger)
    if offset != len(data):
        raise FingerprintError(f"{len(data) - offset} bytes after the last record the Type-1 record lists")
    return fingers


def _content(fields: dict[int, bytes]) -> list[int]:
    if fields.get(2) is None:
        raise FingerprintError("Type-1 record without its version field 1.002")
    if 3 not in fields:
        raise FingerprintError("Type-1 record without its content field 1.003")
    subfields = [s.split(US) for s in fields[3].split(RS)]
    try:
        count = int(subfields[0][1])
        types = [int(s[0]) for s in subfields[1:]]
    except (IndexError, ValueError) as exc:
        raise FingerprintError("Type-1 field 1.003 (content) is malformed") from exc
    if count != len(types):
        raise FingerprintError(f"Type-1 field 1.003 announces {count} records and lists {len(types)}")
    return types


def _read_tagged(data: bytes, offset: int, expected: int) -> tuple[dict[int, bytes], int]:
    prefix = f"{expected}.001:".encode()
    if data[offset:offset + len(prefix)] != prefix:
        raise FingerprintError(f"record at byte {offset} does not start with field {expected}.001 (LEN)")
    end_of_len = data.find(GS, offset, offset + 32)
    if end_of_len < 0:
        raise FingerprintError(f"Type-{expected} record at byte {offset}: LEN field not closed")
    try:
        length = int(data[offset + len(prefix):end_of_len])
    except ValueError as exc:
        raise FingerprintError(f"Type-{expected} record at byte {offset}: LEN is not a number") from exc
    if length <= end_of_len - offset or offset + length > len(data):
        raise FingerprintError(f"Type-{expected} record at byte {offset}: LEN {length} does not fit the data")
    record = data[offset:offset + length]
    if not record.endswith(FS):
        raise FingerprintError(f"Type-{expected} record at byte {offset} is not closed by a file separator")
    return _fields(record[:-1], expected), offset + length


def _fields(record: bytes, expected: int) -> dict[int, bytes]:
    fields: dict[int, bytes] = {}
    rest = record
    while rest:
        colon = rest.find(b":")
        if colon < 0:
            raise FingerprintError(f"Type-{expected} record: a field without its tag")
        tag = rest[:colon].decode("ascii", "replace")
        record_type, _, number = tag.partition(".")
        if record_type != str(expected) or not number.isdigit() or len(number) > 3:
            raise FingerprintError(f"Type-{expected} record: unexpected field tag {tag!r}")
        if int(number) == 999:  # the image: raw bytes to the end of the record
            fields[999] = rest[colon + 1:]
            break
        end = rest.find(GS, colon)
        value, rest = (rest[colon + 1:], b"") if end < 0 else (rest[colon + 1:end], rest[end + 1:])
        if int(number) in fields:
            raise FingerprintError(f"Type-{expected} record: field {tag} appears twice")
        fields[int(number)] = value
    return fields


def _read_type4(data: bytes, offset: int) -> tuple[FingerImage, int]:
    if offset + _TYPE4.size > len(data):
        raise FingerprintError(f"Type-4 record at byte {offset} truncated")
    length, _idc, _impression, positions, _isr, width, height, compression = _TYPE4.unpack_from(data, offset)
    if length < _TYPE4.size or offset + length > len(data):
        raise FingerprintError(f"Type-4 record at byte {offset}: LEN {length} does not fit the data")
    names = {code: name for name, code in _COMPRESSIONS.items()}
    if compression not in names:
        raise FingerprintError(f"Type-4 record: compression code {compression} is neither 0 (none) nor 1 (WSQ)")
    pixels = data[offset + _TYPE4.size:offset + length]
    image = _image(pixels, names[compression], width, height, "Type-4")
    return FingerImage(_position(positions[0]), image, names[compression]), offset + length


def _finger_of_type14(fields: dict[int, bytes]) -> FingerImage:
    def number(tag: int) -> int:
        try:
            return int(fields[tag])
        except (KeyError, ValueError) as exc:
            raise FingerprintError(f"Type-14 field 14.{tag:03d} missing or not a number") from exc

    width, height = number(6), number(7)
    compression = {b"NONE": "NONE", b"WSQ20": "WSQ", b"WSQ": "WSQ"}.get(fields.get(11, b""))
    if compression is None:
        raise FingerprintError(f"Type-14 field 14.011: compression {fields.get(11)!r} is not NONE or WSQ20")
    if 999 not in fields:
        raise FingerprintError("Type-14 record without its image field 14.999")
    position = _position(int(fields[13].split(RS)[0]) if fields.get(13, b"").split(RS)[0].isdigit() else -1)
    quality = None
    if 24 in fields:
        items = fields[24].split(RS)[0].split(US)
        if len(items) < 2 or not items[1].isdigit() or int(items[1]) > 100:
            raise FingerprintError("Type-14 field 14.024 (finger quality) is malformed")
        quality = int(items[1])
    image = _image(fields[999], compression, width, height, "Type-14")
    return FingerImage(position, image, compression, quality)


def _position(code: int) -> int:
    if code not in _POSITIONS:
        raise FingerprintError(f"finger position {code} is not one of 0-10, 13-15")
    return code


def _image(pixels: bytes, compression: str, width: int, height: int, where: str) -> np.ndarray:
    if compression == "WSQ":
        image = wsq.decode(pixels)
        if image.shape != (height, width):
            raise FingerprintError(f"{where} record: WSQ image is {image.shape[1]}x{image.shape[0]}, "
                                   f"the record says {width}x{height}")
        return check_size(image)
    if len(pixels) != width * height:
        raise FingerprintError(f"{where} record: {len(pixels)} image bytes for {width}x{height} pixels")
    return check_size(np.frombuffer(pixels, np.uint8).reshape(height, width).copy())
