"""central.database.prepared: the gate path's statements on the DBAPI cursor read and write exactly what SQLAlchemy
does, and fail with SQLAlchemy's errors (on SQLite, and on PostgreSQL with LIMES_CENTRAL_TEST_DATABASE)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import bindparam, exc, insert, select

from central.database import models as m
from central.database.engine import Database
from central.database.prepared import Prepared
from central.records import gate_calls, stays
from central.risk import rules as risk
from drivers.alertmatch.normalize import document_number, name_key, ocr_key
from limes.bench import central as bench

ALERTED, _ = bench.population(7, 50, 10)


@pytest.fixture
def database(database_url):
    bench._plant(database_url, ALERTED)  # migrates, then 50 document and 50 person alerts
    database = Database(database_url)
    yield database
    database.dispose()


def _crossing(crossing_id: str, document_id: int, traveller_id: int, station_id: int, point_id: int) -> dict:
    return {"crossing_id": crossing_id, "station_id": station_id, "border_point_id": point_id,
            "direction": m.Direction.ENTRY, "occurred_at": dt.datetime(2026, 11, 30, 6, 1, 2, 345678, dt.timezone.utc),
            "recorded_at": dt.datetime(2026, 11, 30, 6, 1, 3, tzinfo=dt.timezone.utc), "document_id": document_id,
            "traveller_id": traveller_id, "decision": m.GateDecision.REFER, "reasons": ["alert hit", "ü"],
            "checks": [{"name": "mrz.valid", "status": "PASS", "reason": ""}], "face_score": 0.91,
            "risk_score": 0.25, "risk_rules_fired": ["document_expiring"], "risk_rules_version": "v1"}


def _stored(database: Database) -> dict:
    """(station, point, document, traveller) ids of one stored traveller and document, written by SQLAlchemy."""
    def write(connection) -> tuple[int, int, int, int]:
        point = connection.execute(insert(m.BorderPoint), {"code": "P1", "name": ""}).inserted_primary_key[0]
        station = connection.execute(insert(m.Station), {"code": "S1", "border_point_id": point}).inserted_primary_key[
            0
        ]
        traveller = connection.execute(insert(m.Traveller), {
            "surname": "MUSTERMANN", "given_names": "ERIKA", "name_key": name_key("MUSTERMANN", "ERIKA"),
            "birth_date": dt.date(1964, 8, 12), "nationality": "D", "sex": "F"}).inserted_primary_key[0]
        document = connection.execute(insert(m.TravelDocument), {
            "number": "C01X00T47", "number_norm": "C01X00T47", "issuing_state": "D", "doc_type": "P",
            "expiry_date": dt.date(2031, 1, 1), "traveller_id": traveller}).inserted_primary_key[0]
        return station, point, document, traveller
    return database.write(write)


def test_selects_return_what_sqlalchemy_returns(database):
    station, point, document, traveller = _stored(database)
    crossing_id = str(uuid.uuid4())
    database.write(lambda c: c.execute(insert(m.Crossing), _crossing(crossing_id, document, traveller, station, point)))
    database.write(lambda c: c.execute(insert(m.PermittedStay), {
        "issuing_state": "D", "number_norm": "C01X00T47", "valid_from": dt.date(2026, 11, 1),
        "valid_to": dt.date(2027, 2, 1), "reference": "visa", "kind": m.PermitKind.SHORT_STAY_VISA}))
    database.write(lambda c: c.execute(insert(m.StayRecord), {
        "traveller_id": traveller, "entry_day": dt.date(2026, 11, 1), "border_point_id": point,
        "nationality": "D", "regime": "visa_exempt", "allowed_until": dt.date(2026, 11, 20), "overstay_days": 0}))
    alert, person = ALERTED[3], ALERTED[4]
    later = dt.datetime(2026, 12, 24, tzinfo=dt.timezone.utc)
    today = dt.date(2026, 11, 30)
    cases = [
        (gate_calls._DOCUMENT_ALERTS, {"norm": document_number(alert.number), "key": ocr_key(alert.number),
                                       "today": today}),
        (gate_calls._PERSON_CANDIDATES, {"born": dt.date.fromisoformat(person.birth_date),
                                         "swapped": dt.date.fromisoformat(person.birth_date), "today": today}),
        (gate_calls._CROSSING_BY_KEY, {"crossing_id": crossing_id}),
        (gate_calls._DOCUMENT, {"state": "D", "norm": "C01X00T47"}),
        (gate_calls._TRAVELLER, {"key": name_key("MUSTERMANN", "ERIKA"), "born": dt.date(1964, 8, 12),
                                 "nationality": "D"}),
        (risk._REFUSALS, {"traveller_id": traveller, "since": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}),
        (risk._EARLIER_CROSSINGS, {"traveller_id": traveller, "since": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                                   "until": later}),
        (risk._OVERSTAYS, {"traveller_id": traveller, "since": dt.date(2026, 1, 1), "day": today}),
        (stays._STAYS_SINCE, {"traveller_id": traveller, "since": dt.date(2026, 6, 1)}),
        (stays._OPEN_STAY, {"traveller_id": traveller}),
        (stays._LATEST_DAY, {"traveller_id": traveller}),
        (stays._PERMITS, {"traveller_id": None, "state": "D", "norm": "C01X00T47", "day": today}),
    ]
    for prepared, values in cases:
        def both(connection):
            return ([tuple(row) for row in connection.execute(prepared.statement, values)],
                    [tuple(row) for row in prepared.rows(connection, values)])
        theirs, ours = database.read(both)
        assert theirs, prepared.statement  # each case finds its row
        assert ours == theirs
        assert [[type(v) for v in row] for row in ours] == [[type(v) for v in row] for row in theirs]
    found = database.read(lambda c: gate_calls._CROSSING_BY_KEY.first(c, {"crossing_id": crossing_id}))
    assert (found.station, found.direction, found.risk_rules_fired) == ("S1", m.Direction.ENTRY, ["document_expiring"])


def test_an_insert_stores_what_sqlalchemy_stores(database):
    station, point, document, traveller = _stored(database)
    theirs, ours = str(uuid.uuid4()), str(uuid.uuid4())
    database.write(lambda c: c.execute(insert(m.Crossing), _crossing(theirs, document, traveller, station, point)))
    new_id = database.write(lambda c: gate_calls._INSERT_CROSSING.scalar(
        c, _crossing(ours, document, traveller, station, point)))
    # As stored, in the database's own representation (dates, enums, JSON as text on SQLite).
    raw = database.read(lambda c: {row[1]: row for row in c.exec_driver_sql(
        "SELECT id, crossing_id, station_id, border_point_id, direction, occurred_at, recorded_at, document_id, "
        "traveller_id, decision, reasons, checks, face_score, risk_score, risk_rules_fired, risk_rules_version "
        "FROM crossings")})
    assert uuid.UUID(str(raw[ours][0])) == new_id
    assert raw[ours][2:] == raw[theirs][2:]


def test_a_unique_violation_is_sqlalchemys_integrity_error(database):
    station, point, document, traveller = _stored(database)
    crossing_id = str(uuid.uuid4())
    row = _crossing(crossing_id, document, traveller, station, point)
    database.write(lambda c: gate_calls._INSERT_CROSSING.scalar(c, row))
    with pytest.raises(exc.IntegrityError):
        database.write(lambda c: gate_calls._INSERT_CROSSING.scalar(c, row), attempts=1)


def test_a_driver_error_is_sqlalchemys(database):
    by_id = Prepared(select(m.Crossing.id).where(m.Crossing.crossing_id == bindparam("id")))
    with pytest.raises(exc.DBAPIError):
        database.read(lambda c: by_id.rows(c, {"id": object()}))  # no driver can send an object()


def test_statements_that_return_nothing_or_expand_lists_are_refused(database):
    with pytest.raises(ValueError, match="expanding"):
        database.read(lambda c: Prepared(select(m.Crossing.id).where(
            m.Crossing.crossing_id.in_(bindparam("ids", expanding=True)))).rows(c, {"ids": ["x"]}))
    with pytest.raises(ValueError, match="returns rows"):
        database.read(lambda c: Prepared(insert(m.BorderPoint)).rows(c, {"code": "X", "name": ""}))
