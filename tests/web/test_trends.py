"""The trends page: indicators per week, the chart as SVG, anomalies, for analysts (numbers only)."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from central.database import models as m
from tests.central.intelligence.conftest import record
from tests.web.conftest import NOW, USERS


def test_weekly_referrals_with_a_spike_flagged_and_small_cells_suppressed(desk):
    this_week = NOW.date() - dt.timedelta(days=NOW.weekday())
    for k in range(1, 10):
        for n in range(2 if k > 1 else 12):
            at = dt.datetime.combine(this_week - dt.timedelta(weeks=k - 1), dt.time(7, n), dt.timezone.utc)
            record(desk.database, f"R{k}X{n}", at, border_point="BER-T1", decision=m.GateDecision.REFER)
    client = desk.signed_in("analyst")
    page = client.get("/trends?by=border_point&indicator=referrals&weeks=12").get_data(as_text=True)
    assert '<polyline class="series s0"' in page
    anomalies = re.findall(r"<tr><td>([\d-]+)</td><td>referrals</td><td>BER-T1</td><td>(\d+)</td>", page)
    assert anomalies == [(this_week.isoformat(), "12")]
    row = re.search(r'id="table-referrals".*?<th scope="row">BER-T1</th>(.*?)</tr>', page, re.S).group(1)
    assert row.count("&lt;5") == 8 and row.endswith("<td>12</td>")  # 2 a week: suppressed
    assert "MUSTERMANN" not in page and "R1X0" not in page  # numbers, never names
    assert desk.database.run(lambda s: s.scalar(select(m.AuditEntry.action).where(
        m.AuditEntry.user_name == USERS["analyst"], m.AuditEntry.action == "Trends"))) == "Trends"


def test_a_bad_dimension_is_refused_and_officers_have_no_trends(desk):
    assert desk.signed_in("intelligence").get("/trends?by=shoe_size").status_code == 400
    assert desk.signed_in("officer").get("/trends").status_code == 403


def test_the_monthly_bulletin_shows_the_months_numbers_and_anomalies(desk):
    this_week = NOW.date() - dt.timedelta(days=NOW.weekday())
    for k in range(1, 10):
        for n in range(2 if k > 1 else 12):
            at = dt.datetime.combine(this_week - dt.timedelta(weeks=k - 1), dt.time(7, n), dt.timezone.utc)
            record(desk.database, f"B{k}X{n}", at, border_point="BER-T1", decision=m.GateDecision.REFER)
    client = desk.signed_in("analyst")
    page = client.get(f"/bulletin?month={NOW:%Y-%m}").get_data(as_text=True)
    assert f"Risk analysis bulletin <small class=\"muted\">{NOW:%B %Y}</small>" in page
    assert re.search(r"<td>referrals</td><td>BER-T1</td><td>12</td>", page)
    row = re.search(r'<th scope="row">BER-T1</th>(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row)[:2] == ["18", "18"]  # 12 + 2 + 2 + 2 in November's weeks
    assert client.get("/bulletin?month=2026-13").status_code == 400
    assert desk.signed_in("officer").get("/bulletin").status_code == 403
