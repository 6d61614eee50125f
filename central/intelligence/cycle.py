"""The intelligence cycle as records: a tasking (an intelligence requirement a supervisor issues) and
the steps that answer it, each with an owner, dates and optionally the report it produced.

Cycle records are the unit's own: a user sees those of their unit. Only supervisors issue taskings.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.access.roles import PermissionDenied
from central.database import models as m
from central.errors import InvalidArgument, NotFound
from central.intelligence.clearance import Reader

STAGES = ("tasking", "collection", "evaluation", "analysis", "dissemination", "feedback")


@dataclass(frozen=True)
class NewStep:
    stage: str
    title: str
    owner: str
    detail: str = ""
    due: dt.date | None = None
    parent_id: int | None = None
    report_reference: str = ""


def add_step(session: Session, caller: Caller, who: Reader, new: NewStep, *, may_task: bool) -> m.IntelCycleRecord:
    if new.stage not in STAGES:
        raise InvalidArgument("stage", f"{new.stage!r} is not one of {', '.join(STAGES)}")
    if new.stage == "tasking" and not may_task:
        raise PermissionDenied("only supervisors issue taskings")
    if new.stage != "tasking" and new.parent_id is None:
        raise InvalidArgument("parent", f"a {new.stage} step answers a tasking: choose one")
    if not new.title.strip() or len(new.title) > 200:
        raise InvalidArgument("title", "1 to 200 characters are required")
    if not new.owner.strip() or len(new.owner) > 64:
        raise InvalidArgument("owner", "1 to 64 characters are required")
    if len(new.detail) > 5000:
        raise InvalidArgument("detail", "at most 5000 characters")
    if new.parent_id is not None:
        parent = session.get(m.IntelCycleRecord, new.parent_id)
        if parent is None or parent.unit != who.unit or parent.stage != "tasking":
            raise NotFound("tasking", str(new.parent_id))
    report_id = None
    if new.report_reference:
        report = session.scalar(select(m.IntelReport).where(m.IntelReport.reference == new.report_reference))
        if report is None:
            raise NotFound("intelligence report", new.report_reference)
        report_id = report.id
    step = m.IntelCycleRecord(stage=new.stage, title=new.title.strip(), detail=new.detail.strip(),
                              owner=new.owner.strip(), created_by=who.user, unit=who.unit, due=new.due,
                              created_at=m.utcnow(), parent_id=new.parent_id, report_id=report_id)
    session.add(step)
    session.flush()
    audit(session, caller, "IntelCycle", f"{new.stage} #{step.id}", f"owner {step.owner}", "intelligence cycle")
    return step


def close_step(session: Session, caller: Caller, who: Reader, step_id: int) -> m.IntelCycleRecord:
    step = session.get(m.IntelCycleRecord, step_id)
    if step is None or step.unit != who.unit:
        raise NotFound("cycle record", str(step_id))
    if step.closed_at is None:
        step.closed_at = m.utcnow()
        audit(session, caller, "IntelCycle", f"{step.stage} #{step.id}", "closed", "intelligence cycle")
    return step


def unit_cycle(session: Session, caller: Caller, who: Reader
               ) -> list[tuple[m.IntelCycleRecord, list[m.IntelCycleRecord]]]:
    """The unit's taskings, newest first, each with the steps that answer it in order; the view is audited."""
    rows = list(session.scalars(select(m.IntelCycleRecord).where(m.IntelCycleRecord.unit == who.unit)
                                .order_by(m.IntelCycleRecord.id)))
    steps: dict[int, list[m.IntelCycleRecord]] = {}
    for row in rows:
        if row.parent_id is not None:
            steps.setdefault(row.parent_id, []).append(row)
    audit(session, caller, "IntelCycle", f"cycle of unit {who.unit}", f"{len(rows)} record(s) shown",
          "intelligence cycle")
    return [(row, steps.get(row.id, [])) for row in reversed(rows) if row.stage == "tasking"]
