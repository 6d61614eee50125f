"""Who is outside the 90/180 rule and gets no traveller file: one answer from the stay rules."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.stays.regime import Regime, StayRules, rules_from


@pytest.mark.parametrize("nationality", ["D", "DEU", "FRA", "ISL", "NOR", "LIE", "CHE", "AUT", "fra "])
def test_eu_eea_and_swiss_citizens_are_exempt_by_default(nationality):
    assert "EU/EEA/CH" in StayRules().exemption(nationality, "P")
    assert StayRules().regime(nationality, "P") is Regime.FREE_MOVEMENT


@pytest.mark.parametrize("nationality", ["USA", "GBR", "UTO", "TUR"])
def test_third_country_nationals_are_not(nationality):
    assert StayRules().exemption(nationality, "P") is None


def test_residence_permits_and_long_stay_visas_are_exempt_by_document_type():
    assert "residence permit" in StayRules().exemption("USA", "IR")
    assert "residence permit" in StayRules().exemption("USA", "VD<")
    assert StayRules().regime("USA", "IR") is Regime.EXEMPT


def test_the_configuration_replaces_a_list_and_keeps_the_other_default():
    rules = rules_from({"free_movement": ["GBR"]})
    assert rules.exemption("GBR", "P") and rules.exemption("FRA", "P") is None
    assert rules.exemption("USA", "AR")  # exempt documents: still the default


@given(st.text(max_size=5), st.text(max_size=5))
def test_any_codes_have_an_answer(nationality, document_type):
    reason = StayRules().exemption(nationality, document_type)
    assert reason is None or "exempt" in reason
