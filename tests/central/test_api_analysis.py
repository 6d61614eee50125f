"""After storing: reconciliation on arrival, links between PNRs, retention and masking."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database
from central.passengers.intake import import_message
from central.passengers.links import linked_pnrs, shared_values
from central.passengers.reconciliation import reconcile
from central.passengers.retention import PassengerDataRetention, purge_passenger_data
from central.passengers.targeting import targeting_list
from central.records.gate_calls import DocumentData, NewCrossing, TravellerData, record_crossing
from central.risk.rules import RiskRules

CORPUS = Path(__file__).parent / "api_messages"
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.timezone.utc)
AIRLINE = Caller(station="LH-API-GATEWAY")
ANALYST = Caller(user="analyst-1")
LH400 = "LH400/FRA/2026-12-07"


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def imported(database: Database, *names: str, now: dt.datetime = NOW) -> None:
    for name in names:
        import_message(database, AIRLINE, (CORPUS / name).read_bytes(), now)


def cross(database: Database, surname: str, given: str, number: str, state: str, born: dt.date,
          at: dt.datetime, nationality: str = "", expiry: dt.date | None = None, point: str = "FRA-T1") -> str:
    crossing_id = str(uuid.uuid4())
    new = NewCrossing(crossing_id, f"{point}-G03", point, m.Direction.ENTRY, at,
                      DocumentData(number, "P", state, expiry), TravellerData(surname, given, nationality, "", born),
                      m.GateDecision.OPEN, [], [], None)
    rules = RiskRules.load()
    database.write(lambda connection: record_crossing(connection, Caller(station=f"{point}-G03"), new, rules))
    return crossing_id


def test_reconciliation_finds_no_shows_strangers_crew_and_document_differences(database):
    imported(database, "paxlst_d02b_passengers.edi")
    landed = dt.datetime(2026, 12, 7, 8, 40, tzinfo=dt.timezone.utc)
    cross(database, "MUSTERMANN", "ERIKA", "C01X00T47", "DEU", dt.date(1964, 8, 12), landed, "DEU",
          dt.date(2031, 10, 31))
    # John Doe's chip says another birth date and expiry than the airline sent.
    cross(database, "DOE", "JOHN WAYNE", "L898902C3", "USA", dt.date(1980, 1, 2), landed, "USA", dt.date(2030, 4, 16))
    stranger = cross(database, "NOBODY", "KNOWN", "Z9999999", "FRA", dt.date(1990, 1, 1), landed)
    cross(database, "ROSSI", "MARIO", "YA1234567", "ITA", dt.date(1975, 3, 30), landed, point="MUC-T2")
    cross(database, "LATE", "TRAVELLER", "Z8888888", "FRA", dt.date(1990, 1, 1), landed + dt.timedelta(days=1))

    result = database.run(lambda s: reconcile(s, ANALYST, LH400, "FRA-T1"))
    assert [p["surname"] for p in result.crossed] == ["MUSTERMANN", "DOE"]
    assert result.crossed[0]["differences"] == []
    assert result.crossed[1]["differences"] == [
        "birth date: 1980-01-01 in advance data, 1980-01-02 read",
        "expiry date: 2030-04-15 in advance data, 2030-04-16 read"]
    assert [p["surname"] for p in result.no_shows] == ["ROSSI"]  # he came in through another border point
    assert [c["crossing_id"] for c in result.not_on_manifest] == [stranger]


def test_reconciliation_lists_crew_and_in_transit_passengers_apart(database):
    imported(database, "paxlst_in_transit.edi")
    landed = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.timezone.utc)
    cross(database, "TESFAYE", "ABEBE", "EP1234567", "ETH", dt.date(1984, 9, 9), landed, "ETH")
    cross(database, "OKAFOR", "CHIDI", "A01234567", "NGA", dt.date(1991, 2, 2), landed, "NGA")
    result = database.run(lambda s: reconcile(s, ANALYST, "ET706/FRA/2026-12-07", "FRA-T1"))
    assert [p["surname"] for p in result.crossed] == ["TESFAYE"] and result.no_shows == []
    assert [p["surname"] for p in result.transit_crossed] == ["OKAFOR"]
    assert [(c["surname"], c["crossed"]) for c in result.crew] == [("KEBEDE", False)]


def test_pnrs_sharing_contacts_payment_and_agency_are_linked(database):
    imported(database, "pnrgov_11_1.edi", "pnrgov_13_1.edi")
    values = database.run(lambda s: shared_values(s, ANALYST))
    shared = {(v["kind"], tuple(sorted(p["locator"] for p in v["pnrs"]))) for v in values}
    assert ("payment", ("AB12CD", "QX7Y2Z")) in shared  # the same card, seen only as a digest
    assert ("agency", ("AB12CD", "QX7Y2Z")) in shared
    assert ("payment", ("KL8M2N", "PQ4R5S")) in shared
    assert all(v["kind"] != "booking" for v in values)  # every booking reference is its own
    linked = database.run(lambda s: linked_pnrs(s, ANALYST, "qx7y2z"))
    assert [(p["locator"], sorted(x["kind"] for x in p["shared"])) for p in linked] == [
        ("AB12CD", ["agency", "payment"])]
    audited = database.run(lambda s: s.scalar(select(func.count()).where(m.AuditEntry.action == "ReadPnrLinks",
                                                                         m.AuditEntry.user_name == "analyst-1")))
    assert audited == 2


def test_retention_deletes_api_persons_masks_then_deletes_pnrs(database):
    imported(database, "paxlst_d02b_passengers.edi", "pnrgov_13_1.edi")
    imported(database, "pnrgov_11_1.edi", now=NOW - dt.timedelta(days=200))
    policy = PassengerDataRetention()

    def people(session):
        return session.execute(select(m.ApiPerson.role, m.ApiPerson.surname).order_by(m.ApiPerson.id)).all()

    report = database.run(lambda s: purge_passenger_data(s, Caller(user="admin-1"), policy, NOW))
    assert report.as_dict() == {"api_persons_deleted": 0, "pnrs_depersonalised": 3, "pnrs_deleted": 0}
    masked = database.run(lambda s: s.scalar(select(m.PnrRecord).where(m.PnrRecord.locator == "QX7Y2Z")))
    assert set(masked.data) == {"itinerary", "agency", "bags"} and masked.depersonalised_at is not None
    surnames = [surname for role, surname in database.run(people) if role == "pnr_traveller"]
    assert surnames.count("") == 4 and "DURAND" in surnames  # the 13.1 PNRs are recent
    kinds = database.run(lambda s: set(s.scalars(select(m.PnrLink.kind).join(
        m.PnrRecord, m.PnrLink.pnr_id == m.PnrRecord.id).where(m.PnrRecord.locator == "QX7Y2Z"))))
    assert kinds == {"booking", "agency"}

    later = dt.datetime(2026, 12, 10, tzinfo=dt.timezone.utc)  # LH400 landed on the 7th: 3 days ago
    report = database.run(lambda s: purge_passenger_data(s, Caller(user="admin-1"), policy, later))
    assert report.api_persons_deleted == 3
    assert all(role == "pnr_traveller" for role, _ in database.run(people))

    years = NOW + dt.timedelta(days=1830)
    report = database.run(lambda s: purge_passenger_data(s, Caller(user="admin-1"), policy, years))
    assert report.pnrs_deleted == 5 and database.run(people) == []


def test_the_gates_risk_rules_score_what_central_knows_of_a_passenger_before_arrival(database):
    first = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
    for day in range(6):  # six crossings in the week before BA902 lands on 6 December
        cross(database, "SMITH", "ANNA", "533401372", "GBR", dt.date(1992, 3, 16), first + dt.timedelta(days=day))
    imported(database, "paxlst_default_separators.edi")
    [target] = database.run(lambda s: targeting_list(s, ANALYST, "BA902/FRA/2026-12-06"))
    assert (target.surname, target.status) == ("SMITH", "CHECK")
    assert target.reasons == ["risk rules frequent_crossings (score 0.30)"]
