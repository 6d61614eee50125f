"""ISO/IEC 19794-2:2005 finger minutiae records ("FMR\\0", version " 20\\0"), encoded and parsed.

The 2005 layout is the one ICAO's DG3 and most AFIS exchanges use: a 24-byte record header, then
per finger view a 4-byte header, 6 bytes per minutia and an extended data block (written empty,
skipped when read). Parsing checks every length and field range and raises FingerprintError.
"""
from __future__ import annotations

import math
import struct

from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import BIFURCATION, ENDING, OTHER, PIXELS_PER_CM, Minutia, Template

FORMAT = b"FMR\x00"
VERSION = b" 20\x00"
_HEADER = struct.Struct(">4s4sIHHHHHBB")     # 24 bytes
_VIEW = struct.Struct(">BBBB")
_MINUTIA = struct.Struct(">HHBB")
_KIND_CODES = {OTHER: 0, ENDING: 1, BIFURCATION: 2}
_KINDS = {code: kind for kind, code in _KIND_CODES.items()}
_ANGLE_UNIT = 2 * math.pi / 256              # 1.40625 degrees
MAX_VIEWS = 255


def encode(views: list[Template] | Template) -> bytes:
    """One record holding a finger view per template (all of one capture device and image size)."""
    templates = [views] if isinstance(views, Template) else list(views)
    if not templates or len(templates) > MAX_VIEWS:
        raise FingerprintError(f"a record holds 1-{MAX_VIEWS} finger views")
    for template in templates:
        _check_encodable(template)
    body = b"".join(_encode_view(template) for template in templates)
    first = templates[0]
    length = _HEADER.size + len(body)
    header = _HEADER.pack(FORMAT, VERSION, length, 0, first.width, first.height, PIXELS_PER_CM, PIXELS_PER_CM,
                          len(templates), 0)
    return header + body


def _check_encodable(template: Template) -> None:
    if not (0 < template.width < 1 << 16 and 0 < template.height < 1 << 16):
        raise FingerprintError("image size must fit 16 bits")
    if not 0 <= template.position <= 10:
        raise FingerprintError(f"finger position {template.position} outside 0-10")
    if not 0 <= template.quality <= 100:
        raise FingerprintError(f"finger quality {template.quality} outside 0-100")
    if len(template.minutiae) > 255:
        raise FingerprintError("at most 255 minutiae a finger view")


def _encode_view(template: Template) -> bytes:
    view_and_impression = 0  # view 0, impression type 0: live-scan plain
    out = [_VIEW.pack(template.position, view_and_impression, template.quality, len(template.minutiae))]
    for m in template.minutiae:
        if not (0 <= m.x < 1 << 14 and 0 <= m.y < 1 << 14):
            raise FingerprintError(f"minutia ({m.x}, {m.y}) outside the 14-bit coordinate range")
        angle = round((m.angle % (2 * math.pi)) / _ANGLE_UNIT) % 256
        out.append(_MINUTIA.pack((_KIND_CODES[m.kind] << 14) | m.x, m.y, angle, m.quality))
    out.append(b"\x00\x00")  # extended data block length: none
    return b"".join(out)


def decode(data: bytes) -> list[Template]:
    """Every finger view of a record as a Template; a malformed record is a FingerprintError."""
    data = bytes(data)
    if len(data) < _HEADER.size:
        raise FingerprintError(f"ISO/IEC 19794-2 record truncated: {len(data)} bytes, header needs {_HEADER.size}")
    magic, version, length, _equipment, width, height, _xres, _yres, views, _reserved = _HEADER.unpack_from(data)
    if magic != FORMAT:
        raise FingerprintError("not an ISO/IEC 19794-2 finger minutiae record: format identifier is not FMR")
    if version != VERSION:
        raise FingerprintError(f"unsupported ISO/IEC 19794-2 version {version!r} (2005 ' 20' is read)")
    if length != len(data):
        raise FingerprintError(f"ISO/IEC 19794-2 record length field says {length} bytes, record has {len(data)}")
    if width == 0 or height == 0:
        raise FingerprintError("ISO/IEC 19794-2 record with an empty image size")
    if views == 0:
        raise FingerprintError("ISO/IEC 19794-2 record without finger views")
    offset = _HEADER.size
    templates = []
    for _ in range(views):
        template, offset = _decode_view(data, offset, width, height)
        templates.append(template)
    if offset != len(data):
        raise FingerprintError(f"ISO/IEC 19794-2 record has {len(data) - offset} bytes after its last finger view")
    return templates


def _decode_view(data: bytes, offset: int, width: int, height: int) -> tuple[Template, int]:
    if offset + _VIEW.size > len(data):
        raise FingerprintError("ISO/IEC 19794-2 finger view header truncated")
    position, _view_impression, quality, count = _VIEW.unpack_from(data, offset)
    if position > 10:
        raise FingerprintError(f"finger position {position} outside 0-10")
    if quality > 100:
        raise FingerprintError(f"finger quality {quality} outside 0-100")
    offset += _VIEW.size
    end = offset + count * _MINUTIA.size
    if end + 2 > len(data):
        raise FingerprintError(f"ISO/IEC 19794-2 finger view truncated: {count} minutiae do not fit")
    minutiae = []
    for i in range(count):
        kind_x, reserved_y, angle, m_quality = _MINUTIA.unpack_from(data, offset + i * _MINUTIA.size)
        kind_code, x, y = kind_x >> 14, kind_x & 0x3FFF, reserved_y & 0x3FFF
        if kind_code not in _KINDS:
            raise FingerprintError(f"minutia {i}: reserved type code {kind_code}")
        if x >= width or y >= height:
            raise FingerprintError(f"minutia {i} at ({x}, {y}) lies outside the {width}x{height} image")
        if m_quality > 100:
            raise FingerprintError(f"minutia {i}: quality {m_quality} outside 0-100")
        minutiae.append(Minutia(x, y, angle * _ANGLE_UNIT, _KINDS[kind_code], m_quality))
    (extended,) = struct.unpack_from(">H", data, end)
    offset = end + 2 + extended
    if offset > len(data):
        raise FingerprintError("ISO/IEC 19794-2 extended data block runs past the record")
    return Template(width, height, tuple(minutiae), position, quality), offset
