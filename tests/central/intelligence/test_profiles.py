"""Risk profiles: conditions checked, nationality alone refused, matching, versions, assessment and yield."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.intelligence import profiles, targeting
from central.intelligence.profiles import ProfileError, Subject
from central.records import referrals
from central.risk.rules import RiskRules
from tests.central.intelligence.conftest import record

ANALYST = Caller("web-desk", "ivo")
RING = {"route": ["FRA-T1 ENTRY"], "age_band": [18, 35], "travel_pattern": {"min_crossings": 2, "within_days": 60}}


def subject(**overrides) -> Subject:
    fields = dict(nationality="XXA", birth_date=dt.date(2000, 6, 1), border_point="FRA-T1", direction="ENTRY",
                  document_type="P", on=dt.date(2026, 11, 25), crossings_within=lambda days: 3)
    fields.update(overrides)
    return Subject(**fields)


@pytest.mark.parametrize("conditions", [{"nationality": ["XXA"]}, {"nationality": ["XXA"], "age_band": [18, 30]},
                                        {"age_band": [18, 30]}, {}])
def test_a_profile_on_who_people_are_alone_is_refused_with_the_reason(conditions):
    with pytest.raises(ProfileError) as refused:
        profiles.parse(conditions)
    assert "alone is refused" in str(refused.value) or "every traveller" in str(refused.value)
    if conditions:
        assert "discrimination risk" in str(refused.value)


def test_with_a_behaviour_nationality_may_narrow_a_profile():
    conditions = profiles.parse({"nationality": ["xxa"], **RING})
    assert conditions["nationality"] == ["XXA"]
    assert profiles.describe(conditions) == ("nationality XXA; route FRA-T1 ENTRY; aged 18-35; "
                                             "2+ crossings in 60 days")


def test_matching_each_condition():
    conditions = profiles.parse(RING)
    assert profiles.matches(conditions, subject())
    assert not profiles.matches(conditions, subject(direction="EXIT"))
    assert not profiles.matches(conditions, subject(birth_date=dt.date(1980, 1, 1)))
    assert not profiles.matches(conditions, subject(birth_date=None))
    assert not profiles.matches(conditions, subject(crossings_within=lambda days: 1))
    assert profiles.matches(profiles.parse({"route": ["FRA-T1"]}), subject(direction="EXIT"))
    assert not profiles.matches(profiles.parse({"document_type": ["ID"]}), subject())


@given(st.dictionaries(st.sampled_from([*profiles.CONDITIONS, "sex", "x"]),
                       st.one_of(st.lists(st.text(max_size=5), max_size=3), st.integers(), st.none(),
                                 st.dictionaries(st.text(max_size=12), st.integers(-5, 5000), max_size=2)),
                       max_size=4))
def test_any_conditions_parse_or_fail_clearly(raw):
    try:
        conditions = profiles.parse(raw)
    except ProfileError as exc:
        assert str(exc)
    else:
        assert not set(conditions) <= profiles.PERSONAL
        profiles.matches(conditions, subject())


def gate_traveller(crossing_id: str, surname="COURIER", birth=dt.date(2001, 3, 3),
                   at=dt.datetime(2026, 11, 25, 8, tzinfo=dt.timezone.utc)) -> targeting.Traveller:
    return targeting.Traveller(crossing_id, surname, "A", birth, "DEU", "P", "FRA-T1", "ENTRY", at)


def test_versions_the_gate_assessment_and_the_yield(database):
    first = database.run(lambda s: targeting.write_profile(s, ANALYST, "ring", RING, 0.6, "from report X").id)
    second = database.run(lambda s: targeting.write_profile(s, ANALYST, "ring", {**RING, "age_band": [18, 40]},
                                                            0.7, "wider").id)
    rows = database.run(lambda s: s.execute(select(m.RiskProfile.id, m.RiskProfile.version,
                                                   m.RiskProfile.retired_at.is_not(None))).all())
    assert sorted(rows) == [(first, 1, True), (second, 2, False)]
    for days_ago in (20, 10):  # two earlier crossings: the travel pattern holds
        record(database, "COURIER", dt.datetime(2026, 11, 25, 8, tzinfo=dt.timezone.utc) - dt.timedelta(days=days_ago),
               birth=dt.date(2001, 3, 3))
    crossing = str(uuid.uuid4())
    assessed = database.run(lambda s: targeting.assess(s, Caller("FRA-T1-G01", ""), gate_traveller(crossing),
                                                       RiskRules.load(None)))
    assert assessed.score >= 0.7 and assessed.fired[0] == "profile ring v2"
    database.run(lambda s: targeting.assess(s, Caller("FRA-T1-G01", ""), gate_traveller(crossing),
                                            RiskRules.load(None)))  # a retry selects once
    newcomer = database.run(lambda s: targeting.assess(s, Caller("FRA-T1-G01", ""), gate_traveller(
        str(uuid.uuid4()), surname="NEWCOMER"), RiskRules.load(None)))
    assert "profile ring v2" not in newcomer.fired  # no earlier crossings
    (only,) = database.run(lambda s: [(y.profile.version, y.selected, y.referred) for y in targeting.yields(s)])
    assert only == (2, 1, 0)
    assert database.run(lambda s: s.scalar(select(m.AuditEntry.outcome).where(
        m.AuditEntry.action == "AssessRisk").limit(1))).startswith("score ")


def test_poor_yield_is_flagged(database):
    profile = database.run(lambda s: targeting.write_profile(s, ANALYST, "broad", {"route": ["FRA-T1"]}, 0.5, ""))
    officer = Caller("web-desk", "olga")
    for n in range(targeting.MIN_DECIDED):
        crossing = record(database, f"PASSENGER{n}", dt.datetime(2026, 11, 1, 8, n, tzinfo=dt.timezone.utc),
                          decision=m.GateDecision.REFER)
        database.run(lambda s: s.add(m.RiskProfileSelection(profile_id=profile.id, crossing_id=crossing)))
        database.run(lambda s: referrals.open_referral(s, Caller("FRA-T1-G01", ""), crossing, crossing, "FRA-T1-G01",
                                                       ["risk"]))
        database.run(lambda s: referrals.record_decision(s, officer, crossing, "olga", m.ReferralStatus.ADMITTED,
                                                         "", ""))
    (row,) = database.run(lambda s: [(y.selected, y.admitted, y.rate, y.flags) for y in targeting.yields(s)])
    assert row[:3] == (10, 10, 0.0)
    assert row[3] == ["poor yield: 0 of 10 decided refused; review the profile"]
