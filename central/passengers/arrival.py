"""What the gate would find when a screened passenger enters: the risk profiles that select them and
whether the 90/180 rule leaves them a day, for a whole flight in a few queries.

Only arriving passengers are judged (PAXLST passengers, PNR travellers): crew and persons in
transit do not enter through the gates the profiles and the stay rule are for.

Profiles are matched as the gate matches them (central.intelligence.profiles, over the active
profiles), on the flight's day, entering at the arrival airport's border points: a border point coded
like the airport ("FRA") or one of its terminals ("FRA-T1"); a profile selects when it would at any of
them. A profile with a route condition selects nobody on a flight whose airport is no border point
(it is about a route the flight is not on). Nothing is recorded as a profile's selection: a profile's
yield counts gate crossings (central.intelligence.targeting), and this is not one.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select

from central.database import models as m
from central.intelligence import profiles
from central.intelligence.targeting import active_profiles
from central.records import stays
from central.stays.regime import Allowance, StayRules
from central.stays.rule import StayError
from drivers.alertmatch.normalize import document_number, name_key

ARRIVING = frozenset({"passenger", "pnr_traveller"})


@dataclass(frozen=True)
class Arriving:
    """A passenger as the gate would read them: identity and their first document."""

    surname: str
    given_names: str
    birth_date: dt.date | None
    nationality: str
    document_type: str
    issuing_state: str
    number: str


def checks(session, stay_rules: StayRules, people: list[Arriving], day: dt.date,
           airport: str) -> list[list[str]]:
    """Per person, the CHECK reasons: "profile NAME vN" for each profile that selects them, and the stay
    refused on `day` ("stay: no day left on DAY: ground F: ...")."""
    if not people:
        return []
    numbers = [document_number(p.number) for p in people]
    travellers = stays.holders(session, [
        stays.StayQuestion(p.issuing_state, n, p.document_type, name_key(p.surname, p.given_names), p.birth_date,
                           p.nationality) for p, n in zip(people, numbers)])
    selected = _selected(session, people, travellers, day, airport)
    allowed = stays.authorised_many(session, stay_rules, [
        stays.Entrant(t, p.nationality, p.issuing_state, n, p.document_type)
        for p, t, n in zip(people, travellers, numbers)], day)
    return [names + _stay(found, day) for names, found in zip(selected, allowed)]


def _stay(found: Allowance | StayError, day: dt.date) -> list[str]:
    if isinstance(found, StayError):
        return [f"stay: the recorded stays cannot be judged: {found}"]
    return [f"stay: no day left on {day.isoformat()}: ground {found.refused}"] if found.refused else []


def _selected(session, people: list[Arriving], travellers: list[int | None], day: dt.date,
              airport: str) -> list[list[str]]:
    active = active_profiles(session)
    points = _border_points(session, airport)
    if not points:
        active = [p for p in active if "route" not in p.conditions]
    if not active:
        return [[] for _ in people]
    arrival = dt.datetime.combine(day, dt.time(12), dt.timezone.utc)
    crossed = _crossings(session, travellers, arrival, active)
    result = []
    for person, traveller in zip(people, travellers):
        times = crossed.get(traveller, [])

        def within(days: int, times=times) -> int:
            return sum(t >= arrival - dt.timedelta(days) for t in times)
        subjects = [profiles.Subject(person.nationality, person.birth_date, point, "ENTRY",
                                     person.document_type.upper()[:2], day, within) for point in points or [""]]
        result.append([f"profile {p.name} v{p.version}" for p in active
                       if any(profiles.matches(p.conditions, s) for s in subjects)])
    return result


def _border_points(session, airport: str) -> list[str]:
    """The border points of the airport: its own code, or its terminals' ("FRA-T1")."""
    airport = airport.strip().upper()
    if not airport:
        return []
    return sorted(session.scalars(select(m.BorderPoint.code).where(or_(
        m.BorderPoint.code == airport, m.BorderPoint.code.like(f"{airport}-%")))))


def _crossings(session, travellers: list[int | None], arrival: dt.datetime,
               active: list[m.RiskProfile]) -> dict[int, list[dt.datetime]]:
    """The earlier crossings of the travellers, as far back as a travel pattern looks (none when no profile does)."""
    days = max((p.conditions["travel_pattern"]["within_days"] for p in active if "travel_pattern" in p.conditions),
               default=0)
    ids = sorted({t for t in travellers if t is not None})
    found: dict[int, list[dt.datetime]] = defaultdict(list)
    for start in range(0, len(ids) if days else 0, 500):
        for traveller, at in session.execute(
                select(m.Crossing.traveller_id, m.Crossing.occurred_at)
                .where(m.Crossing.traveller_id.in_(ids[start:start + 500]),
                       m.Crossing.occurred_at >= arrival - dt.timedelta(days), m.Crossing.occurred_at < arrival)):
            # SQLite hands instants back naive (stored as UTC).
            found[traveller].append(at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc))
    return found
