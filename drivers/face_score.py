"""Turning L2 distances between face templates into calibrated scores.

One mapping for the whole system: the gate's 1:1 verification (drivers.face)
and the matcher's 1:N candidates use it, so an officer sees the same score for
the same pair wherever it was computed. This module imports nothing heavy, so
the matcher can use it without loading dlib.

face_recognition's dlib templates put two photos of the same person at an L2
distance up to about 0.55 and two different people from about 0.6 on; its own
`compare_faces` tolerance is 0.6. A logistic curve centred on that tolerance
maps distance to a score in 0..1 that officers can read as "how sure":

    score = 1 / (1 + exp((distance - 0.6) / 0.05))

    distance  0.30  0.40  0.50  0.55  0.60  0.65  0.70  0.80
    score     1.00  0.98  0.88  0.73  0.50  0.27  0.12  0.02

so the default threshold 0.5 is exactly face_recognition's tolerance, and a
threshold of 0.73 asks for distance <= 0.55. The mapping is monotonic, so a
score threshold is the same as a distance threshold (`distance_for`).
"""
from __future__ import annotations

import math

MIDPOINT = 0.6  # distance scored 0.5: face_recognition's tolerance
SCALE = 0.05  # distance units per e-fold of the odds
DEFAULT_MIN_SCORE = 0.5


def score(distance: float) -> float:
    exponent = (distance - MIDPOINT) / SCALE
    if exponent > 700:  # exp would overflow; the score is 0 to double precision anyway
        return 0.0
    return 1.0 / (1.0 + math.exp(exponent))


def distance_for(threshold: float) -> float:
    """The largest distance whose score still reaches `threshold` (0 < threshold < 1)."""
    if threshold >= 1.0:
        return 0.0
    return MIDPOINT + SCALE * math.log(1.0 / threshold - 1.0)
