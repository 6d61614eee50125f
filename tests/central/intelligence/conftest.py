"""A migrated central database with a few travellers' crossings, for the intelligence room's tests."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database
from central.records import gate_calls
from central.risk.rules import RiskRules

TODAY = dt.date(2026, 11, 25)
GATE = Caller("FRA-T1-G03", "")


def record(database: Database, surname: str, at: dt.datetime, *, border_point="FRA-T1", number=None,
           nationality="DEU", birth=dt.date(1980, 1, 1), decision=m.GateDecision.OPEN, reasons=()) -> str:
    """One crossing of a traveller (identified by surname and birth date); its uuid."""
    crossing_id = str(uuid.uuid4())
    new = gate_calls.NewCrossing(
        crossing_id=crossing_id, station=f"{border_point}-G01", border_point=border_point,
        direction=m.Direction.ENTRY, occurred_at=at,
        document=gate_calls.DocumentData(number or f"X{surname[:6]}1", "P", nationality, dt.date(2031, 1, 1)),
        traveller=gate_calls.TravellerData(surname, "A", nationality, "M", birth),
        decision=decision, reasons=list(reasons), checks=[], face_score=0.9)
    database.run(lambda s: gate_calls.record_crossing(s, Caller(f"{border_point}-G01", ""), new, RiskRules.load(None)))
    return crossing_id


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()
