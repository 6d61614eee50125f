"""Minutiae extraction, 1:1 comparison and quality on synthetic impressions (hardware_sim.fingerprints)."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from drivers.fingerprint import compare, minutiae, quality
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import Minutia, Template
from hardware_sim.fingerprints.impression import Touch, make_impression
from hardware_sim.fingerprints.master import make_master


@functools.lru_cache(maxsize=None)
def _template(finger: int, touch: int, difficulty: float = 0.6) -> Template:
    return minutiae.extract(make_impression(make_master(finger), Touch(touch, difficulty)))


def test_extraction_finds_a_plausible_number_of_minutiae_inside_the_print():
    template = _template(1, 0)
    assert 20 <= len(template.minutiae) <= minutiae.MAX_MINUTIAE
    assert all(0 <= m.x < template.width and 0 <= m.y < template.height for m in template.minutiae)
    assert {m.kind for m in template.minutiae} == {"ending", "bifurcation"}


def test_straight_parallel_ridges_have_almost_no_minutiae():
    y, x = np.mgrid[0:300, 0:300]
    stripes = (128 + 100 * np.sin(2 * math.pi * (x * 0.8 + y * 0.6) / 9.0)).astype(np.uint8)
    assert len(minutiae.extract(stripes).minutiae) <= 4


def test_a_template_matches_itself_turned_and_moved():
    template = _template(2, 0)
    turn = math.radians(25)
    moved = []
    for m in template.minutiae:  # rotate about the image centre (y up for ISO angles), then shift
        u, v = m.x - 150, -(m.y - 200)
        x = 150 + 20 + math.cos(turn) * u - math.sin(turn) * v
        y = 200 - (math.sin(turn) * u + math.cos(turn) * v)
        if 0 <= x < 2000 and 0 <= y < 2000:
            moved.append(Minutia(int(round(x)), int(round(y)), (m.angle + turn) % (2 * math.pi), m.kind, m.quality))
    result = compare.compare(template, Template(400, 500, tuple(moved)))
    assert result.match and result.score > 80
    assert result.paired >= 0.9 * len(template.minutiae)


def test_mates_score_above_the_threshold_and_non_mates_below():
    mated = [compare.compare(_template(f, 0), _template(f, 1)).score for f in range(3, 8)]
    non_mated = [compare.compare(_template(f, 0), _template(g, 1)).score for f in range(3, 8) for g in range(3, 8)
                 if f != g]
    assert min(mated) > max(non_mated)
    assert sum(score >= compare.THRESHOLD for score in mated) >= 4
    assert all(score < compare.THRESHOLD for score in non_mated)


def test_templates_with_too_few_minutiae_are_refused():
    few = Template(300, 400, (Minutia(10, 10, 0.0), Minutia(50, 50, 1.0)))
    with pytest.raises(FingerprintError, match="too few minutiae"):
        compare.compare(few, _template(1, 0))


def test_quality_ranks_clean_over_damaged_and_asks_for_a_recapture():
    master = make_master(9)
    clean = quality.assess(make_impression(master, Touch(0, 0.3, "normal")))
    damaged = quality.assess(make_impression(master, Touch(0, 3.0, "dry")))
    blank = quality.assess(np.full((400, 300), 230, np.uint8))
    assert clean.score > 60 and not clean.recapture()
    assert damaged.score < quality.RECAPTURE_BELOW and damaged.recapture()
    assert blank.score == 0
    assert clean.recapture(threshold=clean.score + 1)
