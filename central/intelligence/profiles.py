"""Risk profiles: an analyst's conditions over who travels how, checked for fairness and matched (pure).

Conditions (all given ones must hold):
- nationality: ICAO three-letter codes, any of them;
- route: border points, optionally with a direction ("FRA-T1" or "FRA-T1 ENTRY"), any of them;
- age_band: [youngest, oldest] in whole years on the day of travel;
- document_type: ICAO document codes ("P", "PM", "ID"), any of them;
- travel_pattern: {"min_crossings": n, "within_days": d}: at least n earlier crossings in the last d days.

A profile must select for what people do, not only for who they are: one on nationality alone (or
nationality and age) is refused with the reason, as is one with no condition at all.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

CONDITIONS = ("nationality", "route", "age_band", "document_type", "travel_pattern")
# Who someone is, as against what they do or carry.
PERSONAL = frozenset({"nationality", "age_band"})
DIRECTIONS = ("ENTRY", "EXIT")


class ProfileError(ValueError):
    """A profile that is malformed or refused; the message says which condition and why."""


@dataclass(frozen=True)
class Subject:
    """A traveller at a gate, as a profile sees them."""

    nationality: str
    birth_date: dt.date | None
    border_point: str
    direction: str
    document_type: str
    on: dt.date
    # Their earlier crossings within a number of days (looked up only when a profile asks).
    crossings_within: Callable[[int], int] = lambda days: 0

    @property
    def age(self) -> int | None:
        if self.birth_date is None:
            return None
        born = self.birth_date
        return self.on.year - born.year - ((self.on.month, self.on.day) < (born.month, born.day))


def _codes(name: str, value: Any, length: range) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > 50:
        raise ProfileError(f"{name}: a list of 1 to 50 codes is required")
    codes = []
    for item in value:
        code = str(item).strip().upper() if isinstance(item, str) else ""
        if len(code) not in length or not code.replace("<", "").isalpha():
            raise ProfileError(f"{name}: {item!r} is not a code of {length.start}-{length.stop - 1} letters")
        codes.append(code)
    return sorted(set(codes))


def _routes(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > 50:
        raise ProfileError("route: a list of 1 to 50 border points is required")
    routes = []
    for item in value:
        parts = str(item).strip().upper().split() if isinstance(item, str) else []
        if not 1 <= len(parts) <= 2 or len(parts[0]) > 32 or (len(parts) == 2 and parts[1] not in DIRECTIONS):
            raise ProfileError(f"route: {item!r} is not a border point, optionally followed by ENTRY or EXIT")
        routes.append(" ".join(parts))
    return sorted(set(routes))


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProfileError(f"{name}: a whole number from {low} to {high} is required")
    return value


def parse(raw: dict[str, Any]) -> dict[str, Any]:
    """The conditions, checked and normalised; ProfileError when malformed or unfair."""
    if not isinstance(raw, dict):
        raise ProfileError("conditions: a table of conditions is required")
    unknown = set(raw) - set(CONDITIONS)
    if unknown:
        raise ProfileError(f"{', '.join(sorted(unknown))}: not a condition (known: {', '.join(CONDITIONS)})")
    conditions: dict[str, Any] = {}
    if "nationality" in raw:
        conditions["nationality"] = _codes("nationality", raw["nationality"], range(1, 4))
    if "route" in raw:
        conditions["route"] = _routes(raw["route"])
    if "age_band" in raw:
        band = raw["age_band"]
        if not isinstance(band, list) or len(band) != 2:
            raise ProfileError("age_band: [youngest, oldest] is required")
        youngest, oldest = _whole("age_band", band[0], 0, 120), _whole("age_band", band[1], 0, 120)
        if youngest > oldest:
            raise ProfileError("age_band: the youngest age is above the oldest")
        conditions["age_band"] = [youngest, oldest]
    if "document_type" in raw:
        conditions["document_type"] = _codes("document_type", raw["document_type"], range(1, 3))
    if "travel_pattern" in raw:
        pattern = raw["travel_pattern"]
        if not isinstance(pattern, dict) or set(pattern) != {"min_crossings", "within_days"}:
            raise ProfileError("travel_pattern: {min_crossings, within_days} is required")
        conditions["travel_pattern"] = {"min_crossings": _whole("travel_pattern.min_crossings",
                                                                pattern["min_crossings"], 1, 1000),
                                        "within_days": _whole("travel_pattern.within_days",
                                                              pattern["within_days"], 1, 3660)}
    refuse_unfair(conditions)
    return conditions


def refuse_unfair(conditions: dict[str, Any]) -> None:
    if not conditions:
        raise ProfileError("a profile with no condition selects every traveller")
    if set(conditions) <= PERSONAL:
        on = " and ".join(sorted(conditions))
        raise ProfileError(f"a profile on {on} alone is refused: it selects people for who they are, not for what "
                           "they do (discrimination risk); add a route, document type or travel pattern condition")


def matches(conditions: dict[str, Any], subject: Subject) -> bool:
    if "nationality" in conditions and subject.nationality.upper() not in conditions["nationality"]:
        return False
    if "route" in conditions and not any(
            route == subject.border_point.upper() or route == f"{subject.border_point} {subject.direction}".upper()
            for route in conditions["route"]):
        return False
    if "age_band" in conditions:
        age = subject.age
        if age is None or not conditions["age_band"][0] <= age <= conditions["age_band"][1]:
            return False
    if "document_type" in conditions and subject.document_type.upper() not in conditions["document_type"]:
        return False
    if "travel_pattern" in conditions:
        pattern = conditions["travel_pattern"]
        if subject.crossings_within(pattern["within_days"]) < pattern["min_crossings"]:
            return False
    return True


def describe(conditions: dict[str, Any]) -> str:
    """The conditions in words, for lists and audit rows."""
    parts = []
    for name in CONDITIONS:
        if name not in conditions:
            continue
        value = conditions[name]
        if name == "age_band":
            parts.append(f"aged {value[0]}-{value[1]}")
        elif name == "travel_pattern":
            parts.append(f"{value['min_crossings']}+ crossings in {value['within_days']} days")
        else:
            parts.append(f"{name.replace('_', ' ')} {'/'.join(value)}")
    return "; ".join(parts)
