"""Statistics: age bands, periods, primary and secondary suppression, the RPC (analysts only) and `limes stats`."""
from __future__ import annotations

import datetime as dt
import json

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.statistics import tables as statistics
from central.statistics.tables import Cell, Fact, age_band, period_of, suppress, tabulate
from limes.cli import main
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request

ANALYST = (("x-limes-user", "analyst-1"),)


@pytest.mark.parametrize(("birth", "on", "band"), [
    ("2008-11-26", "2026-11-25", "0-17"),   # 18 tomorrow
    ("2008-11-25", "2026-11-25", "18-29"),  # 18 today
    ("1997-01-01", "2026-12-31", "18-29"),
    ("1996-12-31", "2026-12-31", "30-44"),
    ("1981-11-25", "2026-11-25", "45-64"),
    ("1961-11-26", "2026-11-25", "45-64"),
    ("1961-11-25", "2026-11-25", "65+"),
    ("2000-02-29", "2018-02-28", "0-17"),   # a leap-day birthday comes on 1 March in other years
    ("2000-02-29", "2018-03-01", "18-29"),
])
def test_age_band_at_the_crossing_date(birth, on, band):
    assert age_band(dt.date.fromisoformat(birth), dt.date.fromisoformat(on)) == band


def test_unknown_or_future_birth_dates_have_no_band():
    assert age_band(None, dt.date(2026, 1, 1)) == "unknown"
    assert age_band(dt.date(2027, 1, 1), dt.date(2026, 1, 1)) == "unknown"


def test_periods():
    day = dt.date(2026, 1, 1)  # ISO week 1 of 2026 starts on Monday 29 December 2025
    assert (period_of(day, "day"), period_of(day, "week"), period_of(day, "month")) == (
        "2026-01-01", "2026-W01", "2026-01")
    assert period_of(dt.date(2025, 12, 29), "week") == "2026-W01"


def cells(*counts: int) -> list[Cell]:
    return [Cell("2026-11", (str(i),), n) for i, n in enumerate(counts)]


def test_a_lone_small_cell_takes_the_next_smallest_with_it():
    group = cells(40, 3, 12, 9)
    suppress(group)
    assert [c.shown for c in group] == ["40", "<5", "12", "<5"]


def test_two_small_cells_summing_under_k_take_a_third():
    group = cells(1, 2, 30, 8)
    suppress(group)
    assert [c.suppressed for c in group] == [True, True, False, True]


def test_nothing_small_nothing_hidden():
    group = cells(5, 6, 100)
    suppress(group)
    assert not any(c.suppressed for c in group)


def facts(**counts: int) -> list[Fact]:
    """Facts on 2026-11-02 at FRA-T1, by nationality."""
    return [Fact(dt.date(2026, 11, 2), nat, "F", "30-44", "FRA-T1", "ENTRY", "P", "OPEN", n)
            for nat, n in counts.items()]


