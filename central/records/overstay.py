"""Overstays: entries whose stay outlasted what was permitted.

Each ENTRY of a traveller is paired with their next recorded crossing: an
EXIT ends the stay there; another ENTRY means the exit went unrecorded (left
through a border without gates, say), and the stay is taken to end at that
re-entry rather than to run on. A stay is permitted until the latest
`valid_to` of a permitted stay (visa, residence permit) of any of the
traveller's documents that covers the entry day, else for `default_days`
counting the entry day as the first (90 days: entering on 1 January allows
staying through 31 March).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from central.database import models as m
from central.database.prepared import Prepared
from central.errors import InvalidArgument

DEFAULT_STAY_DAYS = 90


@dataclass(frozen=True)
class Stay:
    traveller_id: int
    surname: str
    given_names: str
    nationality: str
    document: str            # "DEU C01X00T47"
    border_point: str
    entry_crossing_id: str
    entered_on: dt.date
    allowed_until: dt.date
    left_on: dt.date | None  # None: still in the country (as far as recorded)
    days_over: int           # days stayed after allowed_until (0 when none)

    def as_dict(self) -> dict:
        return {"surname": self.surname, "given_names": self.given_names, "nationality": self.nationality,
                "document": self.document, "border_point": self.border_point,
                "entry_crossing_id": self.entry_crossing_id, "entered_on": self.entered_on.isoformat(),
                "allowed_until": self.allowed_until.isoformat(),
                "left_on": self.left_on.isoformat() if self.left_on else None, "days_over": self.days_over}


# Columns, not objects, in one query (session: an ORM Session or a Core Connection).
_CROSSINGS = (select(m.Crossing.traveller_id, m.Crossing.occurred_at, m.Crossing.direction, m.Crossing.crossing_id,
                     m.Traveller.surname, m.Traveller.given_names, m.Traveller.nationality,
                     m.TravelDocument.issuing_state, m.TravelDocument.number_norm, m.BorderPoint.code)
              .join(m.Traveller, m.Crossing.traveller_id == m.Traveller.id)
              .join(m.TravelDocument, m.Crossing.document_id == m.TravelDocument.id)
              .join(m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id)
              .order_by(m.Crossing.traveller_id, m.Crossing.occurred_at, m.Crossing.id))
# The risk rule's two questions at every crossing of a known traveller: run on the driver (central.database.prepared).
_ONE_TRAVELLERS_BEFORE = Prepared(_CROSSINGS.where(m.Crossing.traveller_id == bindparam("traveller_id"),
                                                   m.Crossing.occurred_at < bindparam("before")))
_PERMITS = (select(m.TravelDocument.traveller_id, m.PermittedStay.valid_from, m.PermittedStay.valid_to)
            .join(m.PermittedStay, (m.PermittedStay.issuing_state == m.TravelDocument.issuing_state)
                  & (m.PermittedStay.number_norm == m.TravelDocument.number_norm)))
_ONE_TRAVELLERS_PERMITS = Prepared(_PERMITS.where(m.TravelDocument.traveller_id == bindparam("traveller_id")))


def _day(instant: dt.datetime) -> dt.date:
    return (instant if instant.tzinfo is None else instant.astimezone(dt.timezone.utc)).date()


def stays(session: Session, today: dt.date, default_days: int = DEFAULT_STAY_DAYS,
          traveller_id: int | None = None, before: dt.datetime | None = None) -> list[Stay]:
    """Every stay (entry and what ended it), optionally of one traveller and from crossings before `before`.

    Open stays are measured up to `today`.
    """
    if default_days < 1:
        raise InvalidArgument("default_stay_days", "must be at least 1")
    if traveller_id is not None and before is not None:  # the risk rule's question, at every crossing
        crossings = _ONE_TRAVELLERS_BEFORE.rows(session, {"traveller_id": traveller_id, "before": before})
    else:
        query = _CROSSINGS
        if traveller_id is not None:
            query = query.where(m.Crossing.traveller_id == traveller_id)
        if before is not None:
            query = query.where(m.Crossing.occurred_at < before)
        crossings = session.execute(query).all()
    permits = _permits(session, {c.traveller_id for c in crossings})
    result = []
    for index, crossing in enumerate(crossings):
        if crossing.direction is not m.Direction.ENTRY:
            continue
        following = crossings[index + 1] if index + 1 < len(crossings) else None
        if following is not None and following.traveller_id != crossing.traveller_id:
            following = None
        entered = _day(crossing.occurred_at)
        covering = [to for frm, to in permits.get(crossing.traveller_id, ()) if frm <= entered <= to]
        allowed = max(covering) if covering else entered + dt.timedelta(days=default_days - 1)
        left = _day(following.occurred_at) if following is not None else None
        over = max(0, ((left or today) - allowed).days)
        result.append(Stay(crossing.traveller_id, crossing.surname, crossing.given_names, crossing.nationality,
                           f"{crossing.issuing_state} {crossing.number_norm}", crossing.code,
                           crossing.crossing_id, entered, allowed, left, over))
    return result


def _permits(session: Session, traveller_ids: set[int]) -> dict[int, list[tuple[dt.date, dt.date]]]:
    if not traveller_ids:
        return {}
    if len(traveller_ids) == 1:
        rows = _ONE_TRAVELLERS_PERMITS.rows(session, {"traveller_id": next(iter(traveller_ids))})
    else:
        rows = session.execute(_PERMITS.where(m.TravelDocument.traveller_id.in_(traveller_ids)))
    permits: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for traveller, valid_from, valid_to in rows:
        permits.setdefault(traveller, []).append((valid_from, valid_to))
    return permits


def overstays(session: Session, today: dt.date, default_days: int = DEFAULT_STAY_DAYS,
              include_exited: bool = False) -> list[Stay]:
    """Travellers still in the country after their permitted stay (and, optionally, those who left late)."""
    return [s for s in stays(session, today, default_days)
            if s.days_over > 0 and (include_exited or s.left_on is None)]


def add_permitted_stay(session: Session, issuing_state: str, number: str, valid_from: dt.date,
                       valid_to: dt.date, reference: str = "") -> m.PermittedStay:
    from drivers.alertmatch.normalize import document_number, state_code

    norm, state = document_number(number), state_code(issuing_state)
    if not norm:
        raise InvalidArgument("number", "is required")
    if not state:
        raise InvalidArgument("state", "is required")
    if valid_to < valid_from:
        raise InvalidArgument("valid_to", "is before valid_from")
    stay = m.PermittedStay(issuing_state=state, number_norm=norm, valid_from=valid_from, valid_to=valid_to,
                           reference=reference[:64])
    session.add(stay)
    session.flush()
    return stay
