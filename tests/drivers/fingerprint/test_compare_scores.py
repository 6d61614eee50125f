"""The 1:1 comparator's scores, pinned: the shipped threshold and the fused thresholds were calibrated on them,
so a faster comparator must score every pair as the calibrated one did.

data/compare_pins.json holds eight templates of generated prints (four fingers, two touches each at difficulty
1.0, extracted by drivers.fingerprint.minutiae) and, for 32 pairs, the score, paired count and decision of
main's compare at commit e089d32, before it was rewritten to work out all its alignments at once (its "source"
field says how each part was made).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.fingerprint import compare
from drivers.fingerprint.template import Template

PINS = json.loads((Path(__file__).parent / "data" / "compare_pins.json").read_text())
TEMPLATES = {name: Template.from_json(value) for name, value in PINS["templates"].items()}


@pytest.mark.parametrize("pair", PINS["pairs"], ids=lambda p: f"{p['a']}-vs-{p['b']}-{p['alignments']}")
def test_scores_are_those_the_thresholds_were_calibrated_on(pair):
    result = compare.compare(TEMPLATES[pair["a"]], TEMPLATES[pair["b"]], alignments=pair["alignments"])
    assert result.score == pytest.approx(pair["score"], rel=0, abs=1e-9)
    assert (result.paired, result.match) == (pair["paired"], pair["match"])


def test_the_pins_hold_mates_and_non_mates_on_both_sides_of_the_threshold():
    # so that the pins above exercise a decision of each kind, not only low scores
    decisions = {(p["a"].split("-")[0] == p["b"].split("-")[0], p["match"]) for p in PINS["pairs"]}
    assert decisions == {(True, True), (False, False)}


def test_a_prepared_template_scores_as_the_template_itself_against_many():
    query = compare.prepare(TEMPLATES["12-1"])
    for name in ("11-0", "12-0", "13-0", "14-0"):
        reused = compare.compare_prepared(query, compare.prepare(TEMPLATES[name]))
        assert reused == compare.compare(TEMPLATES["12-1"], TEMPLATES[name])


def test_preparing_a_template_with_too_few_minutiae_is_refused():
    few = Template(300, 400, TEMPLATES["11-0"].minutiae[:compare.MIN_MINUTIAE - 1])
    with pytest.raises(compare.FingerprintError, match="too few minutiae"):
        compare.prepare(few)
