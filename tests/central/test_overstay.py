"""Overstays: entries without a timely exit, permitted stays, the CLI and the "previous overstay" risk rule."""
from __future__ import annotations

import datetime as dt
import json

from central.database.engine import Database
from central.records import overstay
from limes.cli import main
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request


def cross(stub, surname: str, number: str, direction, occurred_at: str) -> pb.RecordCrossingResponse:
    request = crossing_request(occurred_at=occurred_at, direction=direction)
    request.traveller.surname, request.document.number = surname, number
    return stub.RecordCrossing(request, metadata=GATE_METADATA)


def stays(database_url: str, today: dt.date, **kwargs):
    database = Database(database_url)
    try:
        return database.run(lambda s: overstay.overstays(s, today, **kwargs))
    finally:
        database.dispose()


def test_entry_without_exit_overstays_after_the_default_stay(stub, database_url):
    cross(stub, "STAYER", "S1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "LEAVER", "L1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "LEAVER", "L1", pb.Crossing.EXIT, "2026-03-31T10:00:00Z")  # day 90: in time
    assert stays(database_url, dt.date(2026, 3, 31)) == []
    [late] = stays(database_url, dt.date(2026, 4, 2))
    assert (late.surname, late.allowed_until, late.left_on, late.days_over) == (
        "STAYER", dt.date(2026, 3, 31), None, 2)
    assert [s.surname for s in stays(database_url, dt.date(2026, 4, 2), default_days=180)] == []


def test_a_late_exit_is_an_overstay_only_when_exited_ones_are_asked_for(stub, database_url):
    cross(stub, "LATE", "X1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "LATE", "X1", pb.Crossing.EXIT, "2026-04-10T10:00:00Z")
    assert stays(database_url, dt.date(2026, 6, 1)) == []
    [late] = stays(database_url, dt.date(2026, 6, 1), include_exited=True)
    assert (late.left_on, late.days_over) == (dt.date(2026, 4, 10), 10)


def test_a_permitted_stay_extends_the_limit(stub, database_url, capsys):
    cross(stub, "STUDENT", "P123", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    assert main(["central", "add-stay", "--state", "DEU", "--number", "P123", "--from", "2025-12-01",
                 "--to", "2026-12-31", "--reference", "D-VISA-1", "--database", database_url, "--json"]) == 0
    capsys.readouterr()
    assert stays(database_url, dt.date(2026, 12, 31)) == []
    assert [s.days_over for s in stays(database_url, dt.date(2027, 1, 3))] == [3]


def test_overstays_command_lists_and_is_audited(stub, database_url, capsys):
    cross(stub, "STAYER", "S1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    assert main(["central", "overstays", "--today", "2026-05-01", "--database", database_url, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["surname"], row["allowed_until"], row["days_over"]) == ("STAYER", "2026-03-31", 31)
    assert main(["central", "overstays", "--today", "2026-05-01", "--database", database_url]) == 0
    assert "31 day(s) over" in capsys.readouterr().out
    assert main(["central", "audit", "--database", database_url, "--json", "--limit", "5"]) == 0
    assert "ListOverstays" in {r["action"] for r in json.loads(capsys.readouterr().out)}


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


def test_a_missing_exit_ends_the_stay_at_the_next_entry(stub, database_url):
    cross(stub, "TWICE", "T1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    cross(stub, "TWICE", "T1", pb.Crossing.ENTRY, "2026-02-01T10:00:00Z")
    [open_stay] = stays(database_url, dt.date(2026, 6, 1))
    assert open_stay.entered_on == dt.date(2026, 2, 1)


def test_list_overstays_rpc_for_supervisors_not_gates(stub):
    import grpc
    import pytest

    cross(stub, "STAYER", "S1", pb.Crossing.ENTRY, "2026-01-01T10:00:00Z")
    supervisor = (("x-limes-user", "sup-1"),)
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="sup-1", role="supervisor")))
    [found] = stub.ListOverstays(pb.ListOverstaysRequest(), metadata=supervisor).overstays
    assert (found.traveller.surname, found.allowed_until, found.left_on) == ("STAYER", "2026-03-31", "")
    assert found.days_over > 200  # measured to today, at least 2026-11-25
    with pytest.raises(grpc.RpcError) as refused:
        stub.ListOverstays(pb.ListOverstaysRequest(), metadata=GATE_METADATA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
