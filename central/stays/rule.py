"""The short-stay rule of the Schengen area: at most 90 days of stay in any 180-day period.

The Schengen Borders Code (Regulation (EU) 2016/399, Article 6(1), worded so since Regulation (EU)
No 610/2013) looks back from each day of a stay over the 180 days ending on it, and counts the day of
entry and the day of exit both as days of stay. So here: on every day t of a stay, the stay days within
[t-179, t] may total at most 90.

The work is on intervals of day numbers (date ordinals), never on one day after another over years:
`days_used` and `latest_exit` look at no more than the 180 days before the date checked and the 90 after
it; `overstay_days` follows the window count as a line that bends only where a stay begins or ends, or
did so 180 days before.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

MAX_DAYS = 90
WINDOW_DAYS = 180
# What the rule accepts, so that absurd input ends in a clear StayError rather than in surprising
# arithmetic: a lifetime of short trips fits in the stays, a century either way of today in the dates.
MAX_STAYS = 1000
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
_NEVER = dt.date.max.toordinal() + 1


class StayError(ValueError):
    """Stays the rule cannot judge; the message says why, for whoever supplied them."""


@dataclass(frozen=True)
class Stay:
    entry: dt.date
    exit: dt.date | None = None  # None: still inside, so the stay runs through the date checked


@dataclass(frozen=True)
class Authorisation:
    days_used: int                  # stay days within [on-179, on]; `on` itself only when a stay covers it
    latest_exit: dt.date | None     # the last day of an unbroken stay from `on` that keeps to the rule
    days_remaining: int             # (latest_exit - on) + 1, or 0 when not even `on` is allowed
    overstay_days: int              # recorded stay days that had more than 90 stay days in their window

    def as_dict(self) -> dict:
        return {"days_used": self.days_used,
                "latest_exit": self.latest_exit.isoformat() if self.latest_exit else None,
                "days_remaining": self.days_remaining, "overstay_days": self.overstay_days}


def authorise(stays: Sequence[Stay], on: dt.date) -> Authorisation:
    """What the rule allows on `on`, given the traveller's stays up to it, oldest first.

    Raises StayError for stays that cannot be a traveller's record on `on`: more than MAX_STAYS, a
    date outside FIRST_DAY..LAST_DAY, an exit before its entry, a stay beginning or ending after `on`,
    stays out of order or sharing a day, an open stay that is not the last.
    """
    intervals = _intervals(stays, on)
    today = on.toordinal()
    # The 179 days before `on`, a byte a day: all that days_used and latest_exit need of the past.
    before = _marks(intervals, today - (WINDOW_DAYS - 1), today - 1)
    covered = bool(intervals) and intervals[-1][1] == today
    days_used = sum(before) + covered
    latest = _latest_exit(before)
    return Authorisation(days_used=days_used,
                         latest_exit=None if latest is None else dt.date.fromordinal(today + latest),
                         days_remaining=0 if latest is None else latest + 1,
                         overstay_days=_overstay_days(intervals))


def _intervals(stays: Sequence[Stay], on: dt.date) -> list[tuple[int, int]]:
    """The stays as (first day, last day) ordinals, checked; an open stay ends on `on`."""
    if not FIRST_DAY <= on <= LAST_DAY:
        raise StayError(f"on {on.isoformat()} is outside {FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}")
    if len(stays) > MAX_STAYS:
        raise StayError(f"{len(stays)} stays, more than the {MAX_STAYS} accepted")
    intervals: list[tuple[int, int]] = []
    for number, stay in enumerate(stays, 1):
        if stay.entry < FIRST_DAY:
            raise StayError(f"stay {number} begins before {FIRST_DAY.isoformat()}")
        if stay.entry > on:
            raise StayError(f"stay {number} begins after on ({stay.entry.isoformat()} > {on.isoformat()})")
        if stay.exit is None and number != len(stays):
            raise StayError(f"stay {number} has no exit but is not the last stay")
        exit_ = on if stay.exit is None else stay.exit
        if exit_ < stay.entry:
            raise StayError(f"stay {number} exits before it enters ({exit_.isoformat()} < {stay.entry.isoformat()})")
        if exit_ > on:
            raise StayError(f"stay {number} ends after on ({exit_.isoformat()} > {on.isoformat()})")
        first, last = stay.entry.toordinal(), exit_.toordinal()
        if intervals and first <= intervals[-1][1]:
            if first < intervals[-1][0]:
                raise StayError(f"stays are not oldest first: stay {number} begins before stay {number - 1}")
            # Leaving and coming back on one day is one day of stay: the record should say so as one stay.
            raise StayError(f"stay {number} overlaps stay {number - 1}: it begins on or before that stay's exit")
        intervals.append((first, last))
    return intervals


def _marks(intervals: list[tuple[int, int]], first: int, last: int) -> bytearray:
    """A byte per day of [first, last]: 1 where a stay covers it."""
    marks = bytearray(last - first + 1)
    for start, end in intervals[bisect_left(intervals, first, key=lambda interval: interval[1]):]:
        if start > last:
            break
        low, high = max(start, first), min(end, last)
        marks[low - first:high - first + 1] = b"\x01" * (high - low + 1)
    return marks


def _latest_exit(before: bytearray) -> int | None:
    """How many days after `on` an unbroken stay from `on` may last, or None when `on` itself is too many.

    On day on+k the window holds the stay days of before[k:] and the k+1 days from `on`; each day on, the
    window gains a day of stay and loses before[k]. Since it holds at least k+1 days, k stops below 90.
    """
    count = sum(before) + 1
    if count > MAX_DAYS:
        return None
    k = 0
    while count + 1 - before[k] <= MAX_DAYS:
        count += 1 - before[k]
        k += 1
    return k


def _overstay_days(intervals: list[tuple[int, int]]) -> int:
    """How many stay days t had more than MAX_DAYS stay days within [t-179, t].

    The window count moves by in(t) - in(t-180) a day. in(t) changes only at a stay's bounds (its first
    day, the day after its last), in(t-180) only 180 days after them, and both sequences of bounds are
    already in order: walking them together, the count is a straight line from one bound to the next,
    and on a stay day its slope is 1 - in(t-180), 0 or 1.
    """
    if not intervals:
        return 0
    bounds = [day for first, last in intervals for day in (first, last + 1)]
    ends = len(bounds)
    # Each sequence closed by a day no walk reaches, so that the walk needs no test of its length.
    ahead_days, behind_days = bounds + [_NEVER], [day + WINDOW_DAYS for day in bounds] + [_NEVER]
    ahead = behind = 0  # how many bounds of in(t) and of in(t-180) lie at or before `day`: odd means inside
    count = over = 0    # count: the window's total on the day before `day`
    day = bounds[0]
    while True:
        while ahead_days[ahead] == day:  # twice when a stay ends the day before the next begins
            ahead += 1
        while behind_days[behind] == day:
            behind += 1
        if ahead == ends:
            return over
        following = min(ahead_days[ahead], behind_days[behind])
        slope = (ahead & 1) - (behind & 1)
        if ahead & 1:
            if slope == 1:  # the k-th day of the run (k = 1..following - day) holds count + k days
                over += max(0, following - day - max(0, MAX_DAYS - count))
            elif count > MAX_DAYS:
                over += following - day
        count += slope * (following - day)
        day = following
