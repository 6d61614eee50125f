"""Error rates from mated and non-mated scores."""
from __future__ import annotations

from drivers.fingerprint import accuracy

MATED = [30.0, 40.0, 50.0, 20.0]
NON_MATED = [1.0, 2.0, 5.0, 10.0, 25.0]


def test_error_rates_count_a_score_at_the_threshold_as_a_match():
    assert accuracy.error_rates(MATED, NON_MATED, 25.0) == (0.2, 0.25)
    assert accuracy.error_rates(MATED, NON_MATED, 25.1) == (0.0, 0.25)


def test_fnmr_at_fmr_says_when_too_few_non_mated_pairs_were_seen():
    at = accuracy.fnmr_at_fmr(MATED, NON_MATED, 0.2)
    assert at["measurable"] and at["fmr"] == 0.2 and at["fnmr"] == 0.0   # one false match allowed: the 25
    assert not accuracy.fnmr_at_fmr(MATED, NON_MATED, 1e-4)["measurable"]


def test_det_points_run_from_all_matches_to_none():
    points = accuracy.det_points(MATED, NON_MATED)
    assert points[0]["fmr"] == 1.0 and points[-1]["fmr"] == 0.0
    assert all(a["fmr"] >= b["fmr"] and a["fnmr"] <= b["fnmr"] for a, b in zip(points, points[1:]))


def test_equal_error_rate_where_the_rates_cross():
    eer, threshold = accuracy.equal_error_rate([10.0, 20.0], [1.0, 15.0])
    assert eer == 0.5 and 10.0 <= threshold <= 20.0
