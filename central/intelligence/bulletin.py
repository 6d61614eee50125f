"""The monthly risk analysis bulletin: the month's weekly indicators by border point and nationality,
the anomalies flagged in it, refusal grounds, and the risk profiles' yield. Numbers only, small cells
suppressed (central.intelligence.trends); rendered as HTML by the web desk (`/bulletin`) and as PDF
(central.intelligence.bulletin_pdf, `/bulletin.pdf`) from the same rows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.errors import InvalidArgument
from central.intelligence import profiles, targeting, trends


@dataclass
class Bulletin:
    month: dt.date  # its first day
    by_point: trends.Trends
    by_nationality: trends.Trends
    weeks: list[dt.date]  # the weeks that begin in the month
    grounds: dict[str, int]
    yields: list[targeting.Yield]

    @property
    def anomalies(self) -> list[trends.Anomaly]:
        return sorted([a for t in (self.by_point, self.by_nationality) for a in t.anomalies if a.week in self.weeks],
                      key=lambda a: -a.z)

    def total(self, result: trends.Trends, indicator: str, value: str) -> int:
        return sum(result.counts.get(indicator, {}).get(value, {}).get(w, 0) for w in self.weeks)

    def totals(self, result: trends.Trends, rows: int = 15) -> list[list[str]]:
        """The month's totals of every indicator, a row per value (the most crossings first), suppressed."""
        return [[value, *(result.shown(self.total(result, indicator, value)) for indicator in trends.INDICATORS)]
                for value in result.top("crossings", rows)]

    def yield_rows(self) -> list[list[str]]:
        """Each profile in force: name and version, conditions, selected, refused, admitted, flags. The counts
        are suppressed like every other cell, and a flag says what it is without its figures."""
        shown = self.by_point.shown
        return [[f"{y.profile.name} v{y.profile.version}", profiles.describe(y.profile.conditions), shown(y.selected),
                 shown(y.refused), shown(y.admitted), "; ".join(f.split(":")[0] for f in y.flags)]
                for y in self.yields]

    def chart(self, indicator: str = "refusals", lines: int = 6) -> dict[str, list[int]]:
        """Per border point (the most first), the weekly counts of the month and the eight weeks before, a
        suppressed count drawn as zero."""
        series = self.by_point.counts.get(indicator, {})
        return {value: [n if (n := series[value].get(w, 0)) >= trends.MIN_CELL else 0 for w in self.by_point.weeks]
                for value in self.by_point.top(indicator, lines)}


def parse_month(text: str) -> dt.date:
    try:
        month = dt.datetime.strptime(text.strip()[:7], "%Y-%m").date()
    except ValueError:
        raise InvalidArgument("month", f"{text[:20]!r} is not a month (YYYY-MM)") from None
    if not dt.date(2000, 1, 1) <= month <= dt.date(2099, 12, 1):
        raise InvalidArgument("month", "2000-01 to 2099-12")
    return month


def monthly(session: Session, caller: Caller, month: dt.date, today: dt.date) -> Bulletin:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    weeks = [w for w in (trends.week_of(month) + dt.timedelta(weeks=k) for k in range(6)) if month <= w < following]
    if not weeks:
        raise InvalidArgument("month", "no week begins in it")
    span = len(weeks) + 8  # the month and the eight weeks before it, for context
    by_point = trends.weekly(session, caller, "border_point", weeks[-1], span, today)
    by_nationality = trends.weekly(session, caller, "nationality", weeks[-1], span, today)
    grounds: dict[str, int] = {}
    for week in weeks:
        for ground, count in by_point.grounds.get(week, {}).items():
            grounds[ground] = grounds.get(ground, 0) + count
    result = Bulletin(month, by_point, by_nationality, weeks, grounds, targeting.yields(session))
    audit(session, caller, "Bulletin", f"monthly bulletin {month:%Y-%m}", f"{len(result.anomalies)} anomaly(ies)",
          "risk analysis")
    return result
