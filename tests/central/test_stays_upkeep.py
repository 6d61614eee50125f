"""The stays table against the pure rule: for any history of whole stays recorded crossing by crossing, each
stay's allowed_until is the rule's latest exit on its entry day, and each exit's overstay days are the rule's
overstay days of that stay; and the stay rules' mapping (central.stays.regime.rules_from) never fails unclearly."""
from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database
from central.records import gate_calls
from central.risk.rules import RiskRules
from central.stays.regime import EU_EEA_CH, Regime, RulesError, StayRules, rules_from
from central.stays.rule import Stay, authorise

START = dt.date(2026, 1, 1)
RULES = RiskRules("test", [])
_NAMES = (f"{a}{b}{c}" for a, b, c in itertools.product("ABCDEFGHIJ", repeat=3))


@pytest.fixture(scope="module")
def database():
    database = Database("sqlite://")
    database.migrate()
    yield database
    database.dispose()


def record(database, surname: str, number: str, direction: m.Direction, day: dt.date) -> gate_calls.Recorded:
    new = gate_calls.NewCrossing(
        crossing_id=str(uuid.uuid4()), station="G1", border_point="BP", direction=direction,
        occurred_at=dt.datetime.combine(day, dt.time(10), dt.timezone.utc),
        document=gate_calls.DocumentData(number, "P", "UTO", None),
        traveller=gate_calls.TravellerData(surname, "", "UTO", "F", dt.date(1980, 1, 1)),
        decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=None)
    return database.write(lambda c: gate_calls.record_crossing(c, Caller(station="G1"), new, RULES))


# Stays as (days since the previous exit, length in days): at least one day apart, so no two share a day.
histories = st.lists(st.tuples(st.integers(1, 120), st.integers(1, 130)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(histories)
def test_the_table_agrees_with_the_rule(database, history):
    surname = "STAY" + next(_NAMES)
    number = uuid.uuid4().hex[:9].upper()
    stays, day = [], START
    for gap, length in history:
        entry = day + dt.timedelta(days=gap)
        exit_ = entry + dt.timedelta(days=length - 1)
        stays.append(Stay(entry, exit_))
        day = exit_
    for index, stay in enumerate(stays):
        record(database, surname, number, m.Direction.ENTRY, stay.entry)
        leaving = record(database, surname, number, m.Direction.EXIT, stay.exit)
        before = stays[:index]
        expected_over = (authorise(stays[:index + 1], stay.exit).overstay_days
                         - authorise(before, stay.exit).overstay_days)
        assert leaving.overstay_days == expected_over
    rows = database.read(lambda c: c.execute(
        select(m.StayRecord.entry_day, m.StayRecord.exit_day, m.StayRecord.allowed_until)
        .join(m.Traveller, m.StayRecord.traveller_id == m.Traveller.id)
        .where(m.Traveller.surname == surname).order_by(m.StayRecord.entry_day)).all())
    assert [(r.entry_day, r.exit_day) for r in rows] == [(s.entry, s.exit) for s in stays]
    for index, (stay, row) in enumerate(zip(stays, rows)):
        latest = authorise([*stays[:index], Stay(stay.entry)], stay.entry).latest_exit
        assert row.allowed_until == (latest if latest is not None else stay.entry - dt.timedelta(days=1))


codes = st.one_of(st.text(max_size=4), st.sampled_from(["UTO", "D", "FRA", "XX"]), st.integers(), st.none())


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.dictionaries(st.sampled_from(["free_movement", "visa_required", "exempt_documents", "other"]),
                                 st.one_of(st.lists(codes, max_size=4), codes)),
                 st.lists(st.integers()), st.none()))
def test_the_rules_mapping_gives_rules_or_a_clear_error(raw):
    try:
        rules = rules_from(raw)
    except RulesError as exc:
        assert str(exc).startswith("stay rules:")
        return
    assert isinstance(rules, StayRules)
    for key, value in raw.items():
        assert getattr(rules, key) == frozenset(value)


def test_regimes_by_nationality_and_document():
    rules = rules_from({"visa_required": ["XXA"], "exempt_documents": ["IR"]})
    assert rules.free_movement == EU_EEA_CH
    assert [rules.regime(n, d) for n, d in (("FRA", "IR"), ("XXA", "P"), ("XXA", "IR"), ("UTO", "P"))] == [
        Regime.FREE_MOVEMENT, Regime.VISA_REQUIRED, Regime.EXEMPT, Regime.VISA_EXEMPT]
    with pytest.raises(RulesError, match="unknown key"):
        rules_from({"visa_exempt": []})
