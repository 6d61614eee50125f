"""The encoding behind the matcher's fingerprint shortlist (one MCC cylinder a minutia): unit-length rows of
the fixed dimension, blind to where and how turned the finger lay, and nearer for two touches of one finger
than for two fingers."""
from __future__ import annotations

import math

import numpy as np

from drivers.fingerprint import encoding
from drivers.fingerprint.template import Minutia, Template


def minutiae(seed: int, count: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(40, 260, count), rng.uniform(40, 360, count),
                            rng.uniform(0, 2 * math.pi, count)])


def template(points: np.ndarray) -> Template:
    return Template(300, 400, tuple(Minutia(int(round(x)), int(round(y)), float(a % (2 * math.pi)))
                                    for x, y, a in points))


def turned(points: np.ndarray, degrees: float, shift: tuple[float, float]) -> np.ndarray:
    turn = math.radians(degrees)
    cos, sin = math.cos(turn), math.sin(turn)
    centre = np.array([150.0, 200.0])
    offset = points[:, :2] - centre
    moved = centre + offset @ np.array([[cos, sin], [-sin, cos]]) + shift  # y down: this turns by -turn on the print
    return np.column_stack([moved, points[:, 2] - turn])


def test_each_cylinder_is_a_unit_row_of_the_fixed_dimension():
    vectors = encoding.encode(template(minutiae(1)))
    assert vectors.ndim == 2 and vectors.shape[1] == encoding.DIMENSION and vectors.dtype == np.float32
    assert 20 <= len(vectors) <= 40      # minutiae near the print's edge see too few valid cells and are dropped
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert set(np.unique(vectors[0] > 0)) == {False, True}    # bits: some cells set, some not
    assert encoding.encode(Template(300, 400, ())).shape == (0, encoding.DIMENSION)
    assert encoding.encode(template(minutiae(1, count=2))).shape == (0, encoding.DIMENSION)


def nearest_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The mean, over a's cylinders, of the cosine similarity of b's nearest cylinder."""
    return float((a @ b.T).max(axis=1).mean())


def test_turning_and_moving_the_finger_barely_changes_the_cylinders():
    points = minutiae(2)
    original = encoding.encode(template(points))
    moved = encoding.encode(template(turned(points, 25, (17, -9))))
    other = encoding.encode(template(minutiae(3)))
    assert len(moved) == len(original)
    same = float(np.mean(np.sum(original * moved, axis=1)))   # cylinder i of each: the same minutia's
    assert same > 0.9   # only the rounding of positions to whole pixels differs
    assert nearest_similarity(original, other) < same - 0.2
