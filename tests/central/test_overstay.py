"""Authorised stays kept by RecordCrossing (central.records.stays): the stays table, the exit's overstay flag,
overstay listing, alerts, statistics, visas from their MRZ, CheckStay and the "previous overstay" risk rule."""
from __future__ import annotations

import datetime as dt
import json

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from central.database import models as m
from central.database.engine import Database
from central.errors import InvalidArgument
from central.records import overstay
from central.records.visas import read_visa_mrz
from central.statistics.tables import overstay_statistics
from central.stays.rule import Stay, authorise
from drivers.mrz import generate_mrva
from limes.cli import main
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request

SUPERVISOR = (("x-limes-user", "sup-1"),)


def cross(stub, surname: str, number: str, direction, occurred_at: str,
          nationality: str = "UTO") -> pb.RecordCrossingResponse:
    request = crossing_request(occurred_at=occurred_at, direction=direction)
    request.traveller.surname, request.document.number = surname, number
    request.traveller.nationality = nationality
    return stub.RecordCrossing(request, metadata=GATE_METADATA)


def on_database(database_url: str, work):
    database = Database(database_url)
    try:
        return database.run(work)
    finally:
        database.dispose()


def stay_rows(database_url: str) -> list[tuple]:
    return on_database(database_url, lambda s: [tuple(r) for r in s.execute(
        select(m.StayRecord.entry_day, m.StayRecord.exit_day, m.StayRecord.allowed_until, m.StayRecord.overstay_days,
               m.StayRecord.regime).order_by(m.StayRecord.traveller_id, m.StayRecord.entry_day))])


def test_an_entry_opens_a_stay_authorised_for_90_days_and_the_exit_closes_it(stub, database_url):
    cross(stub, "LEAVER", "L1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    leaving = cross(stub, "LEAVER", "L1", pb.Crossing.EXIT, "2026-03-31T10:00:00Z")  # day 90: in time
    assert leaving.HasField("overstay_days") and leaving.overstay_days == 0
    assert stay_rows(database_url) == [(dt.date(2026, 1, 1), dt.date(2026, 3, 31), dt.date(2026, 3, 31), 0,
                                        "visa_exempt")]


def test_a_late_exit_is_flagged_with_its_overstay_days_on_the_crossing(stub, database_url):
    cross(stub, "LATE", "X1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    leaving = cross(stub, "LATE", "X1", pb.Crossing.EXIT, "2026-04-10T10:00:00Z")
    assert leaving.overstay_days == 10
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="officer-1", role="officer")))
    stored = stub.GetCrossing(pb.GetCrossingRequest(crossing_id=leaving.crossing_id),
                              metadata=(("x-limes-user", "officer-1"),))
    assert stored.overstay_days == 10
    assert on_database(
        database_url, lambda s: overstay.overstays(s, dt.date(2026, 6, 1))) == []
    [late] = on_database(database_url, lambda s: overstay.overstays(s, dt.date(2026, 6, 1), include_exited=True))
    assert (late.left_on, late.days_over) == (dt.date(2026, 4, 10), 10)


def test_the_second_stay_is_authorised_by_the_90_in_180_rule(stub, database_url):
    # SEM example 5 (docs/STAYS.md): 21.02-20.04.2014, then from 01.05.2014: only 30 days are left.
    cross(stub, "ROLLING", "R1", pb.Crossing.ENTRY, "2014-02-21T10:00:00Z")
    cross(stub, "ROLLING", "R1", pb.Crossing.EXIT, "2014-04-20T10:00:00Z")
    cross(stub, "ROLLING", "R1", pb.Crossing.ENTRY, "2014-05-01T10:00:00Z")
    leaving = cross(stub, "ROLLING", "R1", pb.Crossing.EXIT, "2014-06-09T10:00:00Z")
    rule = authorise([Stay(dt.date(2014, 2, 21), dt.date(2014, 4, 20)), Stay(dt.date(2014, 5, 1), dt.date(2014, 6, 9))],
                     dt.date(2014, 6, 9))
    assert leaving.overstay_days == rule.overstay_days == 9
    assert stay_rows(database_url)[-1][2] == dt.date(2014, 5, 31)


