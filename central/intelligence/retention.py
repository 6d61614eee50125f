"""Retention in the intelligence room (called by the retention purge, central.access.retention).

- A report is kept while someone judges it still needed: a reviewer's review sets a new review-by date.
  Unreviewed, it is flagged on its review-by date, restricted RESTRICT_AFTER later
  (central.intelligence.clearance), and deleted `report_days` after the date, with its links; the
  cycle's steps that named it keep their record without the link.
- A link to a crossing, referral, document or person that is no longer held goes (after the purge
  has deleted them): a report never keeps a pointer to personal data the rest of central has let go.
- A profile's selection of a traveller goes with the crossing's retention period (`personal_before`);
  its yield then counts the selections still held.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String, and_, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from central.database import models as m

DEFAULT_REPORT_DAYS = 365


def lapsed_reports(today: dt.date, report_days: int):
    """The reports whose review-by date is more than `report_days` past (a query of their ids)."""
    return select(m.IntelReport.id).where(m.IntelReport.review_by < today - dt.timedelta(days=report_days))


def count_lapsed(session: Session, today: dt.date, report_days: int, personal_before: dt.datetime) -> tuple[int, int]:
    """(reports, profile selections) that a purge would delete (links to purged records are not foreseen)."""
    reports = session.scalar(select(func.count()).select_from(lapsed_reports(today, report_days).subquery()))
    selections = session.scalar(select(func.count(m.RiskProfileSelection.id)).where(
        m.RiskProfileSelection.selected_at < personal_before))
    return reports or 0, selections or 0


def purge_reports(session: Session, today: dt.date, report_days: int) -> int:
    """Deletes the lapsed reports and their links; the number deleted. Before the crossings go."""
    lapsed = lapsed_reports(today, report_days)
    count = session.scalar(select(func.count()).select_from(lapsed.subquery())) or 0
    session.execute(update(m.IntelCycleRecord).where(m.IntelCycleRecord.report_id.in_(lapsed)).values(report_id=None),
                    execution_options={"synchronize_session": False})
    session.execute(delete(m.IntelLink).where(m.IntelLink.report_id.in_(lapsed)),
                    execution_options={"synchronize_session": False})
    session.execute(delete(m.IntelReport).where(m.IntelReport.id.in_(lapsed)),
                    execution_options={"synchronize_session": False})
    return count


def purge_dangling(session: Session, personal_before: dt.datetime) -> tuple[int, int]:
    """Deletes the links to records no longer held and the selections past retention; (links, selections).
    After the crossings, referrals, documents and travellers have gone."""
    held = {
        "crossing": select(m.Crossing.crossing_id),
        "referral": select(m.Referral.referral_id),
        "document": select(cast(m.TravelDocument.id, String)),
        "person": select(cast(m.Traveller.id, String)),
    }
    dangling = or_(*(and_(m.IntelLink.kind == kind, m.IntelLink.target.not_in(ids)) for kind, ids in held.items()))
    links = session.execute(delete(m.IntelLink).where(dangling), execution_options={"synchronize_session": False})
    selections = session.execute(delete(m.RiskProfileSelection).where(
        m.RiskProfileSelection.selected_at < personal_before), execution_options={"synchronize_session": False})
    return links.rowcount or 0, selections.rowcount or 0
