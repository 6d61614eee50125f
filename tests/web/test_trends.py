"""The trends page: indicators per week, the chart as SVG, anomalies, for analysts (numbers only)."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

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


def _pdf_strings(document: bytes) -> list[str]:
    """The text a PDF shows, string by string: its streams decoded (reportlab writes them ASCII85 and
    Flate encoded), then each `(...) Tj`."""
    import base64
    import zlib

    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", document, re.S):
        stream = stream.strip()
        if stream.endswith(b"~>"):
            stream = zlib.decompress(base64.a85decode(stream[:-2]))
        shown += [s.replace(rb"\(", b"(").replace(rb"\)", b")").decode("latin-1")
                  for s in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", stream)]
    return shown


def test_the_bulletin_as_pdf_holds_the_same_numbers_with_small_cells_suppressed(desk):
    this_week = NOW.date() - dt.timedelta(days=NOW.weekday())
    for k in range(1, 10):
        for n in range(2 if k > 1 else 12):
            at = dt.datetime.combine(this_week - dt.timedelta(weeks=k - 1), dt.time(7, n), dt.timezone.utc)
            record(desk.database, f"P{k}X{n}", at, border_point="BER-T1", decision=m.GateDecision.REFER)
    record(desk.database, "LONELY", dt.datetime.combine(this_week, dt.time(9), dt.timezone.utc), border_point="MUC-T2")
    client = desk.signed_in("analyst")
    html = client.get(f"/bulletin?month={NOW:%Y-%m}").get_data(as_text=True)
    assert f"/bulletin.pdf?month={NOW:%Y-%m}" in html
    response = client.get(f"/bulletin.pdf?month={NOW:%Y-%m}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and "attachment" in response.headers["Content-Disposition"]
    shown = _pdf_strings(response.data)
    assert f"Risk analysis bulletin {NOW:%B %Y}" in shown
    # The month's totals row of BER-T1, as on the page: 18 crossings, 18 referrals, nothing else.
    at = shown.index("BER-T1", shown.index("By border point: the month's totals"))
    assert shown[at:at + 7] == ["BER-T1", "18", "18", "0", "0", "0", "0"]
    html_row = re.search(r'<th scope="row">BER-T1</th>(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", html_row) == shown[at + 1:at + 7]
    # The lone crossing at MUC-T2 is a small cell: suppressed, in both.
    at = shown.index("MUC-T2", shown.index("By border point: the month's totals"))
    assert shown[at + 1] == "<5" and "MUC-T2</th><td>&lt;5</td>" in html
    anomaly = re.search(r"<tr><td>([\d-]+)</td><td>referrals</td><td>BER-T1</td><td>12</td>", html).group(1)
    assert any(shown[k:k + 4] == [anomaly, "referrals", "BER-T1", "12"] for k in range(len(shown)))
    assert not any("P1X0" in s or "LONELY" in s for s in shown)  # numbers, never names
    assert desk.signed_in("officer").get("/bulletin.pdf").status_code == 403
    assert client.get("/bulletin.pdf?month=nonsense").status_code == 400
    assert desk.database.run(lambda s: s.scalar(select(func.count(m.AuditEntry.id)).where(
        m.AuditEntry.user_name == USERS["analyst"], m.AuditEntry.action == "Bulletin"))) == 2
