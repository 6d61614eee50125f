"""What a hand-held camera adds to a photograph of a page Limes did not draw: fewer pixels, a
turn, a keystone, light falling off across the page, the page upside down. Applied to real
specimen photographs (tests/drivers/fixtures/pages/real) in the tests and `limes bench ocr --real`,
so the reader is tried on real print made harder, not only on the simulator's own pages."""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np


def smaller(image: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def turned(image: np.ndarray, degrees: float) -> np.ndarray:
    """Turned on a canvas large enough that no corner of the page is lost (a tightly cropped scan
    would otherwise lose the ends of its MRZ), the background grey as a table."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (round(width * cos + height * sin), round(width * sin + height * cos))
    matrix[:, 2] += (size[0] - width) / 2, (size[1] - height) / 2
    return cv2.warpAffine(image, matrix, size, borderMode=cv2.BORDER_CONSTANT, borderValue=(128, 128, 128))


def keystone(image: np.ndarray, amount: float) -> np.ndarray:
    """As a camera held above one corner sees the page: the top drawn in, one side lowered."""
    height, width = image.shape[:2]
    corners = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    seen = np.float32([[width * amount, 0], [width * (1 - amount), height * amount / 2], [width, height],
                       [0, height]])
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(corners, seen), (width, height),
                               borderMode=cv2.BORDER_REPLICATE)


def shaded(image: np.ndarray) -> np.ndarray:
    """Light falling off across the page to under half, and down it to 80 %."""
    height, width = image.shape[:2]
    light = np.linspace(1.0, 0.45, width)[None, :, None] * np.linspace(1.0, 0.8, height)[:, None, None]
    return np.clip(image.astype(np.float32) * light, 0, 255).astype(np.uint8)


def upside_down(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[::-1, ::-1])


HANDHELD: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "half size": lambda image: smaller(image, 0.5),
    "third size": lambda image: smaller(image, 1 / 3),
    "turned 4 degrees": lambda image: turned(image, 4.0),
    "turned 8 degrees": lambda image: turned(image, -8.0),
    "keystone": lambda image: keystone(image, 0.06),
    "shaded": shaded,
    "upside down": upside_down,
}
