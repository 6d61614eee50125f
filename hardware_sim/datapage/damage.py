"""What a reader's camera does to a clean page: paper texture, a slightly skewed placement on
the glass, defocus blur, glare from the lamp, sensor noise, then JPEG compression."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_GLASS = (38, 40, 44)   # the reader's window around the page
_MARGIN = 24            # pixels of glass on every side


@dataclass(frozen=True)
class Damage:
    rotation_degrees: float = 0.0
    blur_sigma: float = 0.0           # Gaussian defocus, pixels
    glare: float = 0.0                # 0..1: how far the lamp's hot spot whitens the page
    glare_centre: tuple[float, float] = (0.5, 0.5)   # as fractions of the page
    glare_radius: float = 0.25        # as a fraction of the page width
    noise_sigma: float = 0.0          # sensor noise, grey levels
    texture: float = 0.0              # 0..1: paper fibres and mottling
    brightness: float = 1.0           # lamp strength
    jpeg_quality: int = 90
    ink_spread: int = 0               # pixels the print's strokes are thickened by (heavier print than the font)

    @classmethod
    def realistic(cls, rng: np.random.Generator) -> Damage:
        """A damage drawn from what desk readers show: small skew, mild blur, a glare spot
        that may cross the MRZ, noise, and the JPEG quality of a reader's image output."""
        return cls(
            rotation_degrees=float(rng.uniform(-3.0, 3.0)),
            blur_sigma=float(rng.uniform(0.0, 1.3)),
            glare=float(rng.uniform(0.0, 0.65)),
            glare_centre=(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.2, 0.95))),
            glare_radius=float(rng.uniform(0.08, 0.3)),
            noise_sigma=float(rng.uniform(0.0, 9.0)),
            texture=float(rng.uniform(0.2, 1.0)),
            brightness=float(rng.uniform(0.8, 1.1)),
            jpeg_quality=int(rng.integers(55, 92)),
        )


def damage_page(page: np.ndarray, damage: Damage, seed: int = 0) -> np.ndarray:
    """`page` (RGB) as the reader's camera sees it, on its glass: RGB uint8, before JPEG."""
    rng = np.random.default_rng(seed)
    if damage.ink_spread:   # the darkest of the neighbourhood: every stroke grows by ink_spread on each side
        page = cv2.erode(page, np.ones((2 * damage.ink_spread + 1,) * 2, np.uint8))
    image = page.astype(np.float32)
    height, width = image.shape[:2]
    if damage.texture:
        image *= _paper(height, width, damage.texture, rng)[..., None]
    image = _place_on_glass(image, damage.rotation_degrees)
    image *= damage.brightness
    if damage.glare:
        image = _glare(image, damage, width)
    if damage.blur_sigma > 0.05:
        image = cv2.GaussianBlur(image, (0, 0), damage.blur_sigma)
    if damage.noise_sigma:
        image += rng.normal(0.0, damage.noise_sigma, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """An RGB array as JPEG bytes."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the page as JPEG")
    return data.tobytes()


def _paper(height: int, width: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    """A multiplicative field near 1: blotches at a few millimetres and short dark fibres."""
    coarse = rng.normal(0.0, 1.0, (height // 16 + 1, width // 16 + 1)).astype(np.float32)
    mottling = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC) * 0.035
    grain = cv2.GaussianBlur(rng.normal(0.0, 1.0, (height, width)).astype(np.float32), (0, 0), 0.8) * 0.03
    field = 1.0 + strength * (mottling + grain)
    fibres = np.zeros((height, width), np.float32)
    for _ in range(int(40 * strength)):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        angle, length = rng.uniform(0, np.pi), rng.uniform(4, 18)
        end = (int(x + length * np.cos(angle)), int(y + length * np.sin(angle)))
        cv2.line(fibres, (x, y), end, float(rng.uniform(0.05, 0.15)), 1)
    return field - strength * fibres


def _place_on_glass(image: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image.shape[:2]
    size = (width + 2 * _MARGIN, height + 2 * _MARGIN)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    matrix[:, 2] += _MARGIN   # the page turned about its centre, inside the margin of glass
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=_GLASS)


def _glare(image: np.ndarray, damage: Damage, page_width: int) -> np.ndarray:
    height, width = image.shape[:2]
    cx, cy = damage.glare_centre[0] * width, damage.glare_centre[1] * height
    radius = max(1.0, damage.glare_radius * page_width)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    spot = np.exp(-(((xs - cx) / (radius * 1.6)) ** 2 + ((ys - cy) / radius) ** 2))
    veil = damage.glare * spot[..., None]
    return image * (1.0 - veil) + 255.0 * veil
