"""Intelligence reports: filed, listed and read on need to know, every read and refusal audited.

The originator is the caller (the signed-in user or the certificate's name), never a field of the
report. Links point at records held here (a traveller or document by id, a crossing or referral by
its uuid) or name a free entity (a vehicle, a route, an organisation).
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.database.keys import parse_key
from central.errors import InvalidArgument, NotFound
from central.intelligence.clearance import LEVELS, Access, Reader, Review, access_to, review_state
from central.intelligence.grading import Grading

SOURCE_KINDS = {"human": "human source", "officer": "officer observation", "open": "open source",
                "partner": "partner agency", "system": "system"}
# Links to records held here, and free entities described in words.
RECORD_LINKS = ("person", "document", "crossing", "referral")
FREE_LINKS = ("vehicle", "route", "organisation")
LINK_KINDS = RECORD_LINKS + FREE_LINKS
MAX_TEXT, MAX_SANITISED, MAX_LINKS = 20_000, 5_000, 50
MAX_REVIEW = dt.timedelta(days=3 * 366)
DEFAULT_REVIEW = dt.timedelta(days=365)


@dataclass(frozen=True)
class NewReport:
    source_kind: str
    grading: Grading
    classification: str
    text: str
    review_by: dt.date
    sanitised_text: str = ""
    links: tuple[tuple[str, str], ...] = ()
    shared_with: tuple[str, ...] = ()
    # The reference of the legacy system it was imported from (central.intelligence.legacy_import).
    legacy_reference: str | None = None
    # Its own reference when the caller chose it (a desk's UUID, its idempotency key); else a new one.
    reference: str | None = None


@dataclass
class ReportView:
    report: m.IntelReport
    access: Access
    why: str
    review: Review
    # Each link with what it points at, in words ("MUSTERMANN, ERIKA 1964-08-12 DEU"); full access only.
    links: list[tuple[str, str, str]] = field(default_factory=list)


def check_report(session: Session, new: NewReport, author: Reader, today: dt.date, allow_overdue: bool = False) -> None:
    """InvalidArgument or NotFound when `author` may not file `new` as it is (nothing written)."""
    if new.source_kind not in SOURCE_KINDS:
        raise InvalidArgument("source_kind", f"{new.source_kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    if new.classification not in LEVELS:
        raise InvalidArgument("classification", f"{new.classification!r} is not one of {', '.join(LEVELS)}")
    if LEVELS.index(new.classification) > max(author.level, 0):
        raise InvalidArgument("classification", f"{new.classification} is above your clearance "
                              f"({author.clearance.level if author.clearance else 'none: OFFICIAL only'})")
    if not new.text.strip() or len(new.text) > MAX_TEXT:
        raise InvalidArgument("text", f"1 to {MAX_TEXT} characters are required")
    if len(new.sanitised_text) > MAX_SANITISED:
        raise InvalidArgument("sanitised_text", f"at most {MAX_SANITISED} characters")
    if new.review_by > today + MAX_REVIEW or (new.review_by <= today and not allow_overdue):
        raise InvalidArgument("review_by", f"a date after today and within {MAX_REVIEW.days} days is required")
    if len(new.links) > MAX_LINKS:
        raise InvalidArgument("links", f"at most {MAX_LINKS}")
    for kind, target in new.links:
        _check_link(session, kind, target)


def _check_link(session: Session, kind: str, target: str) -> None:
    if kind not in LINK_KINDS:
        raise InvalidArgument("links", f"{kind!r} is not one of {', '.join(LINK_KINDS)}")
    if not target.strip() or len(target) > 200:
        raise InvalidArgument("links", f"a {kind} needs 1 to 200 characters")
    if kind in FREE_LINKS:
        return
    if _describe(session, kind, target) is None:
        raise NotFound(kind, target)


def _written(kind: str, target: str) -> str:
    """A link's target as kept: a person's or document's key in the one form the link analysis names it by."""
    key = parse_key(target) if kind in ("person", "document") else None
    return str(key) if key is not None else target.strip()


def _describe(session: Session, kind: str, target: str) -> str | None:
    """What a link to a record points at, in words; None when there is no such record."""
    if kind in ("person", "document"):
        key = parse_key(target)
        if key is None:
            return None
        row = session.get(m.Traveller if kind == "person" else m.TravelDocument, key)
        if row is None:
            return None
        if kind == "person":
            return f"{row.surname}, {row.given_names} {row.birth_date or ''} {row.nationality}".strip()
        return f"{row.doc_type} {row.issuing_state} {row.number}"
    if kind == "crossing":
        row = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == target))
        return None if row is None else (f"{row.direction.value.lower()} at {row.border_point.code} "
                                         f"{row.occurred_at:%Y-%m-%d %H:%M}, {row.traveller.surname}")
    if kind == "referral":
        row = session.scalar(select(m.Referral).where(m.Referral.referral_id == target))
        return None if row is None else f"referral of {row.crossing.traveller.surname}, {row.status.value.lower()}"
    return target


