"""Retention: personal and biometric data deleted after configurable periods, statistics kept.

Two periods, counted back from today in whole UTC days:
- `evidence_days`: after it a crossing loses its face score and its check
  results (the evidence of the automated decision), and its referrals lose
  the gate's face images (live capture, chip photo) and watchlist candidates;
- `personal_days`: after it the crossing goes altogether, with its referrals
  and decisions, and so do travellers and documents no crossing refers to any
  more, and permitted stays that ended before it.
The enrolment photo of a person alert goes as soon as the alert is withdrawn or
past its last day (its face is no longer searched for either).
A traveller file (central.travellers) goes with its traveller, once none of their
crossings is kept, with its face image, template and fingers: `personal_days` after the last
crossing (EES: three years), or `overstay_days` (EES: five years) when the file
records an overstay, whose crossings are kept that long too. The purged files' ids
are reported, for their templates to be removed from the matcher's travellers gallery and its
finger gallery (`limes central purge --matcher`).
Intelligence reports past their review-by date by `report_days` go, and so do a report's links to
records purged here, and risk profiles' selections as old as purged crossings
(central.intelligence.retention).
Before a crossing is deleted its count is added to the daily aggregates
(central.statistics.tables reads both), in the same transaction: statistics never
lose a crossing, and a failed purge deletes nothing.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from central.database import models as m
from central.errors import InvalidArgument
from central.intelligence import retention as intelligence_retention
from central.statistics.tables import Fact, facts_where

DEFAULT_PERSONAL_DAYS = 1095  # three years, as the EU Entry/Exit System keeps crossings
DEFAULT_EVIDENCE_DAYS = 30
DEFAULT_OVERSTAY_DAYS = 1825  # five years: the EES keeps the file of a traveller who overstayed that long
DEFAULT_REPORT_DAYS = intelligence_retention.DEFAULT_REPORT_DAYS


@dataclass(frozen=True)
class RetentionPolicy:
    personal_days: int = DEFAULT_PERSONAL_DAYS
    evidence_days: int = DEFAULT_EVIDENCE_DAYS
    overstay_days: int = DEFAULT_OVERSTAY_DAYS
    report_days: int = DEFAULT_REPORT_DAYS  # an unreviewed intelligence report goes this long after its review-by

    def __post_init__(self) -> None:
        if self.report_days < 0:
            raise InvalidArgument("report_days", "must be >= 0")
        if self.overstay_days < self.personal_days:
            raise InvalidArgument("overstay_days", "must be at least personal_days")
        if self.evidence_days < 0:
            raise InvalidArgument("evidence_days", "must be >= 0")
        if self.personal_days < self.evidence_days:
            raise InvalidArgument("personal_days", "must be at least evidence_days")


@dataclass(frozen=True)
class PurgeReport:
    dry_run: bool
    personal_before: str
    evidence_before: str
    crossings_deleted: int
    referrals_deleted: int
    decisions_deleted: int
    documents_deleted: int
    travellers_deleted: int
    permitted_stays_deleted: int
    evidence_cleared: int
    aggregated: int
    face_images_deleted: int = 0
    traveller_files_deleted: int = 0
    # Subject ids to remove from the matcher's travellers gallery (central.travellers.files).
    traveller_file_ids: tuple[str, ...] = ()
    intel_reports_deleted: int = 0
    intel_links_deleted: int = 0
    profile_selections_deleted: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"{self.crossings_deleted} crossing(s), {self.referrals_deleted} referral(s), "
                f"{self.travellers_deleted} traveller(s), {self.documents_deleted} document(s), "
                f"{self.permitted_stays_deleted} permitted stay(s), {self.traveller_files_deleted} traveller file(s), "
                f"{self.face_images_deleted} face image(s), {self.intel_reports_deleted} intelligence report(s) "
                f"deleted; evidence cleared from {self.evidence_cleared} crossing(s)")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc)


def purge(session: Session, today: dt.date, policy: RetentionPolicy, dry_run: bool = False) -> PurgeReport:
    """Delete what the policy says is due; with dry_run only count it.

    Sets are given as subqueries, not id lists: a first purge of years of
    crossings would exceed the bound-parameter limits of SQLite.
    """
    personal_day = today - dt.timedelta(days=policy.personal_days)
    evidence_day = today - dt.timedelta(days=policy.evidence_days)
    overstay_day = today - dt.timedelta(days=policy.overstay_days)
    # A traveller whose file records an overstay keeps their crossings for overstay_days.
    overstayed = select(m.TravellerFile.traveller_id).where(m.TravellerFile.overstay.is_(True))
    old = (m.Crossing.occurred_at < _midnight(personal_day)) & ~(
        m.Crossing.traveller_id.in_(overstayed) & (m.Crossing.occurred_at >= _midnight(overstay_day)))
    crossings = select(m.Crossing.id).where(old)
    referrals = select(m.Referral.id).where(m.Referral.crossing_id.in_(crossings))
    decisions = select(m.OfficerDecision.id).where(m.OfficerDecision.referral_id.in_(referrals))
    stays = select(m.PermittedStay.id).where(m.PermittedStay.valid_to < personal_day)
    kept = select(m.Crossing.id).where(~old)
    documents = select(m.TravelDocument.id).where(m.TravelDocument.id.not_in(
        select(m.Crossing.document_id).where(m.Crossing.id.in_(kept))))
    travellers = select(m.Traveller.id).where(
        m.Traveller.id.not_in(select(m.Crossing.traveller_id).where(m.Crossing.id.in_(kept))),
        # a traveller keeps any document still used (a renewed passport's holder crossing again)
        m.Traveller.id.not_in(select(m.TravelDocument.traveller_id).where(m.TravelDocument.id.not_in(documents))))
    files = select(m.TravellerFile.id).where(m.TravellerFile.traveller_id.in_(travellers))
    file_ids = tuple(session.scalars(select(m.TravellerFile.file_id).where(m.TravellerFile.id.in_(files))))
    # A file's fingers (central.travellers.fingerprints) go with it.
    fingers = select(m.TravellerFinger.id).where(m.TravellerFinger.traveller_file_id.in_(files))
    evidence_crossings = select(m.Crossing.id).where(m.Crossing.occurred_at < _midnight(evidence_day))
    evidence = [c for c in session.scalars(select(m.Crossing).where(
        m.Crossing.occurred_at < _midnight(evidence_day), ~old)) if c.face_score is not None or c.checks]
    evidence_referrals = select(m.Referral).where(m.Referral.crossing_id.in_(evidence_crossings),
                                                  m.Referral.crossing_id.not_in(crossings))
    lapsed_alerts = select(m.PersonAlert.id).where(or_(m.PersonAlert.withdrawn.is_(True),
                                                       m.PersonAlert.valid_to < today))
    images = select(m.FaceImage.id).where(or_(
        m.FaceImage.referral_id.in_(select(m.Referral.id).where(m.Referral.crossing_id.in_(evidence_crossings))),
        m.FaceImage.person_alert_id.in_(lapsed_alerts),
        m.FaceImage.traveller_file_id.in_(files)))
    counted = {name: _count(session, query) for name, query in (
        ("crossings", crossings), ("referrals", referrals), ("decisions", decisions), ("stays", stays),
        ("documents", documents), ("travellers", travellers), ("images", images))}
    facts = list(facts_where(session, old))
    reports, selections = intelligence_retention.count_lapsed(session, today, policy.report_days,
                                                              _midnight(personal_day))
    links = 0
    if not dry_run:
        reports = intelligence_retention.purge_reports(session, today, policy.report_days)
        _aggregate(session, facts)
        for crossing in evidence:
            crossing.face_score, crossing.checks = None, []
        for referral in session.scalars(evidence_referrals):
            if referral.watchlist_candidates:
                referral.watchlist_candidates = []
        # A file that stays loses only the link to a first crossing that goes.
        session.execute(update(m.TravellerFile).where(m.TravellerFile.first_crossing_id.in_(crossings))
                        .values(first_crossing_id=None), execution_options={"synchronize_session": False})
        session.flush()
        # Stays (central.records.stays): closed ones past retention go; the rest forget purged crossings,
        # and a purged traveller's go with them. Permits outlive their holder's record without it.
        for column in (m.StayRecord.entry_crossing_id, m.StayRecord.exit_crossing_id):
            session.execute(update(m.StayRecord).where(column.in_(crossings)).values({column.key: None}),
                            execution_options={"synchronize_session": False})
        session.execute(delete(m.StayRecord).where(or_(m.StayRecord.exit_day < personal_day,
                                                       m.StayRecord.traveller_id.in_(travellers))),
                        execution_options={"synchronize_session": False})
        session.execute(update(m.PermittedStay).where(m.PermittedStay.traveller_id.in_(travellers))
                        .values(traveller_id=None), execution_options={"synchronize_session": False})
        # Children first; documents and travellers last, once no crossing refers to them.
        # `kept` does not change meanwhile, so neither do the sets chosen through it.
        for model, ids in (
            (m.FaceImage, images),
            (m.OfficerDecision, decisions),
            (m.Referral, referrals),
            (m.Crossing, crossings),
            (m.PermittedStay, stays),
            (m.TravellerFinger, fingers),
            (m.TravellerFile, files),
            (m.TravelDocument, documents),
            (m.Traveller, travellers),
        ):
            session.execute(delete(model).where(model.id.in_(ids)), execution_options={"synchronize_session": False})
        links, selections = intelligence_retention.purge_dangling(session, _midnight(personal_day))
        session.expire_all()
    return PurgeReport(dry_run, personal_day.isoformat(), evidence_day.isoformat(), counted["crossings"],
                       counted["referrals"], counted["decisions"], counted["documents"], counted["travellers"],
                       counted["stays"], len(evidence), len(facts), counted["images"], len(file_ids), file_ids,
                       reports, links, selections)


def _count(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _aggregate(session: Session, facts: list[Fact]) -> None:
    cells: Counter[tuple] = Counter()
    for f in facts:
        cells[(f.day, f.nationality, f.sex, f.age_band, f.border_point, f.direction, f.document_type,
               f.decision)] += f.count
    columns = ("day", "nationality", "sex", "age_band", "border_point", "direction", "document_type", "decision")
    for key, count in cells.items():
        values = dict(zip(columns, key))
        row = session.scalar(select(m.CrossingAggregate).filter_by(**values))
        if row is None:
            session.add(m.CrossingAggregate(**values, count=count))
        else:
            row.count += count
    session.flush()
