"""ISO/IEC 19794-4:2005 finger image records ("FIR\\0", version "010\\0"): what ICAO's DG3 carries.

    general header (32 bytes): format, version, record length (6 bytes), capture device id,
        image acquisition level, number of fingers, scale units (1 ppi, 2 ppcm), scan and image
        resolution (horizontal, vertical), pixel depth, compression, reserved
    per finger (14-byte header, then the image): data block length, finger position, count of views,
        view number, quality, impression type, width, height, reserved

Images travel WSQ-compressed (compression 2, what Doc 9303 asks of DG3 images next to JPEG 2000) or
uncompressed (0); PNG (5) is read too. Every length and field is checked; a malformed record is a
FingerprintError naming what is wrong.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from drivers.fingerprint import wsq
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.image import check_size, encode_png, load_image

FORMAT = b"FIR\x00"
VERSION = b"010\x00"
_HEADER = struct.Struct(">4s4s6sHHBBHHHHBBH")   # 32 bytes
_FINGER = struct.Struct(">IBBBBBHHB")            # 14 bytes
UNCOMPRESSED, WSQ, PNG = 0, 2, 5
COMPRESSIONS = {UNCOMPRESSED: "uncompressed", 1: "uncompressed bit-packed", WSQ: "WSQ", 3: "JPEG",
                4: "JPEG 2000", PNG: "PNG"}
ACQUISITION_LEVEL_31 = 31       # 500 ppi, 8 bits grey: the level for 500 ppi identification flats
PPI = 500
LIVE_SCAN_PLAIN = 0
MAX_RECORD = 16 * 1024 * 1024


@dataclass(frozen=True)
class FingerView:
    position: int           # 0 unknown, 1 right thumb ... 10 left little
    image: np.ndarray       # (H, W) uint8, 500 ppi
    quality: int = 254      # 0-100, or 254 (not computed) and 255 (failed), as the standard says
    impression: int = LIVE_SCAN_PLAIN


def encode(views: list[FingerView], compression: int = WSQ) -> bytes:
    if not 1 <= len(views) <= 255:
        raise FingerprintError("a finger image record holds 1-255 views")
    if compression not in (UNCOMPRESSED, WSQ, PNG):
        raise FingerprintError(f"Limes writes uncompressed, WSQ or PNG finger images, not {compression}")
    blocks = []
    for view in views:
        if not 0 <= view.position <= 10:
            raise FingerprintError(f"finger position {view.position} is not 0-10")
        height, width = view.image.shape
        data = {UNCOMPRESSED: lambda image: np.ascontiguousarray(image, np.uint8).tobytes(), WSQ: wsq.encode,
                PNG: encode_png}[compression](view.image)
        blocks.append(_FINGER.pack(_FINGER.size + len(data), view.position, 1, 1, view.quality, view.impression,
                                   width, height, 0) + data)
    body = b"".join(blocks)
    length = _HEADER.size + len(body)
    header = _HEADER.pack(FORMAT, VERSION, length.to_bytes(6, "big"), 0, ACQUISITION_LEVEL_31, len(views), 1,
                          PPI, PPI, PPI, PPI, 8, compression, 0)
    return header + body


def decode(data: bytes) -> list[FingerView]:
    if len(data) > MAX_RECORD:
        raise FingerprintError(f"finger image record of {len(data)} bytes is larger than {MAX_RECORD}")
    if len(data) < _HEADER.size:
        raise FingerprintError("finger image record shorter than its 32-byte header")
    (magic, version, length, _device, _level, count, units, _hs, _vs, hres, vres, depth, compression,
     _reserved) = _HEADER.unpack_from(data)
    if magic != FORMAT:
        raise FingerprintError(f"finger image record starts with {magic!r}, not 'FIR\\0'")
    if version != VERSION:
        raise FingerprintError(f"finger image record version {version!r} is not 19794-4:2005 ('010')")
    length = int.from_bytes(length, "big")
    if length != len(data):
        raise FingerprintError(f"finger image record claims {length} bytes but holds {len(data)}")
    if count == 0:
        raise FingerprintError("finger image record holds no finger")
    if depth != 8:
        raise FingerprintError(f"pixel depth {depth} bits: Limes reads 8-bit grey images")
    if compression not in (UNCOMPRESSED, WSQ, PNG):
        raise FingerprintError(f"{COMPRESSIONS.get(compression, f'compression {compression}')} finger images "
                               "are not supported (uncompressed, WSQ or PNG)")
    resolution = hres if units == 1 else round(hres * 2.54) if units == 2 else 0
    if not 490 <= resolution <= 510 or hres != vres:
        raise FingerprintError(f"image resolution {hres}x{vres} (units {units}) is not 500 ppi")
    views, offset = [], _HEADER.size
    for _ in range(count):
        if offset + _FINGER.size > len(data):
            raise FingerprintError("finger image record ends inside a finger header")
        block, position, _views, _number, quality, impression, width, height, _ = _FINGER.unpack_from(data, offset)
        end = offset + block
        if block < _FINGER.size or end > len(data):
            raise FingerprintError(f"finger data block of {block} bytes does not fit the record")
        if not 0 <= position <= 10:
            raise FingerprintError(f"finger position {position} is not 0-10")
        payload = data[offset + _FINGER.size:end]
        views.append(FingerView(position, _image(payload, compression, width, height), quality, impression))
        offset = end
    if offset != len(data):
        raise FingerprintError(f"{len(data) - offset} bytes after the last finger")
    return views


def _image(payload: bytes, compression: int, width: int, height: int) -> np.ndarray:
    if compression == UNCOMPRESSED:
        if len(payload) != width * height:
            raise FingerprintError(f"uncompressed {width}x{height} image needs {width * height} bytes, "
                                   f"not {len(payload)}")
        return check_size(np.frombuffer(payload, np.uint8).reshape(height, width).copy())
    if compression == WSQ and not wsq.is_wsq(payload):
        raise FingerprintError("finger image marked WSQ is not a WSQ stream")
    image = load_image(payload)
    if image.shape != (height, width):
        raise FingerprintError(f"finger header says {width}x{height}, the image is {image.shape[1]}x{image.shape[0]}")
    return image
