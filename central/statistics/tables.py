"""Crossing statistics for policy: counts by any dimensions and period, small cells suppressed.

The counts come from the crossings still stored plus the daily aggregates
that purging leaves behind (central.access.retention), so figures do not change
when personal data is deleted.

Disclosure control. A published table holds its cells, one total per period
and the grand total. A cell counting 1..k-1 travellers (k = 5) is shown as
"<5" (primary suppression). A period total minus the cells shown would give
a lone suppressed cell back, so in every period with suppressed cells the
smallest shown cells are suppressed too until at least two are and together
they count at least k (secondary suppression); then neither their values nor
their split can be worked out. Period totals are treated the same way against
the grand total, a hidden period total hides all its cells, and a grand total
under k is shown as "<5" too.

Not covered: differencing two tables of different breakdowns (by nationality,
then by nationality and sex); analysts are trusted not to, and every query is
audited.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from itertools import groupby
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.database import models as m
from central.errors import InvalidArgument

DIMENSIONS = ("nationality", "sex", "age_band", "border_point", "direction", "document_type", "decision")
PERIODS = ("day", "week", "month")
AGE_BANDS = ((0, 17, "0-17"), (18, 29, "18-29"), (30, 44, "30-44"), (45, 64, "45-64"), (65, 200, "65+"))
UNKNOWN_AGE = "unknown"
MIN_CELL = 5


def age_band(birth_date: dt.date | None, on: dt.date) -> str:
    """The age band of a person born on birth_date, on the given day (a birthday counts from that day)."""
    if birth_date is None or birth_date > on:
        return UNKNOWN_AGE
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


def period_of(day: dt.date, period: str) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


@dataclass(frozen=True)
class Fact:
    """One crossing (or one aggregate row standing for `count` purged ones) in statistical terms."""

    day: dt.date
    nationality: str
    sex: str
    age_band: str
    border_point: str
    direction: str
    document_type: str
    decision: str
    count: int = 1


def crossing_facts(session: Session, start: dt.date, end: dt.date) -> Iterable[Fact]:
    """Facts of the stored crossings whose UTC day is within start..end, then of the aggregates."""
    since = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
    within = [m.Crossing.occurred_at >= since]
    # The last representable day has no day after it to bound by (and nothing can lie beyond it).
    if end < dt.date.max:
        within.append(m.Crossing.occurred_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(),
                                                                   dt.timezone.utc))
    yield from facts_where(session, *within)
    for a in session.scalars(select(m.CrossingAggregate).where(
            m.CrossingAggregate.day >= start, m.CrossingAggregate.day <= end)):
        yield Fact(a.day, a.nationality, a.sex, a.age_band, a.border_point, a.direction, a.document_type,
                   a.decision, a.count)


def facts_where(session: Session, *conditions) -> Iterable[Fact]:
    """One Fact per stored crossing meeting the conditions."""
    rows = session.execute(
        select(m.Crossing.id, m.Crossing.occurred_at, m.Crossing.direction, m.Crossing.decision,
               m.Traveller.nationality, m.Traveller.sex, m.Traveller.birth_date, m.BorderPoint.code,
               m.TravelDocument.doc_type, m.Referral.status)
        .join(m.Traveller, m.Crossing.traveller_id == m.Traveller.id)
        .join(m.TravelDocument, m.Crossing.document_id == m.TravelDocument.id)
        .join(m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id)
        .outerjoin(m.Referral, m.Referral.crossing_id == m.Crossing.id)
        .where(*conditions)
        .order_by(m.Crossing.id))
    # One row per referral of a crossing (or one without): gather a crossing's rows, then decide.
    for _, group in groupby(rows, key=lambda row: row[0]):
        group = list(group)
        _, occurred_at, direction, decision, nationality, sex, birth_date, point, doc_type, _ = group[0]
        day = _utc(occurred_at).date()
        yield Fact(day, nationality or "", sex or "", age_band(birth_date, day), point, direction.value,
                   doc_type or "", outcome(decision, [row[-1] for row in group if row[-1] is not None]))


def outcome(decision: m.GateDecision, referrals: list[m.ReferralStatus]) -> str:
    """The `decision` dimension: OPEN (the gate opened), or for a referred crossing the officers'
    outcome: REFUSED if any referral refused, else ADMITTED, else PENDING (open or escalated),
    or REFER when no referral was opened."""
    if decision is m.GateDecision.OPEN:
        return "OPEN"
    for status, label in ((m.ReferralStatus.REFUSED, "REFUSED"), (m.ReferralStatus.ADMITTED, "ADMITTED")):
        if status in referrals:
            return label
    return "PENDING" if referrals else "REFER"


def _utc(instant: dt.datetime) -> dt.datetime:
    # SQLite hands instants back naive (stored as UTC).
    return instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant.astimezone(dt.timezone.utc)


@dataclass
class Cell:
    period: str
    values: tuple[str, ...]
    count: int
    suppressed: bool = False

    @property
    def shown(self) -> str:
        return f"<{MIN_CELL}" if self.suppressed else str(self.count)


@dataclass
class Table:
    by: tuple[str, ...]
    period: str
    start: dt.date
    end: dt.date
    cells: list[Cell]
    period_totals: list[Cell]  # values=() ; one per period
    total: int
    threshold: int = MIN_CELL

    @property
    def total_suppressed(self) -> bool:
        # All cells and period totals may be hidden; then a small grand total would tell.
        return 0 < self.total < self.threshold

    @property
    def total_shown(self) -> str:
        return f"<{self.threshold}" if self.total_suppressed else str(self.total)

    def as_dict(self) -> dict:
        return {"by": list(self.by), "period": self.period, "from": self.start.isoformat(),
                "to": self.end.isoformat(), "threshold": self.threshold,
                "total": None if self.total_suppressed else self.total, "total_shown": self.total_shown,
                "cells": [{"period": c.period, **dict(zip(self.by, c.values)),
                           "count": None if c.suppressed else c.count, "shown": c.shown} for c in self.cells],
                "period_totals": [{"period": c.period, "count": None if c.suppressed else c.count,
                                   "shown": c.shown} for c in self.period_totals]}

    def csv(self) -> str:
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["period", *self.by, "count"])
        for cell in self.cells:
            writer.writerow([cell.period, *cell.values, cell.shown])
        for cell in self.period_totals:
            writer.writerow([cell.period, *(["TOTAL"] * len(self.by)), cell.shown])
        writer.writerow(["ALL", *(["TOTAL"] * len(self.by)), self.total_shown])
        return out.getvalue()

    def text(self) -> str:
        header = ["period", *self.by, "count"]
        rows = [[c.period, *c.values, c.shown] for c in self.cells]
        rows += [[c.period, *(["total"] * len(self.by)), c.shown] for c in self.period_totals]
        rows.append(["all", *(["total"] * len(self.by)), self.total_shown])
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in [header, *rows]]
        return "\n".join([*lines, f"(cells under {self.threshold} shown as <{self.threshold}, "
                                  f"and enough others that they cannot be worked out from the totals)"])


def parse_request(by: Iterable[str], period: str, start: str, end: str) -> tuple[tuple[str, ...], str,
                                                                                   dt.date, dt.date]:
    dims = tuple(d.strip() for d in by if d.strip())
    for name in dims:
        if name not in DIMENSIONS:
            raise InvalidArgument("by", f"{name!r} is not one of {', '.join(DIMENSIONS)}")
    if len(set(dims)) != len(dims):
        raise InvalidArgument("by", "names a dimension twice")
    if period not in PERIODS:
        raise InvalidArgument("period", f"{period!r} is not one of {', '.join(PERIODS)}")
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        raise InvalidArgument("from/to", "dates as YYYY-MM-DD are required") from None
    if last < first:
        raise InvalidArgument("to", "is before from")
    return dims, period, first, last


def tabulate(facts: Iterable[Fact], by: tuple[str, ...], period: str, start: dt.date, end: dt.date,
             threshold: int = MIN_CELL) -> Table:
    counts: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for fact in facts:
        counts[(period_of(fact.day, period), tuple(getattr(fact, d) for d in by))] += fact.count
    cells = [Cell(p, values, n) for (p, values), n in sorted(counts.items())]
    totals: Counter[str] = Counter()
    for cell in cells:
        totals[cell.period] += cell.count
    period_totals = [Cell(p, (), n) for p, n in sorted(totals.items())]
    for group in _groups(cells):
        suppress(group, threshold)
    suppress(period_totals, threshold)
    hidden_periods = {t.period for t in period_totals if t.suppressed}
    for cell in cells:  # else a hidden period total would be the sum of its cells shown
        cell.suppressed = cell.suppressed or cell.period in hidden_periods
    return Table(by, period, start, end, cells, period_totals, sum(totals.values()), threshold)


def _groups(cells: list[Cell]) -> list[list[Cell]]:
    groups: dict[str, list[Cell]] = {}
    for cell in cells:
        groups.setdefault(cell.period, []).append(cell)
    return list(groups.values())


def suppress(cells: list[Cell], threshold: int = MIN_CELL) -> None:
    """Suppress the cells under `threshold`, then more until their sum cannot be told apart (see module doc).

    `cells` add up to a published total.
    """
    for cell in cells:
        cell.suppressed = 0 < cell.count < threshold
    hidden = [c for c in cells if c.suppressed]
    if not hidden:
        return
    shown = sorted((c for c in cells if not c.suppressed), key=lambda c: (c.count, c.values))
    while shown and (len(hidden) < 2 or sum(c.count for c in hidden) < threshold):
        cell = shown.pop(0)
        cell.suppressed = True
        hidden.append(cell)


def statistics(session: Session, by: tuple[str, ...], period: str, start: dt.date, end: dt.date) -> Table:
    return tabulate(crossing_facts(session, start, end), by, period, start, end)


# ---------------------------------------------------------------- overstays

OVERSTAY_DIMENSIONS = ("nationality", "border_point")


@dataclass(frozen=True)
class OverstayFact:
    """One stay that went past its last authorised day, dated the first day over; where it entered."""

    day: dt.date
    nationality: str
    border_point: str
    count: int = 1


def overstay_facts(session: Session, start: dt.date, end: dt.date, today: dt.date) -> Iterable[OverstayFact]:
    """The stays (central.records.stays) whose first day over falls within start..end: exits that were late,
    and stays still open past their last authorised day on `today`. Purged stays are not counted."""
    first_over_by = min(end, today)
    if start > first_over_by:
        return
    rows = session.execute(
        select(m.StayRecord.allowed_until, m.StayRecord.nationality, m.BorderPoint.code)
        .join(m.BorderPoint, m.StayRecord.border_point_id == m.BorderPoint.id)
        .where(m.StayRecord.allowed_until >= start - dt.timedelta(days=1),
               m.StayRecord.allowed_until < first_over_by,
               (m.StayRecord.overstay_days > 0) | m.StayRecord.exit_day.is_(None))
        .order_by(m.StayRecord.id))
    for allowed_until, nationality, point in rows:
        yield OverstayFact(allowed_until + dt.timedelta(days=1), nationality or "", point)


def parse_overstay_dimensions(by: Iterable[str]) -> tuple[str, ...]:
    dims = tuple(d.strip() for d in by if d.strip())
    for name in dims:
        if name not in OVERSTAY_DIMENSIONS:
            raise InvalidArgument("by", f"overstays break down by {' and '.join(OVERSTAY_DIMENSIONS)}, not {name!r}")
    if len(set(dims)) != len(dims):
        raise InvalidArgument("by", "names a dimension twice")
    return dims


def overstay_statistics(session: Session, by: tuple[str, ...], period: str, start: dt.date, end: dt.date,
                        today: dt.date | None = None) -> Table:
    """Overstays counted like crossings (the same suppression), by nationality and border point of entry."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    return tabulate(overstay_facts(session, start, end, today), parse_overstay_dimensions(by), period, start, end)


