"""Pre-arrival screening with the gates' risk profiles and the 90/180 stay rule (central.passengers.arrival)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database
from central.intelligence.targeting import write_profile
from central.passengers.intake import import_message
from central.passengers.targeting import targeting_list
from central.records import stays
from central.records.gate_calls import DocumentData, NewCrossing, TravellerData, record_crossing
from central.risk.rules import RiskRules
from central.stays.regime import StayRules
from drivers.alertmatch.normalize import name_key

CORPUS = Path(__file__).parent / "api_messages"
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.timezone.utc)
AIRLINE = Caller(station="LH-API-GATEWAY")
OFFICER = Caller(user="officer-17", purpose="shift briefing")
ANALYST = Caller(user="analyst-3")
# The message's flight LH400 from JFK lands at FRA on 2026-12-07 with MUSTERMANN (DEU), DOE (USA, passport
# L898902C3) and ROSSI (ITA) on board.
LH400 = "LH400/FRA/2026-12-07"
PASSENGERS = (CORPUS / "paxlst_d02b_passengers.edi").read_bytes()


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def screened(database: Database, stay_rules: StayRules | None = None) -> dict[str, tuple[str, list[str]]]:
    import_message(database, AIRLINE, PASSENGERS, NOW, stay_rules=stay_rules)
    targets = database.run(lambda s: targeting_list(s, OFFICER, LH400, everyone=True))
    return {t.surname: (t.status, t.reasons) for t in targets}


def border_point(database: Database, code: str) -> None:
    database.run(lambda s: s.add(m.BorderPoint(code=code, name=code)))


def profile(database: Database, name: str, conditions: dict) -> None:
    database.run(lambda s: write_profile(s, ANALYST, name, conditions, 0.5, "test"))


def doe_entered(database: Database, *days: dt.date, point: str = "FRA-T1") -> None:
    """DOE's entries (his exits unrecorded) on `days`, at a gate of `point`."""
    for number, day in enumerate(days):
        new = NewCrossing(f"doe-{number}", f"{point}-G1", point, m.Direction.ENTRY,
                          dt.datetime.combine(day, dt.time(9), dt.timezone.utc),
                          DocumentData("L898902C3", "P", "USA", dt.date(2030, 4, 15)),
                          TravellerData("DOE", "JOHN WAYNE", "USA", "M", dt.date(1980, 1, 1)),
                          m.GateDecision.OPEN, [], [], None)
        database.write(lambda connection, new=new: record_crossing(connection, Caller(station=new.station), new,
                                                                    RiskRules.load()))


def selections(database: Database) -> int:
    return database.run(lambda s: s.scalar(select(func.count()).select_from(m.RiskProfileSelection)))


def test_a_passenger_a_profile_selects_is_to_check_with_the_profile_named_and_no_selection_recorded(database):
    border_point(database, "FRA-T1")
    profile(database, "us-passports-fra", {"route": ["FRA-T1 ENTRY"], "document_type": ["P"],
                                           "nationality": ["USA"]})
    found = screened(database)
    assert found["DOE"] == ("CHECK", ["profile us-passports-fra v1"])
    assert found["MUSTERMANN"] == ("CLEAR", [])
    assert selections(database) == 0


def test_a_route_profile_selects_nobody_on_a_flight_to_an_airport_that_is_no_border_point(database):
    border_point(database, "MUC-T2")
    profile(database, "us-passports-fra", {"route": ["FRA-T1"], "document_type": ["P"], "nationality": ["USA"]})
    assert screened(database)["DOE"] == ("CLEAR", [])


def test_a_travel_pattern_profile_counts_the_passengers_earlier_crossings(database):
    border_point(database, "FRA-T1")
    profile(database, "frequent", {"travel_pattern": {"min_crossings": 2, "within_days": 30}, "document_type": ["P"]})
    doe_entered(database, dt.date(2026, 11, 20), dt.date(2026, 11, 30))
    found = screened(database)
    assert found["DOE"][0] == "CHECK" and "profile frequent v1" in found["DOE"][1]
    assert found["MUSTERMANN"] == ("CLEAR", [])  # never recorded: no earlier crossings


