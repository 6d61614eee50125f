"""Overstays, read from the `stays` table (central.records.stays) rather than worked out from crossings,
and overstay alerts; and the visas and permits that the stays are judged by.

An overstayer is a traveller whose open stay's `allowed_until` is before the day asked about (still
inside, as far as recorded), or, when asked, one whose exit came after it (the stay's overstay_days).
The day after an authorised stay ends without an exit an overstay alert is raised: the stay's
`alerted_on` is set (once) by `raise_alerts`, which `limes central overstay-alerts` runs (daily, from
cron or a timer: see docs/STAYS.md); supervisors see raised alerts in ListOverstays and the command.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, aliased

from central.database import models as m
from central.errors import InvalidArgument


@dataclass(frozen=True)
class Overstay:
    stay_id: uuid.UUID
    surname: str
    given_names: str
    nationality: str
    document: str            # "DEU C01X00T47", the entry's document; "" when its crossing was purged
    border_point: str
    entry_crossing_id: str
    entered_on: dt.date
    allowed_until: dt.date
    left_on: dt.date | None  # None: still in the country (as far as recorded)
    days_over: int           # days stayed after allowed_until, to the day asked about while still in
    alerted_on: dt.date | None

    def as_dict(self) -> dict:
        return {"surname": self.surname, "given_names": self.given_names, "nationality": self.nationality,
                "document": self.document, "border_point": self.border_point,
                "entry_crossing_id": self.entry_crossing_id, "entered_on": self.entered_on.isoformat(),
                "allowed_until": self.allowed_until.isoformat(),
                "left_on": self.left_on.isoformat() if self.left_on else None, "days_over": self.days_over,
                "alerted_on": self.alerted_on.isoformat() if self.alerted_on else None}


R, T, B, C, D = m.StayRecord, m.Traveller, m.BorderPoint, m.Crossing, m.TravelDocument
_ENTRY = aliased(C)
_LISTING = (select(R.id, R.entry_day, R.exit_day, R.allowed_until, R.overstay_days, R.alerted_on,
                   T.surname, T.given_names, T.nationality, B.code, _ENTRY.crossing_id, D.issuing_state,
                   D.number_norm)
            .join(T, R.traveller_id == T.id).join(B, R.border_point_id == B.id)
            .outerjoin(_ENTRY, R.entry_crossing_id == _ENTRY.id).outerjoin(D, _ENTRY.document_id == D.id)
            .order_by(R.allowed_until, R.id))
# Still inside after the last authorised day: the open stays the `allowed_until` index finds.
_INSIDE_TOO_LONG = and_(R.exit_day.is_(None), R.allowed_until < bindparam("on"))


def overstays(session: Session, on: dt.date, include_exited: bool = False) -> list[Overstay]:
    """Travellers still in the country on `on` after their authorised stay (and, optionally, those who left late)."""
    condition = or_(_INSIDE_TOO_LONG, R.overstay_days > 0) if include_exited else _INSIDE_TOO_LONG
    rows = session.execute(_LISTING.where(condition), {"on": on}).all()
    return [Overstay(r.id, r.surname, r.given_names, r.nationality,
                     f"{r.issuing_state} {r.number_norm}" if r.issuing_state else "", r.code, r.crossing_id or "",
                     r.entry_day, r.allowed_until, r.exit_day,
                     r.overstay_days if r.exit_day is not None else (on - r.allowed_until).days, r.alerted_on)
            for r in rows]


def raise_alerts(session: Session, on: dt.date) -> list[Overstay]:
    """Raise an overstay alert, on `on`, for every open stay whose authorised stay ended before it and
    has none yet; the stays alerted now. Running it again the same day (or later) raises no second alert."""
    due = [o for o in overstays(session, on) if o.alerted_on is None]
    if due:
        session.execute(update(R).where(R.id.in_([o.stay_id for o in due])).values(alerted_on=on),
                        execution_options={"synchronize_session": False})
        overstayers = select(R.traveller_id).where(R.id.in_([o.stay_id for o in due]))
        session.execute(update(m.TravellerFile).where(m.TravellerFile.traveller_id.in_(overstayers))
                        .values(overstay=True), execution_options={"synchronize_session": False})
    return [Overstay(**{**o.__dict__, "alerted_on": on}) for o in due]


def add_permitted_stay(session: Session, issuing_state: str, number: str, valid_from: dt.date,
                       valid_to: dt.date, reference: str = "", kind: m.PermitKind = m.PermitKind.RESIDENCE_PERMIT,
                       entries: int | None = None, duration_days: int | None = None,
                       traveller_id: uuid.UUID | None = None) -> m.PermittedStay:
    """Record a visa or permit of a travel document's holder (`entries`, `duration_days`: short-stay visas)."""
    from drivers.alertmatch.normalize import document_number, state_code

    norm, state = document_number(number), state_code(issuing_state)
    if not norm:
        raise InvalidArgument("number", "is required")
    if not state:
        raise InvalidArgument("state", "is required")
    if valid_to < valid_from:
        raise InvalidArgument("valid_to", "is before valid_from")
    if kind is not m.PermitKind.SHORT_STAY_VISA and (entries is not None or duration_days is not None):
        raise InvalidArgument("entries", "entries and duration belong to a short-stay visa")
    if entries is not None and entries < 1:
        raise InvalidArgument("entries", "must be at least 1 (omit it for multiple entries)")
    if duration_days is not None and not 1 <= duration_days <= 90:
        raise InvalidArgument("duration_days", "must be 1 to 90")
    if traveller_id is None:
        traveller_id = session.scalar(select(D.traveller_id).where(D.issuing_state == state, D.number_norm == norm))
    stay = m.PermittedStay(issuing_state=state, number_norm=norm, valid_from=valid_from, valid_to=valid_to,
                           reference=reference[:64], kind=kind, entries=entries, duration_days=duration_days,
                           traveller_id=traveller_id)
    session.add(stay)
    session.flush()
    return stay
