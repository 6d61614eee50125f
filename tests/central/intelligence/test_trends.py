"""Weekly indicators: baselines (seasonal when a year of data exists), anomalies, grounds, small cells."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.intelligence import trends
from central.records import referrals
from tests.central.intelligence.conftest import record

MONDAY = dt.date(2026, 11, 16)


def weeks_back(n: int) -> dt.date:
    return MONDAY - dt.timedelta(weeks=n)


def test_a_spike_over_the_trailing_baseline_is_flagged_with_how_unusual_it_is():
    series = {weeks_back(k): 10 for k in range(1, 9)} | {MONDAY: 30}
    (anomaly,) = trends.anomalies("refusals", "FRA-T1", series, [MONDAY], weeks_back(8))
    assert (anomaly.baseline, anomaly.seasonal, round(anomaly.z, 2)) == (10, False, 6.32)
    assert trends.anomalies("refusals", "FRA-T1", series | {MONDAY: 15}, [MONDAY], weeks_back(8)) == []


def test_a_seasonal_peak_is_expected_when_last_year_had_it_too():
    series = {weeks_back(k): 10 for k in range(1, 60)} | {weeks_back(52 + k): 30 for k in (-1, 0, 1)} | {MONDAY: 30}
    assert trends.anomalies("crossings", "FRA-T1", series, [MONDAY], weeks_back(59)) == []
    assert trends.baseline(series, MONDAY, weeks_back(59)) == (30, True)


def test_small_counts_and_short_histories_are_never_flagged():
    assert trends.anomalies("refusals", "X", {MONDAY: 4}, [MONDAY], weeks_back(20)) == []
    assert trends.baseline({MONDAY: 40}, MONDAY, weeks_back(2)) is None


def test_weekly_counts_from_the_records_with_refusal_grounds(database):
    officer = Caller("web-desk", "olga")
    for k in range(1, 9):  # one refusal a week at FRA-T1, then six in the last week
        for n in range(6 if k == 1 else 1):
            at = dt.datetime.combine(weeks_back(k - 1), dt.time(8, n), dt.timezone.utc)
            crossing = record(database, f"T{k}X{n}", at, decision=m.GateDecision.REFER,
                              reasons=["alerts.document: stolen (exact, alert 7)"])
            database.run(lambda s: referrals.open_referral(s, Caller("FRA-T1-G01", ""), crossing, crossing,
                                                           "FRA-T1-G01", ["alerts.document: stolen"]))
            database.run(lambda s: referrals.record_decision(
                s, officer, crossing, "olga", m.ReferralStatus.REFUSED,
                "B: false, counterfeit or forged travel document", ""))
    result = database.run(lambda s: trends.weekly(s, Caller("web-desk", "ana"), "border_point", MONDAY, 8,
                                                  MONDAY + dt.timedelta(days=3)))
    assert result.weeks[-1] == MONDAY and len(result.weeks) == 8
    assert result.counts["refusals"]["FRA-T1"][MONDAY] == 6
    assert result.counts["alert_hits"]["FRA-T1"][MONDAY] == 6
    assert result.grounds[MONDAY] == {"B": 6}
    assert result.shown(3) == "<5" and result.shown(6) == "6"
    # Six against a baseline of about one a week: flagged. (Too little history for the first weeks.)
    assert [(a.indicator, a.week, a.count) for a in result.anomalies if a.indicator == "refusals"] == [
        ("refusals", MONDAY, 6)]
    assert database.run(lambda s: s.scalar(select(m.AuditEntry.outcome).where(m.AuditEntry.action == "Trends")))


def _refusal_week(database, k: int, n: int, decide: bool = True) -> str:
    at = dt.datetime.combine(weeks_back(k), dt.time(9, n), dt.timezone.utc)
    crossing = record(database, f"W{k}N{n}", at, border_point="MUC-T2", decision=m.GateDecision.REFER)
    database.run(lambda s: referrals.open_referral(s, Caller("MUC-T2-G01", ""), crossing, crossing, "MUC-T2-G01",
                                                   ["face: no match"]))
    if decide:
        _refuse(database, crossing)
    return crossing


def _refuse(database, crossing: str) -> None:
    database.run(lambda s: referrals.record_decision(s, Caller("web-desk", "olga"), crossing, "olga",
                                                     m.ReferralStatus.REFUSED, "C: no valid visa", ""))


def _weekly(database, dimension: str):
    return database.run(lambda s: trends.weekly(s, Caller("web-desk", "ana"), dimension, MONDAY, 8, MONDAY))


def test_the_stored_weekly_counts_give_the_same_trends_as_the_crossings(database):
    from central.intelligence import weekly_counts

    for k in range(6):
        for n in range(k + 1):
            _refusal_week(database, k, n)
    live = {d: _weekly(database, d) for d in trends.DIMENSIONS}
    # Counted up to the middle of the weeks: the dashboard reads the counts, then the crossings after.
    middle = dt.datetime.combine(weeks_back(2), dt.time(12), dt.timezone.utc)
    summary = database.run(lambda s: weekly_counts.refresh(s, Caller("cron", "cron"), middle))
    assert summary["weekly_counts"] > 0
    for dimension, expected in live.items():
        counted = _weekly(database, dimension)
        assert (counted.counts, counted.grounds) == (expected.counts, expected.grounds)
        assert [(a.indicator, a.value, a.week) for a in counted.anomalies] == [
            (a.indicator, a.value, a.week) for a in expected.anomalies]
    assert database.run(lambda s: s.scalar(select(m.AuditEntry.subject).where(m.AuditEntry.action == "CountTrends")))


def test_a_refusal_decided_after_the_count_is_taken_in_by_the_next_one(database):
    from central.intelligence import weekly_counts

    crossing = _refusal_week(database, 1, 0, decide=False)
    now = dt.datetime.combine(MONDAY, dt.time(12), dt.timezone.utc)
    database.run(lambda s: weekly_counts.refresh(s, Caller("cron", "cron"), now))
    assert _weekly(database, "border_point").counts["refusals"] == {}
    _refuse(database, crossing)
    assert _weekly(database, "border_point").counts["refusals"] == {}  # counted before the decision
    database.run(lambda s: weekly_counts.refresh(s, Caller("cron", "cron"), now + dt.timedelta(hours=1)))
    result = _weekly(database, "border_point")
    assert result.counts["refusals"] == {"MUC-T2": {weeks_back(1): 1}}
    assert result.grounds == {weeks_back(1): {"C": 1}}
    # The counts hold no personal data and outlive the crossings: purged, the week still counts.
    from central.access import retention
    database.run(lambda s: retention.purge(s, MONDAY + dt.timedelta(days=30), retention.RetentionPolicy(
        personal_days=7, evidence_days=0, overstay_days=7)))
    assert _weekly(database, "border_point").counts["crossings"] == {"MUC-T2": {weeks_back(1): 1}}


def test_limes_central_count_trends_counts_and_says_how_far(database, database_url, capsys):
    import json

    from limes.cli import main

    _refusal_week(database, 1, 0)
    assert main(["central", "count-trends", "--database", database_url, "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert counted["from_week"] == weeks_back(1).isoformat() and counted["weekly_counts"] > 0
    rows = database.run(lambda s: s.execute(select(m.TrendCount.value, m.TrendCount.count).where(
        m.TrendCount.dimension == "border_point", m.TrendCount.indicator == "refusals")).all())
    assert rows == [("MUC-T2", 1)]
