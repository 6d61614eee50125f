"""Slaps: four fingers (or two thumbs) pressed at once, split into one image a finger.

The 4-4-2 capture of MIDAS and EES posts: right four fingers, left four, both thumbs. Fingers are
the largest blobs of the foreground mask, smeared along the finger so that a crease does not cut
one in two, taken left to right on the platen.
"""
from __future__ import annotations

import cv2
import numpy as np

from drivers.fingerprint import ridges
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.image import MIN_SIDE

# ISO/IEC 19794 finger positions, left to right as the hand lies palm down on the platen.
RIGHT_FOUR = (2, 3, 4, 5)
LEFT_FOUR = (10, 9, 8, 7)
THUMBS = (6, 1)
SLAPS = {"right": RIGHT_FOUR, "left": LEFT_FOUR, "thumbs": THUMBS}


def split(image: np.ndarray, positions: tuple[int, ...]) -> list[tuple[int, np.ndarray]]:
    """(position, finger image) pairs, one for each expected finger, left to right; FingerprintError
    when the slap does not show that many fingers."""
    mask = ridges.foreground(image, block=24).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 41)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    blobs = [stats[i] for i in range(1, count) if min(stats[i][2], stats[i][3]) >= MIN_SIDE]
    if len(blobs) < len(positions):
        raise FingerprintError(f"the slap shows {len(blobs)} fingers, {len(positions)} expected: re-capture")
    blobs = sorted(sorted(blobs, key=lambda s: -s[4])[:len(positions)], key=lambda s: s[0])
    fingers = []
    for position, (x, y, width, height, _area) in zip(positions, blobs):
        fingers.append((position, np.ascontiguousarray(image[y:y + height, x:x + width])))
    return fingers
