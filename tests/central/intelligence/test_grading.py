"""The 3x5x2 grading and the 5x5x5 mapping: every value checked, nothing restricted becomes shareable."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.intelligence import grading
from central.intelligence.grading import GradingError, from_legacy, grade


def test_a_grading_is_checked_axis_by_axis():
    assert grade("1", "b", "p").code == "1B P"
    assert grade("3", "E", "C", "only to the prosecutor").shareable
    for args, axis in ((("4", "A", "P"), "source evaluation"), (("1", "F", "P"), "intelligence assessment"),
                       (("1", "A", "X"), "handling code")):
        with pytest.raises(GradingError, match=axis):
            grade(*args)


def test_c_needs_its_conditions_and_p_has_none():
    with pytest.raises(GradingError, match="needs its conditions"):
        grade("1", "A", "C", "  ")
    with pytest.raises(GradingError, match="carries no conditions"):
        grade("1", "A", "P", "only to X")


def test_legacy_gradings_map_and_keep_their_old_code():
    mapped = from_legacy("B/2/4")
    assert (mapped.source_evaluation, mapped.assessment, mapped.handling_code, mapped.legacy) == ("2", "A", "C", "B24")
    assert "originating agency only" in mapped.handling_conditions
    assert from_legacy("a11").code == "1A P"
    assert from_legacy("D45").code == "3D C"
    assert from_legacy("E53").code == "2E C"
    # HMRC's manual (MLR3C14000) gives B35 as the usual grading of NCIS material: mostly reliable, corroborated,
    # special handling. It comes out not claimed reliable, corroborated, and shared only under its conditions.
    ncis = from_legacy("B35")
    assert ncis.code == "2B C" and "refer to the originator" in ncis.handling_conditions


def test_the_mapping_never_raises_reliability_and_keeps_a_written_restriction():
    order = {"1": 0, "2": 1, "3": 2}  # 3x5x2 sources, most reliable first
    for old, new in grading.LEGACY_SOURCE.items():
        assert old == "A" or new != "1", f"only 'always reliable' maps to reliable, not {old}"
    assert [order[grading.LEGACY_SOURCE[c]] for c in "ACD"] == sorted(order[grading.LEGACY_SOURCE[c]] for c in "ACD")
    kept = from_legacy("A11", conditions="  not to  the press ")
    assert kept.handling_code == "C" and kept.handling_conditions == "legacy restriction: not to the press"
    both = from_legacy("C24", conditions="named officers only")
    assert both.code == "3A C" and both.handling_conditions.endswith("; named officers only")


@pytest.mark.parametrize("code", list("12345"))
def test_only_legacy_handling_1_becomes_p(code):
    assert (from_legacy(f"A1{code}").handling_code == "P") == (code == "1")


@given(st.text(max_size=12))
def test_any_text_is_a_legacy_grading_or_a_clear_error(text):
    try:
        mapped = from_legacy(text)
    except GradingError as exc:
        assert "5x5x5" in str(exc)
    else:
        assert mapped.source_evaluation in grading.SOURCE_EVALUATIONS and mapped.assessment in grading.ASSESSMENTS
        assert mapped.shareable  # a C from the mapping always carries its condition
