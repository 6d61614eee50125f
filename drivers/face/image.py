"""Loading images from files or bytes into RGB uint8 arrays."""
from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from drivers.face.errors import FaceError


def load_image(source: str | Path | bytes | bytearray) -> np.ndarray:
    """Return the image as an (H, W, 3) RGB uint8 array.

    JPEG, PNG (palette, grey, 16-bit, with alpha) and JPEG 2000 are read by OpenCV;
    Pillow is the fallback for what OpenCV cannot read (and for odd PNG modes).
    Transparent pixels are composited on white, as a photo print would show them.
    """
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FaceError(f"cannot read image {path}: {exc.strerror or exc}") from exc
    if not data:
        raise FaceError("cannot decode image: no data")
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is not None:
        return _to_rgb(decoded)
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            return _pillow_to_rgb(picture)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise FaceError(f"cannot decode image: {exc}") from exc


def _to_rgb(decoded: np.ndarray) -> np.ndarray:
    image = decoded
    if image.dtype == np.uint16:  # 16-bit PNG / JPEG 2000
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if channels == 4:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB).astype(np.float32)
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        return (rgb * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _pillow_to_rgb(picture: Image.Image) -> np.ndarray:
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.array(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.array(picture.convert("RGB"))
