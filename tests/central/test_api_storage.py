"""Storing advance passenger data: versions per flight and list, screening against alerts, all or nothing."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from central.access.audit import Caller
from central.alerts.lists import NewDocumentAlert, NewPersonAlert, add_document_alert, add_person_alert
from central.database import models as m
from central.database.engine import Database
from central.errors import InvalidArgument
from central.passengers import storage
from central.passengers.intake import import_message
from central.passengers.targeting import list_flights, targeting_list

CORPUS = Path(__file__).parent / "api_messages"
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.timezone.utc)
AIRLINE = Caller(station="LH-API-GATEWAY")
OFFICER = Caller(user="officer-17", purpose="shift briefing")
LH400 = "LH400/FRA/2026-12-07"


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def message(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def alerts(database: Database) -> None:
    admin = Caller(user="admin-1")

    def add(session):
        add_document_alert(session, admin, NewDocumentAlert("DA-STOLEN", "L898902C3", "P", "USA",
                                                            m.DocumentAlertReason.STOLEN, "seize", "", None, None))
        add_person_alert(session, admin, NewPersonAlert("PA-BAN", "ROSSI", "MARIO", dt.date(1975, 3, 30), "ITA",
                                                        m.PersonAlertReason.ENTRY_BAN, "refuse entry", "", None,
                                                        None, ""))
    database.run(add)


def count(database: Database, model) -> int:
    return database.run(lambda session: session.scalar(select(func.count()).select_from(model)))


def test_a_manifest_is_stored_screened_and_its_targets_listed_with_reasons(database):
    alerts(database)
    imported = import_message(database, AIRLINE, message("paxlst_d02b_passengers.edi"), NOW)
    [stored] = imported.lists
    assert (stored.flight_key, stored.list_kind, stored.version, stored.persons, stored.hits) == (
        LH400, "passengers", 1, 3, 2)
    targets = database.run(lambda s: targeting_list(s, OFFICER, LH400))
    assert [(t.surname, t.status) for t in targets] == [("DOE", "HIT"), ("ROSSI", "HIT")]
    assert "document alert DA-STOLEN: STOLEN (exact) on P USA L898902C3; seize" in targets[0].reasons
    assert targets[1].reasons[0].startswith("person alert PA-BAN: ENTRY_BAN (score")
    assert targets[0].documents == ["P USA L898902C3"]
    manifest = database.run(lambda s: s.scalar(select(m.ApiManifest)))
    assert manifest.received_by == "LH-API-GATEWAY" and manifest.current


def test_a_later_message_for_the_flight_replaces_the_list_and_keeps_the_earlier_version(database):
    first = message("paxlst_d02b_passengers.edi")
    import_message(database, AIRLINE, first, NOW)
    again = import_message(database, AIRLINE, first, NOW)
    assert again.lists[0].already_stored and again.lists[0].version == 1
    later = first.replace(b"NAD+FL+++ROSSI:MARIO'", b"NAD+FL+++ROSSI:MARIA'")
    imported = import_message(database, AIRLINE, later, NOW)
    assert (imported.lists[0].version, imported.lists[0].replaced_version) == (2, 1)
    versions = database.run(lambda s: s.execute(select(m.ApiManifest.version, m.ApiManifest.current)
                                                .order_by(m.ApiManifest.version)).all())
    assert versions == [(1, False), (2, True)]
    everyone = database.run(lambda s: targeting_list(s, OFFICER, LH400, everyone=True))
    assert sorted(t.given_names for t in everyone) == ["ERIKA", "JOHN WAYNE", "MARIA"]
    assert count(database, m.ApiPerson) == 6  # the first version's persons are kept with it


def test_crew_and_passenger_lists_of_a_flight_are_versioned_apart(database):
    import_message(database, AIRLINE, message("paxlst_in_transit.edi"), NOW)
    [flight] = database.run(lambda s: list_flights(s, OFFICER))
    assert flight.lists == {"passengers": 1, "crew": 1} and flight.persons == 3


def test_pnrs_are_stored_with_travellers_links_and_no_card_number(database):
    alerts(database)
    imported = import_message(database, AIRLINE, message("pnrgov_11_1.edi"), NOW)
    [stored] = imported.lists
    assert (stored.list_kind, stored.persons, stored.hits) == ("pnr", 4, 2)
    pnrs = database.run(lambda s: s.execute(select(m.PnrRecord.locator, m.PnrRecord.data)).all())
    assert [locator for locator, _ in pnrs] == ["QX7Y2Z", "ZZ9K4P", "AB12CD"]
    assert "4111111111111111" not in str(pnrs) and "account_digest" not in str(pnrs)
    links = database.run(lambda s: s.execute(select(m.PnrLink.kind, func.count()).group_by(m.PnrLink.kind)).all())
    assert dict(links) == {"booking": 3, "contact": 3, "address": 1, "payment": 2, "agency": 2}


def test_an_unusable_message_stores_nothing(database):
    with pytest.raises(InvalidArgument, match="not a PAXLST or PNRGOV message"):
        import_message(database, AIRLINE, message("unusable_other_message.edi"), NOW)
    assert count(database, m.ApiFlight) == count(database, m.ApiManifest) == 0


def test_a_failure_while_storing_leaves_no_half_stored_manifest(database, monkeypatch):
    real = storage.screen
    calls = []

    def fail_on_the_third(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(*args)

    import_message(database, AIRLINE, message("paxlst_in_transit.edi"), NOW)  # stored before: stays
    monkeypatch.setattr(storage, "screen", fail_on_the_third)
    with pytest.raises(RuntimeError):
        import_message(database, AIRLINE, message("paxlst_d02b_passengers.edi"), NOW)
    assert [count(database, t) for t in (m.ApiFlight, m.ApiManifest, m.ApiPerson, m.ApiDocument)] == [1, 2, 3, 3]


def test_every_read_is_audited(database):
    import_message(database, AIRLINE, message("paxlst_d02b_passengers.edi"), NOW)
    database.run(lambda s: targeting_list(s, OFFICER, LH400))
    rows = database.run(lambda s: s.execute(select(m.AuditEntry.user_name, m.AuditEntry.action,
                                                   m.AuditEntry.subject, m.AuditEntry.purpose)).all())
    assert ("officer-17", "ReadTargetingList", f"flight {LH400}", "shift briefing") in rows
    assert ("", "ImportApi", f"passengers of flight {LH400} version 1",
            "advance passenger information: pre-arrival screening") in rows


def test_a_failure_after_the_rows_are_written_rolls_them_all_back(database, monkeypatch):
    real = storage.audit

    def fail_at_the_summary(session, caller, action, *args):
        if action == "ImportApi":
            session.flush()  # the persons and documents are in the database's transaction by now
            raise RuntimeError("disk full")
        return real(session, caller, action, *args)

    monkeypatch.setattr(storage, "audit", fail_at_the_summary)
    with pytest.raises(RuntimeError):
        import_message(database, AIRLINE, message("pnrgov_11_1.edi"), NOW)
    tables = (m.ApiFlight, m.ApiManifest, m.ApiPerson, m.ApiDocument, m.PnrRecord, m.PnrLink)
    assert [count(database, t) for t in tables] == [0] * 6


def test_a_flight_without_persons_is_refused_and_leaves_no_flight(database):
    text = message("paxlst_default_separators.edi").decode()
    start, end = text.index("NAD+FL"), text.index("CNT+")
    with pytest.raises(InvalidArgument, match="no person could be read: nothing to store"):
        import_message(database, AIRLINE, (text[:start] + text[end:]).encode(), NOW)
    assert count(database, m.ApiFlight) == 0
