"""EDIFACT dates and times (DTM formats 101, 102, 201, 203, 204; PNRGOV's DDMMYY and HHMM) to ISO 8601.

Two-digit years: a birth date is in the past (a year after this one's two digits is in the last
century); any other date (expiry, issue, flight) is taken as 20YY.
"""
from __future__ import annotations

import datetime as dt

_LENGTHS = {"101": 6, "102": 8, "201": 10, "203": 12, "204": 14}


def _year(yy: int, birth: bool, today: dt.date) -> int:
    return (1900 if birth and yy > today.year % 100 else 2000) + yy


def dtm(value: str, format_code: str = "", *, birth: bool = False, today: dt.date | None = None) -> str:
    """An ISO date or date-time for a DTM value; raises ValueError when it cannot be one."""
    today = today or dt.date.today()
    value = value.strip()
    if not value.isdigit():
        raise ValueError(f"{value!r} is not a date")
    if format_code and format_code in _LENGTHS and len(value) != _LENGTHS[format_code]:
        raise ValueError(f"{value!r} does not have the {_LENGTHS[format_code]} digits of format {format_code}")
    if len(value) in (6, 10):  # YYMMDD[HHMM]
        year, rest = _year(int(value[:2]), birth, today), value[2:]
    elif len(value) in (8, 12, 14):  # CCYYMMDD[HHMM[SS]]
        year, rest = int(value[:4]), value[4:]
    else:
        raise ValueError(f"{value!r} is not a date of a known format")
    day = dt.date(year, int(rest[:2]), int(rest[2:4]))
    if len(rest) == 4:
        return day.isoformat()
    return dt.datetime(year, day.month, day.day, int(rest[4:6]), int(rest[6:8])).isoformat(timespec="minutes")


def ddmmyy(value: str, time: str = "", *, birth: bool = False, today: dt.date | None = None) -> str:
    """PNRGOV's DDMMYY (and an optional HHMM) to ISO; raises ValueError when it cannot be one."""
    today = today or dt.date.today()
    value, time = value.strip(), time.strip()
    if len(value) != 6 or not value.isdigit():
        raise ValueError(f"{value!r} is not DDMMYY")
    day = dt.date(_year(int(value[4:]), birth, today), int(value[2:4]), int(value[:2]))
    if not time:
        return day.isoformat()
    if len(time) != 4 or not time.isdigit():
        raise ValueError(f"{time!r} is not HHMM")
    return dt.datetime(day.year, day.month, day.day, int(time[:2]), int(time[2:])).isoformat(timespec="minutes")


_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}


def ddmmmyy(value: str, *, birth: bool = False, today: dt.date | None = None) -> str:
    """An SSR date such as 12JUL64 to ISO; raises ValueError when it cannot be one."""
    today = today or dt.date.today()
    value = value.strip().upper()
    if len(value) != 7 or value[2:5] not in _MONTHS or not (value[:2] + value[5:]).isdigit():
        raise ValueError(f"{value!r} is not DDMMMYY")
    return dt.date(_year(int(value[5:]), birth, today), _MONTHS[value[2:5]], int(value[:2])).isoformat()