def test_a_small_period_total_hides_its_cells_and_another_period():
    rows = facts(DEU=20, FRA=7) + [Fact(dt.date(2026, 12, 1), "DEU", "F", "30-44", "FRA-T1", "ENTRY", "P",
                                        "OPEN", 3)]
    table = tabulate(rows, ("nationality",), "month", dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    assert [(t.period, t.shown) for t in table.period_totals] == [("2026-11", "<5"), ("2026-12", "<5")]
    assert all(c.suppressed for c in table.cells)  # else November's total would be 20 + 7
    assert table.total == 30


@settings(deadline=None, max_examples=150)
@given(st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=8))
def test_no_suppressed_cell_can_be_worked_out_from_the_total(counts):
    table = tabulate(facts(**{f"N{i:02d}": n for i, n in enumerate(counts)}), ("nationality",), "month",
                     dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    hidden = [c for c in table.cells if c.suppressed]
    assert all(c.suppressed for c in table.cells if c.count < 5)
    if hidden and len(hidden) < len(table.cells):
        # What the total gives away is the sum of the hidden cells: at least two, at least k together.
        assert len(hidden) >= 2 and sum(c.count for c in hidden) >= 5
    shown = {c.values for c in table.cells if not c.suppressed}
    assert all(c.count >= 5 for c in table.cells if c.values in shown)


def record(stub, nationality: str, sex: str, birth_date: str, direction=pb.Crossing.ENTRY,
           occurred_at="2026-11-02T10:00:00Z", number: str | None = None) -> None:
    import uuid

    request = crossing_request(occurred_at=occurred_at, direction=direction)
    request.traveller.nationality, request.traveller.sex, request.traveller.birth_date = nationality, sex, birth_date
    request.traveller.surname = "T" + uuid.uuid4().hex[:8].upper()
    request.document.number = number or uuid.uuid4().hex[:9].upper()
    stub.RecordCrossing(request, metadata=GATE_METADATA)


@pytest.fixture
def recorded(stub):
    for _ in range(6):
        record(stub, "DEU", "F", "1990-05-01")
    for _ in range(3):
        record(stub, "FRA", "M", "1950-01-01")
    for _ in range(2):
        record(stub, "ITA", "F", "2015-01-01", direction=pb.Crossing.EXIT)
    record(stub, "DEU", "F", "1990-05-01", occurred_at="2026-10-31T23:59:59Z")  # before the range
    return stub


def test_statistics_rpc_for_analysts(recorded):
    response = recorded.Statistics(pb.StatisticsRequest(by=["nationality"], period="month",
                                                         **{"from": "2026-11-01", "to": "2026-11-30"}),
                                   metadata=ANALYST)
    assert response.total == 11 and response.threshold == 5
    # FRA 3 and ITA 2 are hidden; together 5, so DEU's 6 may show.
    assert [(tuple(c.values), c.shown, c.count) for c in response.cells] == [
        (("DEU",), "6", 6), (("FRA",), "<5", 0), (("ITA",), "<5", 0)]
    by_age = recorded.Statistics(pb.StatisticsRequest(by=["age_band", "direction"], period="day",
                                                       **{"from": "2026-11-02", "to": "2026-11-02"}),
                                 metadata=ANALYST)
    assert {tuple(c.values) for c in by_age.cells} == {("30-44", "ENTRY"), ("65+", "ENTRY"), ("0-17", "EXIT")}


def test_statistics_are_refused_to_gates_and_bad_requests_name_the_field(recorded):
    with pytest.raises(grpc.RpcError) as refused:
        recorded.Statistics(pb.StatisticsRequest(**{"from": "2026-11-01", "to": "2026-11-30"}),
                            metadata=GATE_METADATA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as bad:
        recorded.Statistics(pb.StatisticsRequest(by=["surname"], **{"from": "2026-11-01", "to": "2026-11-30"}),
                            metadata=ANALYST)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and bad.value.details().startswith("by:")


def test_limes_stats_json_csv_and_plot(recorded, database_url, capsys, tmp_path):
    args = ["stats", "--by", "nationality,direction", "--period", "month", "--from", "2026-11-01",
            "--to", "2026-11-30", "--database", database_url]
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 11
    assert {"period": "2026-11", "nationality": "DEU", "direction": "ENTRY", "count": 6, "shown": "6"} in result[
        "cells"]
    chart = tmp_path / "chart.png"
    assert main([*args, "--csv", "--plot", str(chart)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "period,nationality,direction,count"
    assert "2026-11,FRA,ENTRY,<5" in lines and lines[-1] == "ALL,TOTAL,TOTAL,11"

    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(chart.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[1] == 1000
    assert main(["stats", "--by", "name", "--from", "2026-11-01", "--to", "2026-11-30",
                 "--database", database_url]) == 2
    assert "by: 'name' is not one of" in capsys.readouterr().err


def test_statistics_include_daily_aggregates(database_url):
    from central.database import models as m
    from central.database.engine import Database

    database = Database(database_url)
    database.migrate()
    database.run(lambda s: s.add(m.CrossingAggregate(
        day=dt.date(2026, 11, 3), nationality="DEU", sex="F", age_band="30-44", border_point="FRA-T1",
        direction="ENTRY", document_type="P", decision="OPEN", count=12)))
    table = database.run(lambda s: statistics.statistics(s, ("nationality",), "month", dt.date(2026, 11, 1),
                                                         dt.date(2026, 11, 30)))
    database.dispose()
    assert [(c.values, c.count) for c in table.cells] == [(("DEU",), 12)]


def test_a_small_grand_total_is_suppressed_too():
    table = tabulate(facts(DEU=2, FRA=1), ("nationality",), "month", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert table.total_suppressed and table.as_dict()["total"] is None
    assert table.csv().splitlines()[-1] == "ALL,TOTAL,<5"
    assert "3" not in table.text().replace("30", "")


def test_the_decision_dimension_follows_the_officers(stub):
    import uuid

    outcomes = {}
    for label, decision in (("refused", pb.Referral.REFUSED), ("admitted", pb.Referral.ADMITTED),
                            ("pending", pb.Referral.ESCALATED), ("unreferred", None)):
        request = crossing_request(decision=pb.Crossing.REFER)
        request.document.number = uuid.uuid4().hex[:9].upper()
        stub.RecordCrossing(request, metadata=GATE_METADATA)
        if decision is not None:
            stub.OpenReferral(pb.OpenReferralRequest(referral_id=request.crossing_id, crossing_id=request.crossing_id,
                                                     station_id=request.station_id), metadata=GATE_METADATA)
            stub.RecordDecision(pb.RecordDecisionRequest(referral_id=request.crossing_id, officer="tester",
                                                         decision=decision, reason="ground"))
        outcomes[label] = request.document.number
    record(stub, "DEU", "F", "1990-05-01", occurred_at="2026-11-25T07:00:00Z")
    response = stub.Statistics(pb.StatisticsRequest(by=["decision"], period="month",
                                                     **{"from": "2026-11-01", "to": "2026-11-30"}))
    assert sorted(c.values[0] for c in response.cells) == ["ADMITTED", "OPEN", "PENDING", "REFER", "REFUSED"]
    assert response.total == 5


def test_a_refusal_in_any_referral_makes_the_crossing_refused():
    from central.database import models as m

    assert statistics.outcome(m.GateDecision.REFER, [m.ReferralStatus.ADMITTED, m.ReferralStatus.REFUSED]) == "REFUSED"
    assert statistics.outcome(m.GateDecision.REFER, [m.ReferralStatus.OPEN]) == "PENDING"
    assert statistics.outcome(m.GateDecision.OPEN, []) == "OPEN"