def plot_png(table: Table) -> bytes:
    """A bar chart (one group of bars per period, one colour per cell) as PNG; suppressed bars are grey, empty."""
    import cv2
    import numpy as np

    series = sorted({c.values for c in table.cells})
    periods = [t.period for t in table.period_totals]
    width, height, left, bottom, top = 1000, 560, 70, 90, 40
    legend_rows = min(len(series), 12)
    image = np.full((height + 18 * legend_rows, width, 3), 255, np.uint8)
    peak = max([c.count for c in table.cells if not c.suppressed] + [table.threshold])
    plot_w, plot_h = width - left - 20, height - bottom - top
    slot = plot_w / max(len(periods), 1)
    bar = max(2.0, slot * 0.8 / max(len(series), 1))
    palette = [(180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148), (75, 86, 140),
               (194, 119, 227), (127, 127, 127), (34, 189, 188), (207, 190, 23)]
    index = {(c.period, c.values): c for c in table.cells}
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.line(image, (left, top), (left, top + plot_h), (0, 0, 0), 1)
    cv2.line(image, (left, top + plot_h), (left + plot_w, top + plot_h), (0, 0, 0), 1)
    for tick in range(5):
        value = peak * tick / 4
        y = int(top + plot_h - plot_h * tick / 4)
        cv2.putText(image, f"{value:.0f}", (5, y + 4), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for p_index, period_label in enumerate(periods):
        x0 = left + p_index * slot + slot * 0.1
        for s_index, values in enumerate(series):
            cell = index.get((period_label, values))
            if cell is None:
                continue
            x = int(x0 + s_index * bar)
            if cell.suppressed:  # a stub at the axis: there is something, its size is withheld
                cv2.rectangle(image, (x, top + plot_h - 4), (int(x + bar) - 1, top + plot_h), (190, 190, 190), -1)
                continue
            y = int(top + plot_h - plot_h * cell.count / peak)
            cv2.rectangle(image, (x, y), (int(x + bar) - 1, top + plot_h), palette[s_index % len(palette)], -1)
        cv2.putText(image, period_label, (int(x0), top + plot_h + 18), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    title = (f"crossings by {', '.join(table.by) or 'period'} per {table.period}, "
             f"{table.start.isoformat()}..{table.end.isoformat()} (grey: fewer than {table.threshold})")
    cv2.putText(image, title, (left, 25), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for s_index, values in enumerate(series[:legend_rows]):
        y = height + 18 * s_index
        cv2.rectangle(image, (left, y - 10), (left + 12, y), palette[s_index % len(palette)], -1)
        cv2.putText(image, " / ".join(values) or "all", (left + 20, y), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError("OpenCV could not encode the chart as PNG")
    return png.tobytes()
