"""A traveller's crossing and referral history, by document or by person; audited.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument
from central.records.gate_calls import person_subject
from drivers.alertmatch.normalize import document_number, name_key, state_code

MAX_HISTORY = 100


# ---------------------------------------------------------------- history

def history_by_document(session: Session, caller: Caller, number: str, issuing_state: str, limit: int
                        ) -> tuple[list[m.Crossing], list[m.Referral]]:
    norm, state = document_number(number), state_code(issuing_state)
    if not norm:
        raise InvalidArgument("document.number", "is required")
    if not state:
        raise InvalidArgument("document.issuing_state", "is required")
    document_ids = select(m.TravelDocument.id).where(m.TravelDocument.number_norm == norm,
                                                     m.TravelDocument.issuing_state == state)
    result = _history(session, m.Crossing.document_id.in_(document_ids), limit)
    audit(session, caller, "GetTravellerHistory", f"document {state} {norm}", f"{len(result[0])} crossing(s)",
          "traveller history")
    return result


def history_by_person(session: Session, caller: Caller, surname: str, given_names: str, birth_date: dt.date,
                      nationality: str, limit: int) -> tuple[list[m.Crossing], list[m.Referral]]:
    conditions = [m.Traveller.name_key == name_key(surname, given_names), m.Traveller.birth_date == birth_date]
    if nationality.strip():
        conditions.append(m.Traveller.nationality == state_code(nationality))
    result = _history(session, m.Crossing.traveller_id.in_(select(m.Traveller.id).where(*conditions)), limit)
    audit(session, caller, "GetTravellerHistory", person_subject(surname, given_names, birth_date),
          f"{len(result[0])} crossing(s)", "traveller history")
    return result


def _history(session: Session, condition, limit: int) -> tuple[list[m.Crossing], list[m.Referral]]:
    if limit < 0:
        raise InvalidArgument("limit", "must be >= 0")
    limit = min(limit or MAX_HISTORY, MAX_HISTORY)
    crossings = session.scalars(select(m.Crossing).where(condition)
                                .order_by(m.Crossing.occurred_at.desc(), m.Crossing.id.desc()).limit(limit)).all()
    referrals = session.scalars(select(m.Referral).where(m.Referral.crossing_id.in_([c.id for c in crossings]))
                                .order_by(m.Referral.opened_at.desc(), m.Referral.id.desc())).all()
    return list(crossings), list(referrals)


def stays_of(session: Session, crossings: list[m.Crossing], limit: int = MAX_HISTORY) -> list:
    """The stays (central.records.stays) of the travellers of these crossings, newest first; read within
    the history's audited read, so no row of its own."""
    travellers = {c.traveller_id for c in crossings}
    if not travellers:
        return []
    R = m.StayRecord
    return session.execute(
        select(R.entry_day, R.exit_day, R.allowed_until, R.overstay_days, R.alerted_on, R.regime,
               m.BorderPoint.code.label("border_point"))
        .join(m.BorderPoint, R.border_point_id == m.BorderPoint.id)
        .where(R.traveller_id.in_(travellers)).order_by(R.entry_day.desc(), R.id.desc()).limit(limit)).all()
