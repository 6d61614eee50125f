"""Minutiae extraction: ridge endings and bifurcations of the enhanced, thinned print.

The classical chain (as in NIST's MINDTCT in spirit, not its code): foreground mask, orientation
field, Gabor enhancement at the print's ridge period, binarisation, Zhang-Suen thinning, crossing
numbers on the skeleton, then pruning of what is not a minutia (the print's edge, pairs too close
to be real). A minutia's direction is its ridge orientation, turned to point along the ridge for
an ending and towards the fork for a bifurcation (ISO/IEC 19794-2 convention: counter-clockwise,
y up). Its quality is the local orientation coherence.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from drivers.fingerprint import ridges
from drivers.fingerprint.image import check_size
from drivers.fingerprint.template import BIFURCATION, ENDING, Minutia, Template

EDGE_MARGIN = 14         # pixels: minutiae this close to the print's edge are where the ridges were cut
MIN_SEPARATION = 7       # pixels: closer pairs are breaks and bridges, not minutiae
MAX_MINUTIAE = 120
_TRACE_RADIUS = 9


def extract(image: np.ndarray, position: int = 0) -> Template:
    image = check_size(image)
    features = analyse(image)
    return Template(image.shape[1], image.shape[0], features.minutiae, position)


class Analysis:
    """What extraction learned of a print, kept for quality to reuse."""

    def __init__(self, mask, theta, coherence, ridge_period, enhanced, skeleton, minutiae):
        self.mask, self.theta, self.coherence = mask, theta, coherence
        self.ridge_period, self.enhanced, self.skeleton = ridge_period, enhanced, skeleton
        self.minutiae: tuple[Minutia, ...] = minutiae


def analyse(image: np.ndarray) -> Analysis:
    values = ridges.normalise(image)
    mask = ridges.foreground(image)
    theta, coherence = ridges.orientation(values)
    ridge_period = ridges.period(values, mask)
    enhanced = ridges.enhance(values, theta, ridge_period)
    skeleton = thin((enhanced < 0) & mask)
    inner = cv2.erode(mask.astype(np.uint8), np.ones((2 * EDGE_MARGIN + 1,) * 2, np.uint8),
                      borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)  # the image edge cuts ridges too
    found = _minutiae(skeleton, inner, theta, coherence)
    return Analysis(mask, theta, coherence, ridge_period, enhanced, skeleton, found)


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning to one-pixel-wide ridges, both sub-iterations vectorised."""
    image = np.pad(binary.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4, p5 = image[:-2, 1:-1], image[:-2, 2:], image[1:-1, 2:], image[2:, 2:]
            p6, p7, p8, p9 = image[2:, 1:-1], image[2:, :-2], image[1:-1, :-2], image[:-2, :-2]
            ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
            neighbours = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9
            transitions = sum(((a == 0) & (b == 1)).astype(np.uint8) for a, b in zip(ring, ring[1:]))
            if step == 0:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (image[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & side
            if remove.any():
                image[1:-1, 1:-1][remove] = 0
                changed = True
        if not changed:
            return image[1:-1, 1:-1].astype(bool)


def _crossing_numbers(skeleton: np.ndarray) -> np.ndarray:
    image = np.pad(skeleton.astype(np.int8), 1)
    ring = (image[:-2, 1:-1], image[:-2, 2:], image[1:-1, 2:], image[2:, 2:],
            image[2:, 1:-1], image[2:, :-2], image[1:-1, :-2], image[:-2, :-2])
    total = sum(np.abs(ring[i] - ring[(i + 1) % 8]) for i in range(8))
    return np.where(skeleton, total // 2, 0)


def _minutiae(skeleton, inner, theta, coherence) -> tuple[Minutia, ...]:
    crossing = _crossing_numbers(skeleton)
    candidates = [(int(x), int(y), ENDING) for y, x in zip(*np.nonzero((crossing == 1) & inner))]
    candidates += [(int(x), int(y), BIFURCATION) for y, x in zip(*np.nonzero((crossing == 3) & inner))]
    candidates = _drop_close_pairs(candidates)
    height, width = skeleton.shape
    found = []
    for x, y, kind in candidates:
        angle = _direction(skeleton, x, y, float(theta[y, x]), kind)
        quality = int(round(100 * float(np.clip(coherence[y, x], 0.0, 1.0))))
        found.append(Minutia(x, y, angle, kind, quality))
    found.sort(key=lambda m: -m.quality)
    return tuple(found[:MAX_MINUTIAE])


def _drop_close_pairs(candidates: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    if len(candidates) < 2:
        return candidates
    points = np.array([(x, y) for x, y, _ in candidates], np.float32)
    distance = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(distance, np.inf)
    keep = distance.min(axis=1) >= MIN_SEPARATION
    return [c for c, kept in zip(candidates, keep) if kept]


def _direction(skeleton: np.ndarray, x: int, y: int, orientation: float, kind: str) -> float:
    """The ISO angle of a minutia: its ridge orientation, pointed by where the ridge pixels lie around it."""
    r = _TRACE_RADIUS
    patch = skeleton[max(y - r, 0):y + r + 1, max(x - r, 0):x + r + 1]
    ys, xs = np.nonzero(patch)
    dx = float((xs + max(x - r, 0) - x).mean()) if len(xs) else 0.0
    dy = float((ys + max(y - r, 0) - y).mean()) if len(ys) else 0.0
    ux, uy = math.cos(orientation), math.sin(orientation)
    if ux * dx + uy * dy < 0:      # point along the ridge's mass: into the ridge, or into the fork
        ux, uy = -ux, -uy
    return math.atan2(-uy, ux) % (2 * math.pi)   # image y runs down, ISO's angles count with y up
