"""Six-character MRZ dates (YYMMDD) and the century they belong to.

Unknown parts are printed as fillers ('74<<<<' for a holder born in 1974 on an unknown
day); such a date has no calendar value and reads as None.
"""
from __future__ import annotations

from datetime import date

from drivers.mrz.checkdigit import FILLER

# An expiry date more than this many years ahead cannot be real: it is last century's.
_MAX_YEARS_AHEAD = 50


class DateFieldError(ValueError):
    pass


def read(field: str, *, kind: str, today: date) -> date | None:
    """The date printed in `field`; `kind` is 'birth' or 'expiry' and chooses the century."""
    if len(field) != 6:
        raise DateFieldError(f"{field!r} is not six characters")
    pairs = [field[i:i + 2] for i in range(0, 6, 2)]
    if any(pair not in (FILLER * 2,) and not pair.isdigit() for pair in pairs):
        raise DateFieldError(f"{field!r} is not YYMMDD")
    if FILLER in field:
        known = [pair != FILLER * 2 for pair in pairs]
        # Only trailing parts may be unknown: a day without a month makes no sense.
        if known != sorted(known, reverse=True):
            raise DateFieldError(f"{field!r} has a known part after an unknown one")
        if known[1] and not 1 <= int(pairs[1]) <= 12:
            raise DateFieldError(f"{field!r} has month {pairs[1]}")
        return None
    yy, month, day = (int(pair) for pair in pairs)
    year = _century(yy, month, day, kind=kind, today=today)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise DateFieldError(f"{field!r} is not a calendar date ({exc})") from None


def _century(yy: int, month: int, day: int, *, kind: str, today: date) -> int:
    year = 2000 + yy
    if kind == "birth":
        # The most recent past century: nobody is born in the future.
        if (year, month, day) > (today.year, today.month, today.day):
            year -= 100
    elif year > today.year + _MAX_YEARS_AHEAD:
        year -= 100
    return year


def write(value: date | None) -> str:
    return FILLER * 6 if value is None else value.strftime("%y%m%d")