def file_report(session: Session, caller: Caller, author: Reader, new: NewReport, today: dt.date, *,
                allow_overdue: bool = False) -> m.IntelReport:
    """Keep a new report, originated by `author` (the caller) in their unit; audited.

    `allow_overdue`: a record imported from a legacy system may arrive past its review-by date (it is then
    flagged overdue, and restricted, at once); a new report may not."""
    check_report(session, new, author, today, allow_overdue)
    report = m.IntelReport(
        reference=new.reference or str(uuid.uuid4()), source_kind=new.source_kind,
        source_evaluation=new.grading.source_evaluation, assessment=new.grading.assessment,
        handling_code=new.grading.handling_code, handling_conditions=new.grading.handling_conditions,
        legacy_grading=new.grading.legacy, classification=new.classification, unit=author.unit,
        shared_with=sorted(set(new.shared_with) - {author.unit}), originator=author.user, text=new.text.strip(),
        sanitised_text=new.sanitised_text.strip(), review_by=new.review_by, created_at=m.utcnow(),
        owning_agency=author.agency, legacy_reference=new.legacy_reference,
        links=[m.IntelLink(kind=kind, target=_written(kind, target)) for kind, target in new.links])
    session.add(report)
    session.flush()
    audit(session, caller, "FileIntelReport", f"intelligence report {report.reference}",
          f"{new.grading.code} {new.classification}, {len(new.links)} link(s)", "intelligence")
    return report


def list_reports(session: Session, caller: Caller, who: Reader, today: dt.date, limit: int = 200,
                 linked_to: tuple[str, str] | None = None) -> list[ReportView]:
    """The newest reports `who` may read at all (in full or sanitised), each with its review state; audited."""
    query = select(m.IntelReport).order_by(m.IntelReport.id.desc())
    if linked_to is not None:
        query = query.where(m.IntelReport.id.in_(select(m.IntelLink.report_id).where(
            m.IntelLink.kind == linked_to[0], m.IntelLink.target == linked_to[1])))
    views = []
    for report in session.scalars(query):
        access, why = access_to(who, report, today)
        if access is not Access.NONE:
            views.append(ReportView(report, access, why, review_state(report, today)))
        if len(views) >= limit:
            break
    subject = "intelligence reports" + (f" linked to {linked_to[0]} {linked_to[1]}" if linked_to else "")
    audit(session, caller, "ListIntelReports", subject, f"{len(views)} shown", "intelligence")
    return views


def read_report(session: Session, caller: Caller, who: Reader, reference: str, today: dt.date) -> ReportView:
    """One report as `who` may see it. When they may see none of it, the view's access is NONE and carries no
    text for them; the refusal is audited in this transaction (raising would roll its audit row back)."""
    report = session.scalar(select(m.IntelReport).where(m.IntelReport.reference == reference))
    if report is None:
        raise NotFound("intelligence report", reference)
    access, why = access_to(who, report, today)
    subject = f"intelligence report {reference}"
    view = ReportView(report, access, why, review_state(report, today))
    if access is Access.NONE:
        audit(session, caller, "ReadIntelReport", subject, f"PERMISSION_DENIED: {why}", "intelligence")
        return view
    if access is Access.FULL:
        view.links = [(link.kind, link.target, _describe(session, link.kind, link.target) or "(no longer held)")
                      for link in report.links]
    audit(session, caller, "ReadIntelReport", subject, f"{access.value}: {why}", "intelligence")
    return view


def review_report(session: Session, caller: Caller, who: Reader, reference: str, review_by: dt.date,
                  today: dt.date) -> m.IntelReport | None:
    """A reviewer or the originator confirms a report is still needed, until a new review-by date.
    None when `who` may not (audited)."""
    report = session.scalar(select(m.IntelReport).where(m.IntelReport.reference == reference))
    if report is None:
        raise NotFound("intelligence report", reference)
    if not (who.reviewer or report.originator == who.user) or access_to(who, report, today)[0] is not Access.FULL:
        audit(session, caller, "ReviewIntelReport", f"intelligence report {reference}",
              "PERMISSION_DENIED: neither its originator nor a reviewer with need to know", "review")
        return None
    if not today < review_by <= today + MAX_REVIEW:
        raise InvalidArgument("review_by", f"a date after today and within {MAX_REVIEW.days} days is required")
    report.review_by, report.reviewed_at = review_by, m.utcnow()
    audit(session, caller, "ReviewIntelReport", f"intelligence report {reference}", f"review by {review_by}",
          "review")
    return report
