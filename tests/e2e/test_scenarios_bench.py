"""`limes bench gate`: its statistics, and one short run (figures are reported, never asserted:
the machine is shared)."""
from __future__ import annotations

import json
import os

import pytest

from limes.bench.gate import capture_floor_ms
from limes.bench.summary import percentile, summary
from limes.cli import main


def test_percentile_interpolates_between_ranks():
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(101))), 95) == 95.0
    with pytest.raises(ValueError):
        percentile([], 50)
    assert summary([1.0, 3.0]) == {"count": 2, "p50": 2.0, "p95": 2.9, "p99": 2.98, "mean": 2.0, "max": 3.0}
    assert summary([]) == {"count": 0}


def test_capture_floor_is_min_frames_at_the_frame_rate():
    # edge.capture's min_frames (12) frames count once a face search confirms them, and searches
    # fall on frames 1, 4, 7, 10, 13: the 13th frame ends it, the first already waiting: 12 periods.
    assert capture_floor_ms(15.0) == pytest.approx(1000 * 12 / 15, abs=0.1)


@pytest.mark.slow
def test_bench_gate_reports_every_step(faces_dir, tmp_path, capsys):
    from hardware_sim.pcscd import PcscdUnavailable

    try:
        code = main(["bench", "gate", "--travellers", "2", "--json", "--faces", str(faces_dir),
                     "--state", str(tmp_path)])
    except PcscdUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"pcscd with vpcd is required under CI: {error}")
        pytest.skip(f"pcscd with vpcd not available: {error}")
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["travellers"] == 2 and sum(result["decisions"].values()) == 2
    # Two people, two faces: the first two of the cycle (the warm-up traveller is another).
    assert result["people"] == 2 and set(result["presented_to_gate_open_ms_by_live_face"]) \
        == {"obama/03.jpg", "biden/02.jpg"}
    assert {"chip", "face_capture", "face_verification", "watchlist", "decision_total", "record"} \
        <= set(result["steps_ms"])
    # The gate opens once the record is kept, after the decision: each figure covers the one before.
    assert result["recorded_at_central"] == 2
    opened, decided = result["presented_to_gate_open_ms"], result["presented_to_decision_ms"]
    assert opened["max"] >= decided["max"] and opened["mean"] > decided["mean"]
    assert opened["mean"] - decided["mean"] >= result["steps_ms"]["record"]["mean"] - 0.1
    assert decided["p50"] >= result["steps_ms"]["decision_total"]["p50"]
    assert result["meets_target"] == (opened["p95"] <= result["target_p95_ms"])
