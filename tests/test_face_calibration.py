"""FAR/FRR/EER/DET and threshold calibration over plain distance lists, and the pairs file."""
from __future__ import annotations

import pytest

from drivers.face import FaceError
from limes.face_calibration.evaluation import (
    all_pairs,
    det_curve,
    equal_error_rate,
    error_rates,
    frr_at_far,
    read_pairs,
    recommend_threshold,
)

GENUINE = [0.2, 0.3, 0.4, 0.5]
IMPOSTOR = [0.45, 0.7, 0.8, 0.9, 1.0]


def test_error_rates_count_accepts_at_or_below_the_threshold():
    assert error_rates(GENUINE, IMPOSTOR, 0.45) == (0.2, 0.25)
    assert error_rates(GENUINE, IMPOSTOR, 0.6) == (0.2, 0.0)
    assert error_rates(GENUINE, IMPOSTOR, 0.1) == (0.0, 1.0)


def test_det_curve_is_monotone():
    curve = det_curve(GENUINE, IMPOSTOR)
    assert [t for t, _, _ in curve] == sorted(GENUINE + IMPOSTOR)
    fars = [far for _, far, _ in curve]
    frrs = [frr for _, _, frr in curve]
    assert fars == sorted(fars) and frrs == sorted(frrs, reverse=True)


def test_equal_error_rate_overlapping_and_separated():
    eer, threshold = equal_error_rate(GENUINE, IMPOSTOR)
    assert eer == pytest.approx(0.225) and threshold == 0.45
    assert equal_error_rate([0.2, 0.4], [0.6, 0.9]) == (0.0, pytest.approx(0.5))


def test_frr_at_far_says_when_the_target_is_not_resolved():
    result = frr_at_far(GENUINE, IMPOSTOR, 0.001)
    assert not result["resolved"] and result["far"] == 0.0 and result["threshold"] < 0.45
    assert result["frr"] == 0.25
    result = frr_at_far(GENUINE, IMPOSTOR, 0.2)
    assert result["resolved"] and result["far"] == 0.2 and result["frr"] == 0.0


def test_recommended_threshold_sits_in_the_gap_nearer_the_genuine_side():
    result = recommend_threshold([0.2, 0.5], [0.7, 0.9])
    assert result["threshold"] == pytest.approx(0.58) and "gap" in result["reason"]
    overlapping = recommend_threshold(GENUINE, IMPOSTOR)
    assert overlapping["threshold"] == 0.45 and "overlap" in overlapping["reason"]
    with pytest.raises(FaceError):
        recommend_threshold([], [0.5])


def test_pairs_file(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("a,b,same\nx/1.jpg,x/2.jpg,1\nx/1.jpg,y/1.jpg,false\n")
    pairs = read_pairs(path)
    assert [(p.a, p.b, p.same) for p in pairs] == [("x/1.jpg", "x/2.jpg", True), ("x/1.jpg", "y/1.jpg", False)]
    path.write_text("a,b,same\nx/1.jpg,x/2.jpg,maybe\n")
    with pytest.raises(FaceError, match="line 2: same must be 1 or 0"):
        read_pairs(path)
    path.write_text("left,right\n")
    with pytest.raises(FaceError, match="header lacks column"):
        read_pairs(path)
    with pytest.raises(FaceError, match="cannot read pairs file"):
        read_pairs(tmp_path / "none.csv")


def test_all_pairs_labels_by_folder_and_skips_groups(tmp_path):
    for name in ("ann/1.jpg", "ann/2.png", "bob/1.jpg", "groups/crowd.jpg", "ann/notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    pairs = all_pairs(tmp_path)
    assert len(pairs) == 3 and sum(p.same for p in pairs) == 1
    assert all("groups" not in p.a + p.b for p in pairs)
    with pytest.raises(FaceError, match="no images"):
        all_pairs(tmp_path / "ann")
