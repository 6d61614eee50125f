"""A crossing an officer refuses is no crossing: the stay it opened (or reopened) is taken back, so a refused
traveller neither uses up days of the 90/180 rule nor turns into an overstayer at the next crossing."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database
from central.records import gate_calls, referrals
from central.risk.rules import RiskRules
from central.stays.rule import Stay, authorise

DAY1 = dt.date(2026, 1, 5)
RULES = RiskRules("test", [])
GATE = Caller(station="G1")
OFFICER = Caller(station="G1", user="officer", purpose="referral decision")


@pytest.fixture
def database():
    database = Database("sqlite://")
    database.migrate()
    yield database
    database.dispose()


def cross(database, direction: m.Direction, day: dt.date, decision=m.GateDecision.OPEN) -> str:
    new = gate_calls.NewCrossing(
        crossing_id=str(uuid.uuid4()), station="G1", border_point="BP", direction=direction,
        occurred_at=dt.datetime.combine(day, dt.time(10), dt.timezone.utc),
        document=gate_calls.DocumentData("R1234567", "P", "UTO", None),
        traveller=gate_calls.TravellerData("REFUSED", "ROSA", "UTO", "F", dt.date(1980, 1, 1)),
        decision=decision, reasons=[], checks=[], face_score=None)
    database.write(lambda c: gate_calls.record_crossing(c, GATE, new, RULES))
    return new.crossing_id


def refuse(database, crossing_id: str) -> None:
    referral_id = str(uuid.uuid4())
    database.run(lambda s: referrals.open_referral(s, GATE, referral_id, crossing_id, "G1", ["face"]))
    database.run(lambda s: referrals.record_decision(s, OFFICER, referral_id, "officer", m.ReferralStatus.REFUSED,
                                                     "H: is a person for whom an alert has been issued", ""))


def stays(database) -> list[tuple]:
    return database.read(lambda c: c.execute(
        select(m.StayRecord.entry_day, m.StayRecord.exit_day, m.StayRecord.allowed_until, m.StayRecord.overstay_days)
        .order_by(m.StayRecord.entry_day)).all())


def day(n: int) -> dt.date:
    return DAY1 + dt.timedelta(days=n - 1)


def test_a_refused_entry_opens_no_stay_and_spends_no_days(database):
    cross(database, m.Direction.ENTRY, day(1))
    cross(database, m.Direction.EXIT, day(10))
    refused = cross(database, m.Direction.ENTRY, day(50), m.GateDecision.REFER)
    assert [(s.entry_day, s.exit_day) for s in stays(database)] == [(day(1), day(10)), (day(50), None)]
    refuse(database, refused)
    assert [(s.entry_day, s.exit_day) for s in stays(database)] == [(day(1), day(10))]
    cross(database, m.Direction.ENTRY, day(120))
    rows = stays(database)
    assert [(s.entry_day, s.exit_day) for s in rows] == [(day(1), day(10)), (day(120), None)]
    # Without the refusal taken back, days 50..119 would count and the stay would be cut short.
    assert rows[-1].allowed_until == authorise([Stay(day(1), day(10)), Stay(day(120))], day(120)).latest_exit
    assert all(s.overstay_days == 0 for s in rows)


def test_a_refused_return_on_the_day_of_leaving_leaves_the_stay_closed(database):
    cross(database, m.Direction.ENTRY, day(1))
    cross(database, m.Direction.EXIT, day(20))
    back = cross(database, m.Direction.ENTRY, day(20), m.GateDecision.REFER)
    assert [(s.entry_day, s.exit_day) for s in stays(database)] == [(day(1), None)]  # reopened
    refuse(database, back)
    assert [(s.entry_day, s.exit_day) for s in stays(database)] == [(day(1), day(20))]


def test_a_refused_exit_leaves_the_stay_open(database):
    cross(database, m.Direction.ENTRY, day(1))
    leaving = cross(database, m.Direction.EXIT, day(30), m.GateDecision.REFER)
    assert [(s.entry_day, s.exit_day) for s in stays(database)] == [(day(1), day(30))]
    refuse(database, leaving)  # stopped at departure: still in the territory
    assert [(s.entry_day, s.exit_day) for s in stays(database)] == [(day(1), None)]
