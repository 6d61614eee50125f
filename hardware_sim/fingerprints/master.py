"""Master prints: a finger's ridge pattern before any touch distorts it.

The orientation field is the zero-pole model of Sherlock and Monro: each core turns ridges by
half its argument, each delta by minus half. Arches have no singular points and get a bending field
instead. Ridges grow from noise, filtered again and again by the Gabor kernel of the local
orientation (drivers.fingerprint.ridges), so they end and fork where the noise put phase defects,
as minutiae do.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from drivers.fingerprint import ridges

CLASSES = ("arch", "tented_arch", "left_loop", "right_loop", "whorl")
HEIGHT, WIDTH = 480, 400          # pixels at 500 ppi: a master is larger than any impression of it
_GROWTH_ROUNDS = 5


@dataclass(frozen=True)
class Master:
    seed: int
    pattern: str
    ridge_period: float
    cores: tuple[tuple[float, float], ...]
    deltas: tuple[tuple[float, float], ...]
    ridges: np.ndarray        # float32 in [-1, 1], ridges negative, (HEIGHT, WIDTH)
    shape: np.ndarray         # bool: the fingertip's outline


def make_master(seed: int, pattern: str | None = None) -> Master:
    rng = np.random.default_rng([seed, 0x5F1])
    pattern = pattern or CLASSES[int(rng.choice(len(CLASSES), p=[0.05, 0.05, 0.32, 0.33, 0.25]))]
    if pattern not in CLASSES:
        raise ValueError(f"unknown pattern class {pattern!r}; one of {', '.join(CLASSES)}")
    cores, deltas = _singular_points(pattern, rng)
    theta = _orientation(pattern, cores, deltas, rng)
    ridge_period = float(rng.uniform(8.0, 10.5))
    pattern_values = _grow(theta, ridge_period, rng)
    return Master(seed, pattern, ridge_period, tuple(cores), tuple(deltas), pattern_values, _fingertip(rng))


def _singular_points(pattern: str, rng: np.random.Generator) -> tuple[list, list]:
    cx, cy = WIDTH / 2 + rng.normal(0, 12), HEIGHT * 0.42 + rng.normal(0, 15)
    if pattern == "arch":
        return [], []
    if pattern == "tented_arch":
        return [(cx, cy)], [(cx + rng.normal(0, 5), cy + 60 + rng.normal(0, 8))]
    if pattern in ("left_loop", "right_loop"):
        side = -1 if pattern == "left_loop" else 1
        return [(cx - side * 25, cy)], [(cx + side * (95 + rng.normal(0, 10)), cy + 115 + rng.normal(0, 12))]
    spread = 22 + rng.normal(0, 4)
    tilt = rng.normal(0, 0.3)
    cores = [(cx - spread * math.sin(tilt), cy - spread * math.cos(tilt)),
             (cx + spread * math.sin(tilt), cy + spread * math.cos(tilt))]
    deltas = [(cx - 125 + rng.normal(0, 10), cy + 120 + rng.normal(0, 10)),
              (cx + 125 + rng.normal(0, 10), cy + 120 + rng.normal(0, 10))]
    return cores, deltas


def _orientation(pattern: str, cores: list, deltas: list, rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    if pattern == "arch":
        bend = rng.uniform(0.6, 1.0)
        crest = HEIGHT * rng.uniform(0.35, 0.5)
        slope = -bend * np.tanh((x - WIDTH / 2) / 110.0) * np.exp(-np.maximum(y - crest, 0) / 260.0)
        theta = np.arctan(slope)
    else:
        theta = np.zeros_like(x)
        for px, py in deltas:   # y runs down here, so the signs are those of the model mirrored
            theta -= 0.5 * np.arctan2(y - py, x - px)
        for px, py in cores:
            theta += 0.5 * np.arctan2(y - py, x - px)
    return np.mod(theta + rng.normal(0, 0.03), np.pi).astype(np.float32)


def _grow(theta: np.ndarray, ridge_period: float, rng: np.random.Generator) -> np.ndarray:
    values = rng.normal(0, 1, theta.shape).astype(np.float32)
    for _ in range(_GROWTH_ROUNDS):
        values = ridges.enhance(values, theta, ridge_period)
        values = np.clip(values / (values.std() + 1e-6) * 1.5, -1.0, 1.0)
    return values


def _fingertip(rng: np.random.Generator) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    axes = (int(WIDTH * rng.uniform(0.40, 0.46)), int(HEIGHT * rng.uniform(0.52, 0.6)))
    cv2.ellipse(mask, (WIDTH // 2, int(HEIGHT * 0.55)), axes, 0, 0, 360, 1, -1)
    return mask.astype(bool)
