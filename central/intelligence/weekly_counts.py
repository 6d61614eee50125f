"""The weekly trend counts: the trend dashboard's and the bulletin's indicators counted once, kept in
`trend_counts`, so that their queries read a few thousand rows instead of a year and a half of crossings.

`refresh` (run by `limes central count-trends`, hourly or daily from cron like `overstay-alerts`)
counts the crossings up to now and records how far it got; the dashboard reads the counts up to there
and the crossings after it (central.intelligence.trends.weekly). What changes after a crossing is
recorded is caught by counting again: each refresh recounts the weeks from RECOUNT_WEEKS before the
last one counted, which takes in referrals decided later and crossings a gate uploaded late (offline).
A crossing recorded later than that after it occurred is not counted. Purged crossings
(central.access.retention) stay counted: the counts hold no personal data.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.intelligence.trends import count_crossings, empty_counts, week_of

RECOUNT_WEEKS = 8


def refresh(session: Session, caller: Caller, now: dt.datetime) -> dict:
    """Count (again) the weeks from RECOUNT_WEEKS before the last count, or from the first crossing, to now."""
    state = session.scalar(select(m.TrendCountsState))
    if state is None:
        first = session.scalar(select(func.min(m.Crossing.occurred_at)))
        start = week_of(first.date()) if first else week_of(now.date())
    else:
        start = week_of(state.counted_until.date()) - dt.timedelta(weeks=RECOUNT_WEEKS)
    since = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
    counts = empty_counts()
    count_crossings(session, since, now, counts)
    session.execute(delete(m.TrendCount).where(m.TrendCount.week >= start))
    rows = [dict(dimension=dimension, week=week, value=value[:48], indicator=indicator, count=count)
            for dimension, by_indicator in counts.items() for indicator, by_value in by_indicator.items()
            for value, series in by_value.items() for week, count in series.items()]
    for begin in range(0, len(rows), 5000):
        session.execute(insert(m.TrendCount), rows[begin:begin + 5000])
    if state is None:
        session.add(m.TrendCountsState(id=1, counted_until=now, counted_at=now))
    else:
        state.counted_until, state.counted_at = now, now
    session.flush()
    audit(session, caller, "CountTrends", f"crossings from {start} to {now:%Y-%m-%d %H:%M}",
          f"{len(rows)} weekly count(s)", "risk analysis")
    return {"from_week": start.isoformat(), "counted_until": now.isoformat(), "weekly_counts": len(rows)}