def test_free_movement_has_no_limit_and_same_day_return_is_one_stay(stub, database_url):
    cross(stub, "CITIZEN", "E1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z", nationality="FRA")
    assert cross(stub, "CITIZEN", "E1", pb.Crossing.EXIT, "2026-12-01T10:00:00Z", nationality="FRA"
                 ).overstay_days == 0
    cross(stub, "DAYTRIP", "D1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "DAYTRIP", "D1", pb.Crossing.EXIT, "2026-01-05T10:00:00Z")
    cross(stub, "DAYTRIP", "D1", pb.Crossing.ENTRY, "2026-01-05T18:00:00Z")
    assert stay_rows(database_url) == [
        (dt.date(2026, 1, 1), dt.date(2026, 12, 1), None, 0, "free_movement"),
        (dt.date(2026, 1, 1), None, dt.date(2026, 3, 31), 0, "visa_exempt")]


def test_a_missing_exit_ends_the_stay_the_day_before_the_next_entry(stub, database_url):
    cross(stub, "TWICE", "T1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "TWICE", "T1", pb.Crossing.ENTRY, "2026-02-01T10:00:00Z")
    rows = stay_rows(database_url)
    assert [(r[0], r[1]) for r in rows] == [(dt.date(2026, 1, 1), dt.date(2026, 1, 31)), (dt.date(2026, 2, 1), None)]
    assert rows[1][2] == dt.date(2026, 3, 31)  # 31 days used: 59 more from 1 February


def test_a_late_delivered_crossing_rebuilds_the_travellers_stays(stub, database_url):
    cross(stub, "OUTBOX", "B1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "OUTBOX", "B1", pb.Crossing.ENTRY, "2026-03-01T10:00:00Z")
    cross(stub, "OUTBOX", "B1", pb.Crossing.EXIT, "2026-01-20T10:00:00Z")  # sent late by a gate's outbox
    assert [(r[0], r[1]) for r in stay_rows(database_url)] == [(dt.date(2026, 1, 1), dt.date(2026, 1, 20)),
                                                                (dt.date(2026, 3, 1), None)]


def test_overstay_alerts_are_raised_the_day_after_the_stay_ends_once(stub, database_url, capsys):
    cross(stub, "STAYER", "S1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    args = ["central", "overstay-alerts", "--database", database_url, "--json"]
    assert main([*args, "--on", "2026-03-31"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main([*args, "--on", "2026-04-01"]) == 0
    [alert] = json.loads(capsys.readouterr().out)
    assert (alert["surname"], alert["allowed_until"], alert["alerted_on"], alert["days_over"]) == (
        "STAYER", "2026-03-31", "2026-04-01", 1)
    assert main([*args, "--on", "2026-04-02"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # raised once
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="sup-1", role="supervisor")))
    [listed] = stub.ListOverstays(pb.ListOverstaysRequest(), metadata=SUPERVISOR).overstays
    assert (listed.traveller.surname, listed.allowed_until, listed.alerted_on) == ("STAYER", "2026-03-31",
                                                                                  "2026-04-01")
    assert main(["central", "audit", "--database", database_url, "--json", "--limit", "5"]) == 0
    assert "RaiseOverstayAlerts" in {r["action"] for r in json.loads(capsys.readouterr().out)}


def test_overstays_command_lists_and_is_audited(stub, database_url, capsys):
    cross(stub, "STAYER", "S1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    assert main(["central", "overstays", "--today", "2026-05-01", "--database", database_url, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["surname"], row["allowed_until"], row["days_over"]) == ("STAYER", "2026-03-31", 31)
    assert main(["central", "audit", "--database", database_url, "--json", "--limit", "5"]) == 0
    assert "ListOverstays" in {r["action"] for r in json.loads(capsys.readouterr().out)}


def test_a_residence_permit_lifts_the_limit(stub, database_url, capsys):
    assert main(["central", "add-stay", "--state", "DEU", "--number", "P123", "--from", "2025-12-01",
                 "--to", "2026-12-31", "--reference", "D-PERMIT-1", "--database", database_url, "--json"]) == 0
    capsys.readouterr()
    cross(stub, "RESIDENT", "P123", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    assert stay_rows(database_url) == [(dt.date(2026, 1, 1), None, None, 0, "exempt")]


def visa_mrz(**changes) -> str:
    fields = dict(issuing_state="FRA", surname="VISITOR", given_names="ANA", document_number="FRA123456",
                  nationality="UTO", birth_date=dt.date(1964, 8, 12), sex="F", expiry_date=dt.date(2026, 1, 20))
    return generate_mrva(**{**fields, **changes})


def test_a_short_stay_visa_from_its_mrz_narrows_the_stay(stub, database_url, capsys, tmp_path):
    rules = tmp_path / "stays.toml"
    rules.write_text('[stays]\nvisa_required = ["UTO"]\n')
    request = crossing_request(occurred_at="2025-12-01T10:00:00Z", direction=pb.Crossing.EXIT)
    request.traveller.surname, request.traveller.given_names = "VISITOR", "ANA"
    request.traveller.nationality = "UTO"
    stub.RecordCrossing(request, metadata=GATE_METADATA)  # known to central: the visa finds its holder
    path = tmp_path / "visa.mrz"
    path.write_text(visa_mrz())
    assert main(["central", "add-stay", "--visa-mrz", str(path), "--kind", "short-stay-visa", "--from", "2026-01-05",
                 "--entries", "1", "--duration-days", "10", "--database", database_url, "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert (stored["number"], stored["valid_to"], stored["entries"], stored["duration_days"]) == (
        "FRA123456", "2026-01-20", 1, 10)
    # The visa holder under a visa_required rule: the duration bounds the stay (central.records.stays).
    from central.records import stays
    from central.stays.regime import rules_from
    from drivers.alertmatch.normalize import name_key

    def allowance(session):
        traveller = stays.holder(session, "", "", name_key("VISITOR", "ANA"), dt.date(1964, 8, 12), "UTO")
        found = stays.authorised(session, rules_from({"visa_required": ["UTO"]}), traveller, "UTO", "D",
                                 "C01X00T47", "P", dt.date(2026, 1, 8))
        outside = stays.authorised(session, rules_from({"visa_required": ["UTO"]}), traveller, "UTO", "D",
                                   "C01X00T47", "P", dt.date(2026, 1, 21))
        return found, outside
    found, outside = on_database(database_url, allowance)
    assert (found.regime.value, found.latest_exit, found.refused) == ("visa_required", dt.date(2026, 1, 17), "")
    assert outside.latest_exit is None and outside.refused.startswith("C:")


def test_add_stay_refuses_an_unreadable_or_unknown_visa_clearly(database_url, capsys, tmp_path):
    base = ["central", "add-stay", "--kind", "short-stay-visa", "--from", "2026-01-05", "--database", database_url]
    assert main([*base, "--visa-mrz", str(tmp_path / "missing.mrz")]) == 2
    assert "visa_mrz: cannot read" in capsys.readouterr().err
    path = tmp_path / "visa.mrz"
    path.write_text(visa_mrz())
    assert main([*base, "--visa-mrz", str(path)]) == 2  # nobody of that identity has crossed
    assert "no traveller recorded with the visa's names" in capsys.readouterr().err


def test_a_visa_mrz_must_be_a_visa():
    from drivers.mrz import generate_td3

    passport = generate_td3(issuing_state="UTO", surname="A", given_names="B", document_number="X1",
                            nationality="UTO", birth_date=dt.date(1990, 1, 1), sex="M", expiry_date=dt.date(2030, 1, 1))
    with pytest.raises(InvalidArgument, match="MRV-A or MRV-B"):
        read_visa_mrz(passport)
    visa = read_visa_mrz(visa_mrz())
    assert (visa.number, visa.issuing_state, visa.nationality, visa.valid_until) == (
        "FRA123456", "FRA", "UTO", dt.date(2026, 1, 20))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_reading_a_visa_mrz_never_fails_but_clearly(text):
    try:
        read_visa_mrz(text)
    except InvalidArgument as exc:
        assert str(exc)


def test_check_stay_answers_the_gate(stub):
    today = dt.datetime.now(dt.timezone.utc).date()
    fresh = stub.CheckStay(pb.CheckStayRequest(
        document=pb.TravelDocument(number="N1", type="P", issuing_state="UTO"),
        traveller=pb.Traveller(surname="NEW", nationality="UTO", birth_date="1980-01-01")), metadata=GATE_METADATA)
    assert (fresh.regime, fresh.latest_exit, fresh.days_used, fresh.refused) == (
        pb.CheckStayResponse.VISA_EXEMPT, (today + dt.timedelta(days=89)).isoformat(), 1, "")
    entered = (today - dt.timedelta(days=100)).isoformat() + "T10:00:00Z"
    cross(stub, "LONG", "G1", pb.Crossing.ENTRY, entered)
    request = crossing_request()
    full = stub.CheckStay(pb.CheckStayRequest(
        document=pb.TravelDocument(number="G1", type="P", issuing_state=request.document.issuing_state),
        traveller=pb.Traveller(surname="LONG", nationality="UTO")), metadata=GATE_METADATA)
    assert full.latest_exit == "" and full.refused.startswith("F: has already stayed 90 days")
    citizen = stub.CheckStay(pb.CheckStayRequest(document=pb.TravelDocument(number="C9", issuing_state="D"),
                                                 traveller=pb.Traveller(surname="X", nationality="D")),
                             metadata=GATE_METADATA)
    assert (citizen.regime, citizen.latest_exit) == (pb.CheckStayResponse.FREE_MOVEMENT, "")


def test_a_traveller_who_overstayed_carries_the_risk_indicator(stub):
    cross(stub, "OVER", "O1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    leaving = cross(stub, "OVER", "O1", pb.Crossing.EXIT, "2026-05-01T10:00:00Z")
    assert "previous_overstay" in leaving.risk_rules_fired  # the stay it ends was too long
    again = cross(stub, "OVER", "O1", pb.Crossing.ENTRY, "2026-08-01T10:00:00Z")
    assert "previous_overstay" in again.risk_rules_fired
    cross(stub, "PUNCTUAL", "Q1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "PUNCTUAL", "Q1", pb.Crossing.EXIT, "2026-02-01T10:00:00Z")
    assert "previous_overstay" not in cross(stub, "PUNCTUAL", "Q1", pb.Crossing.ENTRY,
                                            "2026-08-01T10:00:00Z").risk_rules_fired


def test_overstay_statistics_by_nationality_and_border_point_suppress_small_cells(stub, database_url):
    for index in range(6):
        cross(stub, "OVER" + "ABCDEF"[index], f"A{index}", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "LONE", "B1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z", nationality="XXB")
    point = crossing_request().border_point
    table = on_database(database_url, lambda s: overstay_statistics(
        s, ("nationality", "border_point"), "month", dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 6, 1)))
    cells = {c.values: (c.count, c.suppressed) for c in table.cells}
    assert cells[("UTO", point)] == (6, True) and cells[("XXB", point)] == (1, True)  # secondary, primary
    assert table.cells[0].period == "2026-04"
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="an-1", role="analyst")))
    answer = stub.Statistics(pb.StatisticsRequest(by=["border_point"], period="month", subject="overstays",
                                                  **{"from": "2026-01-01", "to": "2026-04-30"}),
                             metadata=(("x-limes-user", "an-1"),))
    assert [(c.values[0], c.count, c.suppressed) for c in answer.cells] == [(point, 7, False)]
    with pytest.raises(grpc.RpcError) as refused:
        stub.Statistics(pb.StatisticsRequest(by=["sex"], subject="overstays", **{"from": "2026-01-01",
                                                                                "to": "2026-04-30"}),
                        metadata=(("x-limes-user", "an-1"),))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_list_overstays_rpc_for_supervisors_not_gates(stub):
    cross(stub, "STAYER", "S1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="sup-1", role="supervisor")))
    [found] = stub.ListOverstays(pb.ListOverstaysRequest(), metadata=SUPERVISOR).overstays
    assert (found.traveller.surname, found.allowed_until, found.left_on) == ("STAYER", "2026-03-31", "")
    assert found.days_over > 200  # measured to today, at least 2026-11-25
    with pytest.raises(grpc.RpcError) as refused:
        stub.ListOverstays(pb.ListOverstaysRequest(), metadata=GATE_METADATA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_traveller_history_shows_the_stays(stub):
    cross(stub, "HISTORY", "H1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "HISTORY", "H1", pb.Crossing.EXIT, "2026-04-05T10:00:00Z")
    cross(stub, "HISTORY", "H1", pb.Crossing.ENTRY, "2026-09-01T10:00:00Z")
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="officer-1", role="officer")))
    found = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(
        document=pb.TravelDocument(number="H1", issuing_state=crossing_request().document.issuing_state)),
        metadata=(("x-limes-user", "officer-1"),))
    assert [(s.entry_day, s.exit_day, s.allowed_until, s.overstay_days, s.regime) for s in found.stays] == [
        ("2026-09-01", "", "2026-11-29", 0, "visa_exempt"),
        ("2026-01-01", "2026-04-05", "2026-03-31", 5, "visa_exempt")]


def test_a_crossing_the_rule_cannot_date_is_stored_without_a_stay(stub, database_url):
    recorded = cross(stub, "FUTURE", "F1", pb.Crossing.ENTRY, "2250-01-01T10:00:00Z")
    assert not recorded.already_recorded and not recorded.HasField("overstay_days")
    assert stay_rows(database_url) == []


def test_rebuild_stays_fills_the_table_from_the_crossings(stub, database_url, capsys):
    from sqlalchemy import delete

    cross(stub, "OLD", "O7", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "OLD", "O7", pb.Crossing.EXIT, "2026-04-10T10:00:00Z")
    cross(stub, "OLD", "O7", pb.Crossing.ENTRY, "2026-09-01T10:00:00Z")
    cross(stub, "CITIZEN", "C7", pb.Crossing.ENTRY, "2026-02-01T10:00:00Z", nationality="FRA")
    kept = stay_rows(database_url)
    on_database(database_url, lambda s: s.execute(delete(m.StayRecord)))  # as crossings recorded before 0006
    assert stay_rows(database_url) == []
    assert main(["central", "rebuild-stays", "--database", database_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"travellers": 2}
    assert stay_rows(database_url) == kept and len(kept) == 3
