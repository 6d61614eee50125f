"""Travellers a gate handed to the counter without an identity (the MRZ could not be read), so that
nobody sent to an officer is recorded nowhere: kept until a desk at the same border point settles the
case with the crossing it records (central.desk.decisions)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.access.roles import PermissionDenied
from central.database import models as m
from central.errors import AlreadyExists, FailedPrecondition, NotFound

MAX_WAITING = 200


def hand_to_counter(session: Session, caller: Caller, case_id: str, station: str, border_point: str,
                    occurred_at: dt.datetime, reasons: list[str]) -> m.CounterCase:
    """Keep the case once (a retry from the gate's outbox returns the stored one)."""
    if caller.station and caller.station != station:
        raise PermissionDenied(f"station_id: station {caller.station!r} may not hand over for {station!r}")
    existing = session.scalar(select(m.CounterCase).where(m.CounterCase.case_id == case_id))
    if existing is not None:
        if existing.station != station:
            raise AlreadyExists(f"case_id {case_id} belongs to station {existing.station!r}")
        return existing
    case = m.CounterCase(case_id=case_id, station=station, border_point=border_point, occurred_at=occurred_at,
                         received_at=m.utcnow(), reasons=[r[:400] for r in reasons[:20]])
    session.add(case)
    session.flush()
    audit(session, caller, "HandToCounter", f"counter case {case_id}",
          f"waiting at the counter of {border_point}", "counter queue")
    return case


def waiting(session: Session, caller: Caller, border_point: str) -> list[m.CounterCase]:
    """The cases of a border point no desk has settled yet, oldest first (audited)."""
    cases = list(session.scalars(select(m.CounterCase).where(
        m.CounterCase.border_point == border_point, m.CounterCase.crossing_id.is_(None)).order_by(
        m.CounterCase.occurred_at, m.CounterCase.id).limit(MAX_WAITING)))
    audit(session, caller, "ListCounterCases", f"counter cases at {border_point}", f"{len(cases)} waiting",
          "counter queue")
    return cases


def settle(session: Session, caller: Caller, case_id: str, border_point: str, crossing_id: str,
           officer: str) -> None:
    case = session.scalar(select(m.CounterCase).where(m.CounterCase.case_id == case_id))
    if case is None:
        raise NotFound("counter case", case_id)
    if case.border_point != border_point:
        raise PermissionDenied(f"counter case {case_id} waits at {case.border_point!r}, not {border_point!r}")
    if case.crossing_id is not None:
        if case.crossing_id == crossing_id:
            return  # a retried decision
        raise FailedPrecondition(f"counter case {case_id} was settled by crossing {case.crossing_id}")
    case.crossing_id, case.settled_by, case.settled_at = crossing_id, officer, m.utcnow()
    audit(session, caller, "SettleCounterCase", f"counter case {case_id}", f"crossing {crossing_id} by {officer}",
          "counter queue")
