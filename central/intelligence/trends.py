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

from sqlalchemy import select
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


def _value(dimension: str, point: str, direction: m.Direction, nationality: str, doc_type: str) -> str:
    return {"border_point": point, "route": f"{point} {direction.value}", "nationality": nationality or "?",
            "document_type": doc_type or "?"}[dimension]


def weekly(session: Session, caller: Caller, dimension: str, last_week: dt.date, weeks: int,
           today: dt.date) -> Trends:
    """The indicators for `weeks` weeks up to the one holding `last_week`, anomalies flagged; audited."""
    if dimension not in DIMENSIONS:
        raise InvalidArgument("by", f"{dimension!r} is not one of {', '.join(DIMENSIONS)}")
    if not 4 <= weeks <= 104:
        raise InvalidArgument("weeks", "4 to 104")
    end = week_of(last_week) + dt.timedelta(weeks=1)
    shown = [end - dt.timedelta(weeks=k) for k in range(weeks, 0, -1)]
    start = shown[0] - dt.timedelta(weeks=HISTORY_WEEKS)
    since = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
    until = dt.datetime.combine(end, dt.time(), dt.timezone.utc)
    counts: dict[str, dict[str, dict[dt.date, int]]] = {i: defaultdict(lambda: defaultdict(int)) for i in INDICATORS}
    grounds: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = session.execute(
        select(m.Crossing.occurred_at, m.Crossing.direction, m.Crossing.decision, m.Crossing.reasons,
               m.Traveller.nationality, m.BorderPoint.code, m.TravelDocument.doc_type, m.Referral.status,
               m.Referral.id)
        .join(m.Traveller, m.Crossing.traveller_id == m.Traveller.id)
        .join(m.TravelDocument, m.Crossing.document_id == m.TravelDocument.id)
        .join(m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id)
        .outerjoin(m.Referral, m.Referral.crossing_id == m.Crossing.id)
        .where(m.Crossing.occurred_at >= since, m.Crossing.occurred_at < until))
    refused_referrals = []
    first_seen = None
    for at, direction, decision, reasons, nationality, point, doc_type, status, referral in rows:
        day = (at if at.tzinfo is None else at.astimezone(dt.timezone.utc)).date()
        week, value = week_of(day), _value(dimension, point, direction, nationality, doc_type)
        first_seen = week if first_seen is None else min(first_seen, week)
        counts["crossings"][value][week] += 1
        if decision is m.GateDecision.REFER:
            counts["referrals"][value][week] += 1
        if any(r.startswith(("alerts.", "watchlist.")) and "could not" not in r for r in reasons or []):
            counts["alert_hits"][value][week] += 1
        if status is m.ReferralStatus.REFUSED:
            counts["refusals"][value][week] += 1
            refused_referrals.append((referral, week))
        elif status is m.ReferralStatus.ADMITTED:
            counts["admitted"][value][week] += 1
    if refused_referrals:
        letters = dict(session.execute(select(m.OfficerDecision.referral_id, m.OfficerDecision.reason).where(
            m.OfficerDecision.referral_id.in_([r for r, _ in refused_referrals]),
            m.OfficerDecision.decision == m.ReferralStatus.REFUSED)).all())
        for referral, week in refused_referrals:
            grounds[week][(letters.get(referral) or "?").split(":")[0]] += 1
    if dimension in ("border_point", "nationality"):
        for stay in overstays(session, today, include_exited=True):
            began = stay.allowed_until + dt.timedelta(days=1)
            if since.date() <= began < end:
                value = stay.border_point if dimension == "border_point" else (stay.nationality or "?")
                counts["overstays"][value][week_of(began)] += 1
    first = first_seen or shown[0]
    trends = Trends(dimension, shown, {i: {v: dict(s) for v, s in c.items()} for i, c in counts.items()},
                    {w: dict(g) for w, g in grounds.items()})
    for indicator, by_value in trends.counts.items():
        for value, series in by_value.items():
            trends.anomalies.extend(anomalies(indicator, value, series, shown, first))
    trends.anomalies.sort(key=lambda a: -a.z)
    audit(session, caller, "Trends", f"weekly indicators by {dimension}, {shown[0]} to {end}",
          f"{len(trends.anomalies)} anomaly(ies)", "risk analysis")
    return trends
