"""An intelligence report filed at the counter (limes.v1.Desk FileIntelligenceReport).

The officer of the session is its originator (central.desk.sessions names them; the desk sends no name),
filed in their unit at most at their clearance, as on the web desk (central.intelligence.reports). A
report may be linked to a crossing the calling desk recorded: central then links it to that crossing, the
referral holding the officer's decision, the traveller and the document, from its own records, never
from what the desk says they are. The report's reference is the desk's UUID, so that the outbox sending
it twice files it once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access import roles as access
from central.access import scope
from central.access.audit import Caller
from central.access.roles import PermissionDenied
from central.database import models as m
from central.errors import NotFound
from central.intelligence import clearance
from central.intelligence import reports as intel
from central.intelligence.grading import Grading


@dataclass(frozen=True)
class DeskReport:
    reference: str
    source_kind: str
    grading: Grading
    classification: str
    text: str
    crossing_id: str = ""


def _links(session: Session, caller: Caller, crossing_id: str) -> tuple[tuple[str, str], ...]:
    crossing = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == crossing_id))
    if crossing is None:
        raise NotFound("crossing", crossing_id)
    if crossing.station.code != caller.station:
        raise PermissionDenied(f"crossing {crossing_id} was recorded by {crossing.station.code!r}, not by this desk")
    links = [("crossing", crossing_id), ("person", str(crossing.traveller_id)),
             ("document", str(crossing.document_id))]
    referral = session.scalar(select(m.Referral).where(m.Referral.crossing_id == crossing.id))
    if referral is not None:
        scope.require_full("FileIntelligenceReport", f"referral {referral.referral_id}",
                           scope.referral_sight(scope.scope_of(session, caller), referral))
        links.insert(1, ("referral", referral.referral_id))
    return tuple(links)


def file_from_desk(session: Session, officer: Caller, report: DeskReport, today: dt.date) -> m.IntelReport:
    """File `report` as the session's officer (`officer`: the desk station and the officer); audited."""
    if not access.permits(access.roles_of(session, "", officer.user), "FileIntelReport"):
        raise PermissionDenied(f"officer {officer.user!r} may not file intelligence reports")
    filed = session.scalar(select(m.IntelReport).where(m.IntelReport.reference == report.reference))
    if filed is not None:
        if filed.originator != officer.user:
            raise PermissionDenied(f"report {report.reference} was filed by someone else")
        return filed  # sent again by the desk's outbox: filed once
    links = _links(session, officer, report.crossing_id) if report.crossing_id else ()
    new = intel.NewReport(source_kind=report.source_kind, grading=report.grading,
                          classification=report.classification, text=report.text,
                          review_by=today + intel.DEFAULT_REVIEW, links=links, reference=report.reference)
    return intel.file_report(session, officer, clearance.reader(session, officer.user), new, today)