def test_a_passenger_with_no_day_left_is_to_check_with_the_ground(database):
    doe_entered(database, dt.date(2026, 8, 1))  # in since: on 2026-12-07 the 90 days are long used
    found = screened(database)
    assert found["DOE"][0] == "CHECK"
    [reason] = [r for r in found["DOE"][1] if r.startswith("stay:")]
    assert reason.startswith("stay: no day left on 2026-12-07: ground F: has already stayed 90 days")
    assert found["MUSTERMANN"] == ("CLEAR", [])  # free movement
    assert found["ROSSI"] == ("CLEAR", [])


def test_a_visa_required_passenger_without_a_visa_on_record_is_to_check(database):
    found = screened(database, StayRules(visa_required=frozenset({"USA"})))
    assert found["DOE"] == ("CHECK", ["stay: no day left on 2026-12-07: ground C: no valid visa on record for this "
                                      "day"])


def test_a_passenger_with_days_left_and_no_profile_stays_clear(database):
    border_point(database, "FRA-T1")
    profile(database, "other-route", {"route": ["FRA-T1 EXIT"], "document_type": ["P"]})
    doe_entered(database, dt.date(2026, 11, 20))
    assert screened(database)["DOE"] == ("CLEAR", [])


def test_the_batched_stay_judgement_is_the_gates(database):
    doe_entered(database, dt.date(2026, 8, 1))
    rules = StayRules(visa_required=frozenset({"GBR"}))
    day = dt.date(2026, 12, 7)
    asked = [("USA", "USA", "L898902C3", "DOE", "JOHN WAYNE", dt.date(1980, 1, 1)),
             ("DEU", "DEU", "C01X00T47", "MUSTERMANN", "ERIKA", dt.date(1964, 8, 12)),
             ("ITA", "ITA", "YA1234567", "ROSSI", "MARIO", dt.date(1975, 3, 30)),
             ("GBR", "GBR", "NEVERSEEN", "SMITH", "ANNA", None)]

    def both(session):
        questions = [stays.StayQuestion(state, number, "P", name_key(surname, given), born, nationality)
                     for nationality, state, number, surname, given, born in asked]
        holders = stays.holders(session, questions)
        one_by_one = [stays.holder(session, q.issuing_state, q.number_norm, q.name_key, q.birth_date, q.nationality)
                      for q in questions]
        batched = stays.authorised_many(session, rules, [
            stays.Entrant(t, q.nationality, q.issuing_state, q.number_norm, "P") for q, t in zip(questions, holders)],
            day)
        gate = [stays.authorised(session, rules, t, q.nationality, q.issuing_state, q.number_norm, "P", day)
                for q, t in zip(questions, holders)]
        return holders, one_by_one, batched, gate

    holders, one_by_one, batched, gate = database.run(both)
    assert holders == one_by_one and holders[0] is not None
    assert batched == gate
    assert [a.refused[:2] for a in batched] == ["F:", "", "", "C:"]


def test_crew_and_persons_in_transit_are_not_judged_as_entering(database):
    # ET706 lands at FRA with TESFAYE (passenger, ETH), OKAFOR (in transit, NGA), KEBEDE (crew, ETH).
    border_point(database, "FRA-T1")
    profile(database, "fra-passports", {"route": ["FRA-T1"], "document_type": ["P"]})
    import_message(database, AIRLINE, (CORPUS / "paxlst_in_transit.edi").read_bytes(), NOW,
                   stay_rules=StayRules(visa_required=frozenset({"ETH", "NGA"})))
    key = database.run(lambda s: s.scalar(select(m.ApiFlight.flight_key)))
    targets = database.run(lambda s: targeting_list(s, OFFICER, key, everyone=True))
    found = {t.surname: (t.role, t.status, t.reasons) for t in targets}
    assert found["TESFAYE"] == ("passenger", "CHECK", [
        "profile fra-passports v1", "stay: no day left on 2026-12-07: ground C: no valid visa on record for this day"])
    assert found["OKAFOR"] == ("transit_passenger", "CLEAR", [])
    assert found["KEBEDE"][1:] == ("CLEAR", [])
