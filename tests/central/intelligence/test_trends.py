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
