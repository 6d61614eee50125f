"""Hostile fingerprint images end in a FingerprintError that says why."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.fingerprint import wsq
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.image import encode_png, load_image


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + pixels + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _print() -> np.ndarray:
    y, x = np.mgrid[0:200, 0:160]
    return (128 + 90 * np.sin(x / 3.0 + y / 5.0)).astype(np.uint8)


def test_png_and_wsq_load_as_grey_arrays(tmp_path):
    path = tmp_path / "finger.png"
    path.write_bytes(encode_png(_print()))
    assert np.array_equal(load_image(path), _print())
    assert load_image(wsq.encode(_print())).shape == (200, 160)


@pytest.mark.parametrize("data, reason", [
    (_png_header(100_000, 100_000), "too large"),
    (_png_header(20, 20), "too small"),
    (b"just some text", "not an image"),
    (b"", "no data"),
])
def test_refused_before_decoding(data, reason):
    with pytest.raises(FingerprintError, match=reason):
        load_image(data)


def test_truncated_png_is_refused():
    with pytest.raises(FingerprintError, match="truncated or corrupt"):
        load_image(encode_png(_print())[:200])


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(FingerprintError, match="cannot read image"):
        load_image(tmp_path / "absent.png")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"BM", b"P5\n", b"II*\x00", b""]),
       st.binary(max_size=300))
def test_any_bytes_load_or_raise_a_fingerprint_error(magic, tail):
    try:
        image = load_image(magic + tail)
    except FingerprintError:
        return
    assert image.dtype == np.uint8 and image.ndim == 2


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 4000), st.integers(0, 255))
def test_damaged_pngs_load_or_raise(cut, value):
    data = bytearray(encode_png(_print()))
    data[cut % len(data)] = value
    try:
        load_image(bytes(data[:max(cut, 8)]))
    except FingerprintError:
        pass
