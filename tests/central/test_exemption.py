"""Who needs no traveller file: the default rules, the [exemption] configuration, and its parser fuzzed."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.stays.exemption import Exemption, ExemptionConfigError, parse


@pytest.mark.parametrize("nationality", ["D", "FRA", "ISL", "NOR", "LIE", "CHE", "AUT"])
def test_eu_eea_and_swiss_citizens_are_exempt_by_default(nationality):
    assert "EU/EEA/CH" in Exemption().reason(nationality, "P")


@pytest.mark.parametrize("nationality", ["USA", "GBR", "UTO", "TUR"])
def test_third_country_nationals_are_not(nationality):
    assert Exemption().reason(nationality, "P") is None


def test_residence_permits_and_long_stay_visas_are_exempt_by_document_type():
    assert "residence permit" in Exemption().reason("USA", "IR")
    assert "residence permit" in Exemption().reason("USA", "VD")


def test_the_configuration_replaces_a_list_and_keeps_the_other_default():
    rules = parse('[exemption]\nnationalities = ["gbr"]\n')
    assert rules.reason("GBR", "P") and rules.reason("FRA", "P") is None
    assert rules.reason("USA", "AR")  # document types: still the default


@pytest.mark.parametrize("text", ['[exemption]\nnationalities = "FRA"', '[exemption]\ncountries = []',
                                  '[exemption]\ndocument_types = ["TOOLONG"]', "exemption = 3", "not toml ["])
def test_a_malformed_configuration_is_named(text):
    with pytest.raises(ExemptionConfigError):
        parse(text)


@given(st.text(max_size=200))
def test_the_parser_never_fails_otherwise(text):
    try:
        parse(text)
    except ExemptionConfigError:
        pass


@given(st.text(max_size=5), st.text(max_size=5))
def test_any_codes_have_an_answer(nationality, document_type):
    reason = Exemption().reason(nationality, document_type)
    assert reason is None or "exempt" in reason
