"""The fixed-length encoding behind the matcher's fingerprint shortlist: unit length, blind to where and how
turned the finger lay, and closer for two touches of one finger than for two fingers."""
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


def test_the_vector_has_unit_length_and_the_fixed_dimension():
    vector = encoding.encode(template(minutiae(1)))
    assert vector.shape == (encoding.DIMENSION,) and vector.dtype == np.float32
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert not encoding.encode(Template(300, 400, ())).any()


def test_turning_and_moving_the_finger_barely_changes_the_vector():
    points = minutiae(2)
    same = encoding.encode(template(points)) @ encoding.encode(template(turned(points, 25, (17, -9))))
    other = encoding.encode(template(points)) @ encoding.encode(template(minutiae(3)))
    assert same > 0.97  # only the rounding of positions to whole pixels differs
    assert other < same - 0.1
