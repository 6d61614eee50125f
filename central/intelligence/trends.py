"""Weekly risk indicators in the style of Frontex's FRAN, with seasonal baselines and anomalies.

Per week (Monday to Sunday, UTC) and per border point, route (border point and direction),
nationality or document type: crossings, referrals, refusals (and their grounds), travellers
admitted after a referral, alert hits at the gates, and overstays (counted in the week they began).

A week's baseline is the same week of the year before (the mean of that week and its neighbours)
when the data reach back that far, else the mean of the eight weeks before it. How unusual a count
is: its distance from the baseline in Poisson standard deviations (z). Counts under the statistics'
small-cell threshold are never flagged, and are shown suppressed.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument
from central.records.overstay import overstays
from central.statistics.tables import MIN_CELL

INDICATORS = ("crossings", "referrals", "refusals", "admitted", "alert_hits", "overstays")
DIMENSIONS = ("border_point", "route", "nationality", "document_type")
Z_FLAG = 3.0
HISTORY_WEEKS, TRAILING_WEEKS = 53, 8


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Anomaly:
    indicator: str
    value: str
    week: dt.date
    count: int
    baseline: float
    seasonal: bool

    @property
    def z(self) -> float:
        return (self.count - self.baseline) / math.sqrt(max(self.baseline, 1.0))


def baseline(series: dict[dt.date, int], week: dt.date, first: dt.date) -> tuple[float, bool] | None:
    """The expected count for `week` (and whether it is seasonal); None when there is no history yet.
    `first` is the first week the data cover: weeks before it are unknown, not zero."""
    year_before = week - dt.timedelta(weeks=52)
    if year_before - dt.timedelta(weeks=1) >= first:
        around = [series.get(year_before + dt.timedelta(weeks=k), 0) for k in (-1, 0, 1)]
        return sum(around) / 3, True
    trailing = [week - dt.timedelta(weeks=k) for k in range(1, TRAILING_WEEKS + 1)]
    known = [series.get(w, 0) for w in trailing if w >= first]
    if len(known) < 4:
        return None
    return sum(known) / len(known), False


def anomalies(indicator: str, value: str, series: dict[dt.date, int], weeks: list[dt.date], first: dt.date
              ) -> list[Anomaly]:
    found = []
    for week in weeks:
        count = series.get(week, 0)
        expected = baseline(series, week, first)
        if expected is None or count < MIN_CELL:
            continue
        anomaly = Anomaly(indicator, value, week, count, round(expected[0], 2), expected[1])
        if anomaly.z >= Z_FLAG:
            found.append(anomaly)
    return found


@dataclass
class Trends:
    dimension: str
    weeks: list[dt.date]
    # indicator -> value -> week -> count
    counts: dict[str, dict[str, dict[dt.date, int]]]
    # week -> refusal ground (its letter) -> count
    grounds: dict[dt.date, dict[str, int]]
    anomalies: list[Anomaly] = field(default_factory=list)

    def shown(self, count: int) -> str:
        return f"<{MIN_CELL}" if 0 < count < MIN_CELL else str(count)

    def top(self, indicator: str, n: int = 6) -> list[str]:
        """The values with the most of the indicator over the weeks shown."""
        totals = {value: sum(series.get(w, 0) for w in self.weeks)
                  for value, series in self.counts.get(indicator, {}).items()}
        return [v for v, total in sorted(totals.items(), key=lambda item: (-item[1], item[0])) if total][:n]


# dimension -> indicator -> value -> week -> count; refusal grounds under the dimension GROUNDS.
Counts = dict[str, dict[str, dict[str, dict[dt.date, int]]]]
GROUNDS = "ground"


def _values(point: str, direction: m.Direction, nationality: str, doc_type: str) -> dict[str, str]:
    return {"border_point": point, "route": f"{point} {direction.value}", "nationality": nationality or "?",
            "document_type": doc_type or "?"}


def empty_counts() -> Counts:
    return {d: {i: defaultdict(lambda: defaultdict(int)) for i in INDICATORS} for d in (*DIMENSIONS, GROUNDS)}


def utc_day(column, dialect: str):
    """A SQL expression for the UTC day of an instant column: SQLite keeps instants as UTC text, PostgreSQL
    as timestamptz (whose date would follow the session's time zone)."""
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.substr(column, 1, 10)


def _as_day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def count_crossings(session: Session, since: dt.datetime, until: dt.datetime, counts: Counts) -> None:
    """Adds the crossings that occurred in [since, until) to the counts, by every dimension at once: the
    crossings, referrals, refusals (and their grounds), admissions after a referral and alert hits of
    each week. The database counts them per day and cell; only crossings with alert reasons and refused
    referrals are read one by one."""
    day = utc_day(m.Crossing.occurred_at, session.bind.dialect.name).label("day")

    def joined(query):
        return (query.join(m.Traveller, m.Crossing.traveller_id == m.Traveller.id)
                .join(m.TravelDocument, m.Crossing.document_id == m.TravelDocument.id)
                .join(m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id)
                .where(m.Crossing.occurred_at >= since, m.Crossing.occurred_at < until))
    cells = (m.BorderPoint.code, m.Crossing.direction, m.Traveller.nationality, m.TravelDocument.doc_type)

    def add(found_on, point, direction, nationality, doc_type, indicator: str, count: int) -> None:
        week = week_of(_as_day(found_on))
        for dimension, value in _values(point, direction, nationality, doc_type).items():
            counts[dimension][indicator][value][week] += count

    # Every crossing, and every referral's outcome (a crossing with two referrals counts under each).
    for found_on, *cell, decision, count in session.execute(joined(
            select(day, *cells, m.Crossing.decision, func.count())).group_by(day, *cells, m.Crossing.decision)):
        add(found_on, *cell, "crossings", count)
        if decision is m.GateDecision.REFER:
            add(found_on, *cell, "referrals", count)
    referred = (m.Referral, m.Referral.crossing_id == m.Crossing.id)
    for found_on, *cell, status, count in session.execute(joined(
            select(day, *cells, m.Referral.status, func.count()).join(*referred)
            .where(m.Referral.status.in_((m.ReferralStatus.REFUSED, m.ReferralStatus.ADMITTED))))
            .group_by(day, *cells, m.Referral.status)):
        add(found_on, *cell, "refusals" if status is m.ReferralStatus.REFUSED else "admitted", count)
    # Alert hits: the few crossings whose reasons name an alert or watchlist, judged here.
    mentions = or_(cast(m.Crossing.reasons, String).like("%alerts.%"),
                   cast(m.Crossing.reasons, String).like("%watchlist.%"))
    for found_on, *cell, reasons in session.execute(joined(select(day, *cells, m.Crossing.reasons)).where(mentions)):
        if any(r.startswith(("alerts.", "watchlist.")) and "could not" not in r for r in reasons or []):
            add(found_on, *cell, "alert_hits", 1)
    decided = (m.OfficerDecision, m.OfficerDecision.referral_id == m.Referral.id)
    for found_on, reason in session.execute(joined(select(day, m.OfficerDecision.reason).join(*referred)
                                                   .join(*decided))
                                            .where(m.Referral.status == m.ReferralStatus.REFUSED,
                                                   m.OfficerDecision.decision == m.ReferralStatus.REFUSED)):
        counts[GROUNDS]["refusals"][(reason or "?").split(":")[0]][week_of(_as_day(found_on))] += 1


def read_counted(session: Session, dimensions: tuple[str, ...], start: dt.date, end: dt.date, counts: Counts
                 ) -> dt.datetime | None:
    """Adds the stored weekly counts of weeks start..end (exclusive) to `counts`; the instant they were
    counted until (None when they never were: then nothing is added)."""
    counted_until = session.scalar(select(m.TrendCountsState.counted_until))
    if counted_until is None:
        return None
    for dimension, week, value, indicator, count in session.execute(
            select(m.TrendCount.dimension, m.TrendCount.week, m.TrendCount.value, m.TrendCount.indicator,
                   m.TrendCount.count).where(m.TrendCount.dimension.in_(dimensions), m.TrendCount.week >= start,
                                             m.TrendCount.week < end)):
        counts[dimension][indicator][value][week] += count
    return counted_until if counted_until.tzinfo else counted_until.replace(tzinfo=dt.timezone.utc)


def weekly(session: Session, caller: Caller, dimension: str, last_week: dt.date, weeks: int,
           today: dt.date) -> Trends:
    """The indicators for `weeks` weeks up to the one holding `last_week`, anomalies flagged; audited.
    Read from the weekly trend counts (central.intelligence.weekly_counts) as far as they go, and from
    the crossings after that."""
    if dimension not in DIMENSIONS:
        raise InvalidArgument("by", f"{dimension!r} is not one of {', '.join(DIMENSIONS)}")
    if not 4 <= weeks <= 104:
        raise InvalidArgument("weeks", "4 to 104")
    end = week_of(last_week) + dt.timedelta(weeks=1)
    shown = [end - dt.timedelta(weeks=k) for k in range(weeks, 0, -1)]
    start = shown[0] - dt.timedelta(weeks=HISTORY_WEEKS)
    since = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
    until = dt.datetime.combine(end, dt.time(), dt.timezone.utc)
    counts = empty_counts()
    counted_until = read_counted(session, (dimension, GROUNDS), start, end, counts)
    count_crossings(session, max(since, counted_until) if counted_until else since, until, counts)
    if dimension in ("border_point", "nationality"):
        for stay in overstays(session, today, include_exited=True):
            began = stay.allowed_until + dt.timedelta(days=1)
            if since.date() <= began < end:
                value = stay.border_point if dimension == "border_point" else (stay.nationality or "?")
                counts[dimension]["overstays"][value][week_of(began)] += 1
    weeks_seen = [w for series in counts[dimension]["crossings"].values() for w, n in series.items() if n]
    first = min(weeks_seen, default=shown[0])
    trends = Trends(dimension, shown, {i: {v: dict(s) for v, s in c.items()} for i, c in counts[dimension].items()},
                    _by_week(counts[GROUNDS]["refusals"]))
    for indicator, by_value in trends.counts.items():
        for value, series in by_value.items():
            trends.anomalies.extend(anomalies(indicator, value, series, shown, first))
    trends.anomalies.sort(key=lambda a: -a.z)
    audit(session, caller, "Trends", f"weekly indicators by {dimension}, {shown[0]} to {end}",
          f"{len(trends.anomalies)} anomaly(ies)", "risk analysis")
    return trends


def _by_week(grounds: dict[str, dict[dt.date, int]]) -> dict[dt.date, dict[str, int]]:
    result: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for letter, series in grounds.items():
        for week, count in series.items():
            result[week][letter] = count
    return dict(result)
