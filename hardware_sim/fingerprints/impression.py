"""Impressions: one touch of a master print on a 500 ppi scanner.

The touch is a chain of what makes two real impressions of one finger differ: elastic skin
distortion (a smooth random displacement field), rotation and translation on the platen, a contact
region that pressure enlarges and a careless touch shifts, dry skin (thin, broken ridges) or wet
skin (thick, merged ridges), then sensor blur and noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from hardware_sim.fingerprints.master import HEIGHT as MASTER_HEIGHT
from hardware_sim.fingerprints.master import WIDTH as MASTER_WIDTH
from hardware_sim.fingerprints.master import Master

HEIGHT, WIDTH = 400, 300     # a single-finger optical sensor's window at 500 ppi (about 20 x 15 mm)


@dataclass(frozen=True)
class Touch:
    """How one impression is taken; `difficulty` scales every random departure from a clean touch."""
    seed: int
    difficulty: float = 1.0
    skin: str | None = None   # "dry", "wet" or "normal"; None: drawn from the seed


def make_impression(master: Master, touch: Touch) -> np.ndarray:
    """The impression as a grey uint8 image, dark ridges on a light platen."""
    rng = np.random.default_rng([master.seed, touch.seed, 0x1A7])
    d = touch.difficulty
    skin = touch.skin or str(rng.choice(["normal", "dry", "wet"], p=[0.6, 0.2, 0.2]))
    map_x, map_y = _geometry(rng, d)
    ridges = cv2.remap(master.ridges, map_x, map_y, cv2.INTER_LINEAR, borderValue=1.0)
    shape = cv2.remap(master.shape.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderValue=0.0) > 0.5
    contact = shape & _contact(rng, d)
    ink = _skin(ridges, skin, rng, d)
    grey = 235.0 - 190.0 * ink
    grey = cv2.GaussianBlur(grey, (0, 0), 0.6 + 0.3 * d * rng.random())
    grey = np.where(contact, grey, 235.0) + rng.normal(0, 4 + 4 * d, grey.shape)
    return np.clip(grey, 0, 255).astype(np.uint8)


def _geometry(rng: np.random.Generator, d: float) -> tuple[np.ndarray, np.ndarray]:
    """Where in the master each impression pixel comes from: rotation, translation and elastic warp."""
    angle = math.radians(rng.normal(0, 8 * d))
    shift_x, shift_y = rng.normal(0, 12 * d), rng.normal(0, 15 * d)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    u, v = x - WIDTH / 2, y - HEIGHT / 2
    cos, sin = math.cos(angle), math.sin(angle)
    map_x = cos * u - sin * v + MASTER_WIDTH / 2 + shift_x
    map_y = sin * u + cos * v + MASTER_HEIGHT / 2 + shift_y
    for axis in (map_x, map_y):  # skin stretches smoothly: a coarse random field, upsampled
        coarse = rng.normal(0, 3.5 * d, (5, 4)).astype(np.float32)
        axis += cv2.resize(coarse, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)
    return map_x.astype(np.float32), map_y.astype(np.float32)


def _contact(rng: np.random.Generator, d: float) -> np.ndarray:
    """The region pressed on the platen: an ellipse, larger with pressure, shifted by a careless touch."""
    pressure = float(np.clip(rng.normal(1.0, 0.12 * d), 0.6, 1.3))
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    centre = (int(WIDTH / 2 + rng.normal(0, 20 * d)), int(HEIGHT / 2 + rng.normal(0, 25 * d)))
    axes = (int(WIDTH * 0.5 * pressure), int(HEIGHT * 0.5 * pressure))
    cv2.ellipse(mask, centre, axes, float(rng.normal(0, 10)), 0, 360, 1, -1)
    return mask.astype(bool)


def _skin(ridges: np.ndarray, skin: str, rng: np.random.Generator, d: float) -> np.ndarray:
    """Ink in [0, 1] from the ridge pattern: dry skin prints thin and broken, wet skin thick."""
    level = {"normal": 0.0, "dry": 0.35 * d, "wet": -0.35 * d}[skin]   # raises or lowers the inking threshold
    ink = np.clip((-ridges - level + 0.6) / 1.2, 0.0, 1.0)   # ridges are negative in the master
    if skin == "dry":
        blotches = cv2.resize(rng.random((HEIGHT // 8, WIDTH // 8)).astype(np.float32), (WIDTH, HEIGHT))
        ink *= np.clip(blotches * 2.2, 0.0, 1.0)
    return ink.astype(np.float32)
