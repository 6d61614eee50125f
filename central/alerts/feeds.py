"""Alert feeds in and out (docs/FEEDS.md): another system's document and person alerts applied to
the alert lists, and the lists written as a feed for another system.

An import applies whole or not at all: the feed is read and checked completely first
(central.alerts.feed_format), then every entry is applied in the caller's one transaction, and
the first entry the alert lists refuse raises FeedError naming it, which rolls the transaction
back. Entries carry their alert_id, so importing the same feed again changes nothing.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.alerts import lists
from central.alerts.feed_format import Feed, FeedDocument, FeedError, FeedPerson
from central.database import models as m
from central.errors import CentralError
from drivers.alertmatch.normalize import document_type, state_code

PURPOSE = "alert feed exchange"


@dataclass(frozen=True)
class ImportSummary:
    issuer: str
    # "added", "updated", "unchanged", "withdrawn", "withdrawn_unknown" (withdrawn in the feed, never held here)
    documents: dict[str, int]
    persons: dict[str, int]

    def as_dict(self) -> dict:
        return {"issuer": self.issuer, "documents": self.documents, "persons": self.persons}


def import_feed(session: Session, caller: Caller, feed: Feed) -> ImportSummary:
    """Apply `feed` in the caller's transaction; FeedError (and nothing kept, once the caller rolls
    back) on the first entry the alert lists refuse."""
    documents: Counter[str] = Counter()
    persons: Counter[str] = Counter()
    for i, entry in enumerate(feed.documents):
        documents[_applied(f"documents[{i}]", entry.alert_id,
                           lambda e=entry: _document(session, caller, feed, e))] += 1
    for i, entry in enumerate(feed.persons):
        persons[_applied(f"persons[{i}]", entry.alert_id,
                         lambda e=entry: _person(session, caller, feed, e))] += 1
    summary = ImportSummary(feed.issuer, dict(sorted(documents.items())), dict(sorted(persons.items())))
    audit(session, caller, "ImportAlertFeed", f"alert feed of {feed.issuer} generated {feed.generated_at.isoformat()}",
          _counts(summary), PURPOSE)
    return summary


def audit_refusal(session: Session, caller: Caller, source: str, error: FeedError) -> None:
    """A refused feed leaves one audit row (written in a transaction of its own: the import's rolled back)."""
    audit(session, caller, "ImportAlertFeed", f"alert feed {source}", f"refused: {error}", PURPOSE)


def _counts(summary: ImportSummary) -> str:
    def line(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} {what}" for what, n in counts.items()) or "none"
    return f"documents: {line(summary.documents)}; persons: {line(summary.persons)}"


def _applied(path: str, alert_id: str, apply) -> str:
    try:
        return apply()
    except CentralError as exc:
        raise FeedError([f"{path} (alert {alert_id}): {exc}"]) from None


def _held(session: Session, model, other, alert_id: str):
    alert = session.scalar(select(model).where(model.alert_id == alert_id))
    if alert is None and session.scalar(select(other.id).where(other.alert_id == alert_id)) is not None:
        kind = "person" if other is m.PersonAlert else "document"
        raise FeedError([f"alert {alert_id} is a {kind} alert here"])
    return alert


def _withdrawal(session: Session, caller: Caller, alert, feed: Feed) -> str:
    if alert is None:
        return "withdrawn_unknown"
    if alert.withdrawn:
        return "unchanged"
    lists.withdraw_alert(session, caller, alert.alert_id, f"withdrawn by the alert feed of {feed.issuer}")
    return "withdrawn"


def _document(session: Session, caller: Caller, feed: Feed, entry: FeedDocument) -> str:
    alert = _held(session, m.DocumentAlert, m.PersonAlert, entry.alert_id)
    if entry.withdrawn:
        return _withdrawal(session, caller, alert, feed)
    new = lists.NewDocumentAlert(
        alert_id=entry.alert_id, number=entry.document_number, doc_type=entry.document_type,
        issuing_state=entry.issuing_state, reason=entry.reason,
        handling_instruction=entry.handling_instruction, issuing_agency=entry.issuing_agency or feed.issuer,
        valid_from=entry.valid_from, valid_to=entry.valid_to, category=entry.category)
    if alert is None:
        lists.add_document_alert(session, caller, new)
        return "added"
    category = lists.document_category(new.reason, new.category)
    if (alert.number, alert.doc_type, alert.issuing_state, alert.reason, alert.category, alert.handling_instruction,
            alert.issuing_agency, alert.valid_from, alert.valid_to, alert.withdrawn) == (
            new.number, document_type(new.doc_type), state_code(new.issuing_state), new.reason, category,
            new.handling_instruction, new.issuing_agency, new.valid_from, new.valid_to, False):
        return "unchanged"
    lists.update_document_alert(session, caller, new)
    return "updated"


def _person(session: Session, caller: Caller, feed: Feed, entry: FeedPerson) -> str:
    alert = _held(session, m.PersonAlert, m.DocumentAlert, entry.alert_id)
    if entry.withdrawn:
        return _withdrawal(session, caller, alert, feed)
    new = lists.NewPersonAlert(
        alert_id=entry.alert_id, surname=entry.surname, given_names=entry.given_names,
        birth_date=entry.birth_date, nationality=entry.nationality, reason=entry.reason,
        handling_instruction=entry.handling_instruction, issuing_agency=entry.issuing_agency or feed.issuer,
        valid_from=entry.valid_from, valid_to=entry.valid_to, matcher_subject_id="",
        notice=entry.notice, notice_kind=entry.notice_kind)
    if alert is None:
        lists.add_person_alert(session, caller, new)
        return "added"
    if (alert.surname, alert.given_names, alert.birth_date, alert.nationality, alert.reason, alert.notice,
            alert.notice_kind, alert.handling_instruction, alert.issuing_agency, alert.valid_from, alert.valid_to,
            alert.withdrawn) == (
            new.surname, new.given_names, new.birth_date, state_code(new.nationality), new.reason, new.notice,
            new.notice_kind,
            new.handling_instruction, new.issuing_agency, new.valid_from, new.valid_to, False):
        return "unchanged"
    lists.update_person_alert(session, caller, new)
    return "updated"


def export_feed(session: Session, caller: Caller, issuer: str, now: dt.datetime, *,
                include_withdrawn: bool = False) -> Feed:
    """The alert lists as a feed (withdrawn alerts too when asked, so that the receiver withdraws them)."""
    documents = select(m.DocumentAlert).order_by(m.DocumentAlert.id)
    persons = select(m.PersonAlert).order_by(m.PersonAlert.id)
    if not include_withdrawn:
        documents = documents.where(m.DocumentAlert.withdrawn.is_(False))
        persons = persons.where(m.PersonAlert.withdrawn.is_(False))
    feed = Feed(issuer, now, [
        FeedDocument(a.alert_id, a.number, a.doc_type, a.issuing_state, a.reason, a.category, a.handling_instruction,
                     a.issuing_agency, a.valid_from, a.valid_to, a.withdrawn)
        for a in session.scalars(documents)
    ], [
        FeedPerson(a.alert_id, a.surname, a.given_names, a.birth_date, a.nationality, a.reason, a.notice,
                   a.notice_kind, a.handling_instruction, a.issuing_agency, a.valid_from, a.valid_to, a.withdrawn)
        for a in session.scalars(persons)
    ])
    audit(session, caller, "ExportAlertFeed", f"alert feed as {issuer}",
          f"{len(feed.documents)} document, {len(feed.persons)} person alert(s)", PURPOSE)
    return feed
