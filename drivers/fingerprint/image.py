"""Fingerprint images from files or bytes: 8-bit grey arrays, checked before they are decoded.

PNG, JPEG, BMP, PGM and TIFF are read by OpenCV after Pillow has read their header (so a
hostile header claiming a huge image is refused without allocating it); WSQ by drivers.fingerprint.wsq.
Images are taken to be 500 ppi, the resolution every part of this package is tuned for.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from drivers.fingerprint import wsq
from drivers.fingerprint.errors import FingerprintError

MIN_SIDE = 64          # under about 3 mm at 500 ppi there is no print to compare
MAX_SIDE = 2048        # a full 4-finger slap at 500 ppi is about 1600 x 1500
MAX_FILE = 32 * 1024 * 1024


def load_image(source: str | Path | bytes | bytearray) -> np.ndarray:
    """The image as an (H, W) uint8 array; anything unusable is a FingerprintError that says why."""
    data = _read(source)
    if wsq.is_wsq(data):
        return check_size(wsq.decode(data))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # Pillow's complaints of odd metadata: only the size is read here
            with Image.open(io.BytesIO(data)) as header:
                width, height = header.size
    except Image.DecompressionBombError as exc:
        raise FingerprintError(f"image too large: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise FingerprintError("not an image this reader knows (PNG, JPEG, BMP, PGM, TIFF, WSQ)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise FingerprintError(f"cannot read the image's header: {exc}") from exc
    _check_dimensions(width, height)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if decoded is None:
        raise FingerprintError("cannot decode image: truncated or corrupt")
    return check_size(decoded)


def check_size(image: np.ndarray) -> np.ndarray:
    if image.ndim != 2 or image.dtype != np.uint8:
        raise FingerprintError("a fingerprint image is an 8-bit grey array")
    _check_dimensions(image.shape[1], image.shape[0])
    return image


def _check_dimensions(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise FingerprintError(f"image {width}x{height} too small: at least {MIN_SIDE} pixels a side at 500 ppi")
    if max(width, height) > MAX_SIDE:
        raise FingerprintError(f"image {width}x{height} too large: at most {MAX_SIDE} pixels a side")


def _read(source: str | Path | bytes | bytearray) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            if path.stat().st_size > MAX_FILE:
                raise FingerprintError(f"image file {path} is over {MAX_FILE} bytes")
            data = path.read_bytes()
        except OSError as exc:
            raise FingerprintError(f"cannot read image {path}: {exc.strerror or exc}") from exc
    if not data:
        raise FingerprintError("cannot decode image: no data")
    if len(data) > MAX_FILE:
        raise FingerprintError(f"image of {len(data)} bytes is over {MAX_FILE} bytes")
    return data


def encode_png(image: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", check_size(image))
    if not ok:
        raise FingerprintError("cannot encode image as PNG")
    return buffer.tobytes()
