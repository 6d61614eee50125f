"""Page image bytes to pixels, refusing what is not a page photograph before decoding it."""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_PIXELS = 40_000_000          # a 600 dpi colour scan of a TD3 page is under 5 million
MIN_SIDE = 100                   # an MRZ strip alone: two lines of legible characters need about this
FORMATS = {"JPEG", "PNG"}        # what document readers send


class PageImageError(ValueError):
    """The bytes are not a usable page image; the message says why."""


def decode_image(data: bytes) -> np.ndarray:
    """The image in `data` (JPEG or PNG) as an RGB uint8 array."""
    if not data:
        raise PageImageError("the image is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise PageImageError(f"the image is {len(data)} bytes; at most {MAX_IMAGE_BYTES} are read")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in FORMATS:
                    raise PageImageError(f"the image is {image.format}; JPEG or PNG expected")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise PageImageError(f"the image is {width}x{height} pixels; at most {MAX_PIXELS} are read")
                if min(width, height) < MIN_SIDE:
                    raise PageImageError(f"the image is {width}x{height} pixels; a page needs "
                                         f"at least {MIN_SIDE} on each side")
                return np.asarray(image.convert("RGB"))
    except PageImageError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise PageImageError(f"the image is too large: {exc}") from None
    except UnidentifiedImageError as exc:
        raise PageImageError(f"not a readable JPEG or PNG image: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:   # what PIL raises for truncated or corrupt data
        raise PageImageError(f"the image is broken: {exc}") from None
