"""The central service's operations on one database session (one transaction).

Inputs are already-parsed Python values (see central.convert for the
parsing of gRPC requests); every operation that touches personal data writes
its audit row in the same transaction. The calls a gate makes per traveller
(the alert checks, RecordCrossing) are in central.gate_calls; their audited
forms for one session are here. Nothing here knows about gRPC.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from central import models as m
from central.access import PermissionDenied
from central.audit_log import Caller, audit_row
from central.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from central.evidence import Evidence, attach as attach_evidence
from central.gate_calls import (DOCUMENT_CHECK_PURPOSE, PERSON_CHECK_PURPOSE, DocumentHit, PersonHit, document_hits,
                                document_subject, person_hits, person_subject, station_ids)
from central.matching import FaceEnroller, FaceMatcher, FaceQuery
from drivers.alertmatch.normalize import document_number, document_type, name_key, ocr_key, state_code
from drivers.alertmatch.persons import DEFAULT_THRESHOLD, Identity

MAX_HISTORY = 100


def audit(session: Session, caller: Caller, action: str, subject: str, outcome: str, purpose: str) -> None:
    session.add(m.AuditEntry(**audit_row(caller, action, subject, outcome, purpose)))


def _in_force(model, today: dt.date):
    return (
        model.withdrawn.is_(False),
        or_(model.valid_from.is_(None), model.valid_from <= today),
        or_(model.valid_to.is_(None), model.valid_to >= today),
    )


# ---------------------------------------------------------------- document alerts

def check_document(session: Session, caller: Caller, number: str, doc_type: str, issuing_state: str,
                   today: dt.date) -> list[DocumentHit]:
    """central.gate_calls.document_hits, audited in the same transaction."""
    hits = document_hits(session, number, doc_type, issuing_state, today)
    audit(session, caller, "CheckDocument", document_subject(number, issuing_state), f"{len(hits)} hit(s)",
          DOCUMENT_CHECK_PURPOSE)
    return hits


def _next_alert_version(session: Session) -> int:
    # The row lock serialises alert writers on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
    counter = session.get(m.AlertVersion, 1, with_for_update=True)
    if counter is None:
        raise FailedPrecondition("alert_version row missing: run `limes central migrate`")
    counter.value += 1
    return counter.value


def _existing_alert(session: Session, model, alert_id: str):
    return session.scalar(select(model).where(model.alert_id == alert_id))


@dataclass(frozen=True)
class NewDocumentAlert:
    alert_id: str  # "" = assign one
    number: str
    doc_type: str
    issuing_state: str
    reason: m.DocumentAlertReason
    handling_instruction: str
    issuing_agency: str
    valid_from: dt.date | None
    valid_to: dt.date | None


def add_document_alert(session: Session, caller: Caller, new: NewDocumentAlert) -> m.DocumentAlert:
    """Issue a document alert; idempotent on a client-chosen alert_id."""
    if new.alert_id and (existing := _existing_alert(session, m.DocumentAlert, new.alert_id)):
        return existing
    norm = document_number(new.number)
    if not norm:
        raise InvalidArgument("document_number", "is required")
    alert = m.DocumentAlert(
        alert_id=new.alert_id or str(uuid.uuid4()), number=new.number.strip(), number_norm=norm,
        number_ocr_key=ocr_key(new.number), doc_type=document_type(new.doc_type),
        issuing_state=state_code(new.issuing_state), reason=new.reason,
        handling_instruction=new.handling_instruction, issuing_agency=new.issuing_agency,
        valid_from=new.valid_from, valid_to=new.valid_to, version=_next_alert_version(session),
        withdrawn=False, created_at=m.utcnow(),
    )
    session.add(alert)
    audit(session, caller, "AddDocumentAlert", f"document {alert.issuing_state or '?'} {norm}",
          f"alert {alert.alert_id} {new.reason.value}", "alert administration")
    return alert


# ---------------------------------------------------------------- person alerts

@dataclass(frozen=True)
class NewPersonAlert:
    alert_id: str
    surname: str
    given_names: str
    birth_date: dt.date | None
    nationality: str
    reason: m.PersonAlertReason
    handling_instruction: str
    issuing_agency: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    matcher_subject_id: str


def add_person_alert(session: Session, caller: Caller, new: NewPersonAlert) -> m.PersonAlert:
    """Issue a person alert; idempotent on a client-chosen alert_id."""
    if new.alert_id and (existing := _existing_alert(session, m.PersonAlert, new.alert_id)):
        return existing
    alert = m.PersonAlert(
        alert_id=new.alert_id or str(uuid.uuid4()), surname=new.surname.strip(),
        given_names=new.given_names.strip(), birth_date=new.birth_date,
        nationality=state_code(new.nationality), reason=new.reason,
        handling_instruction=new.handling_instruction, issuing_agency=new.issuing_agency,
        valid_from=new.valid_from, valid_to=new.valid_to, matcher_subject_id=new.matcher_subject_id.strip(),
        version=_next_alert_version(session), withdrawn=False, created_at=m.utcnow(),
    )
    session.add(alert)
    audit(session, caller, "AddPersonAlert", _person_subject(alert.surname, alert.given_names, alert.birth_date),
          f"alert {alert.alert_id} {new.reason.value}", "alert administration")
    return alert


def withdraw_alert(session: Session, caller: Caller, alert_id: str, reason: str,
                   enroller: FaceEnroller | None = None) -> m.DocumentAlert | m.PersonAlert:
    """Take an alert out of the checks; with an enroller, its face leaves the matcher's gallery too."""
    alert = _existing_alert(session, m.DocumentAlert, alert_id) or _existing_alert(session, m.PersonAlert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    if not alert.withdrawn:  # withdrawing twice changes nothing and keeps the version
        alert.withdrawn = True
        alert.version = _next_alert_version(session)
        if enroller is not None and isinstance(alert, m.PersonAlert) and alert.matcher_subject_id:
            enroller.remove(alert.matcher_subject_id)  # Unavailable fails the withdrawal: try again
        audit(session, caller, "WithdrawAlert", f"alert {alert_id}", f"withdrawn at version {alert.version}",
              reason or "alert administration")
    return alert


def _alert_for_change(session: Session, model, alert_id: str):
    alert = _existing_alert(session, model, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    if alert.withdrawn:
        raise FailedPrecondition(f"alert {alert_id} was withdrawn: issue a new one")
    return alert


def update_document_alert(session: Session, caller: Caller, change: NewDocumentAlert) -> m.DocumentAlert:
    """Change an alert in force (its alert_id names it); a new version, so gate caches take the change."""
    alert = _alert_for_change(session, m.DocumentAlert, change.alert_id)
    norm = document_number(change.number)
    if not norm:
        raise InvalidArgument("document_number", "is required")
    alert.number, alert.number_norm, alert.number_ocr_key = change.number.strip(), norm, ocr_key(change.number)
    alert.doc_type, alert.issuing_state = document_type(change.doc_type), state_code(change.issuing_state)
    alert.reason, alert.handling_instruction, alert.issuing_agency = (
        change.reason, change.handling_instruction, change.issuing_agency)
    alert.valid_from, alert.valid_to = change.valid_from, change.valid_to
    alert.version = _next_alert_version(session)
    audit(session, caller, "UpdateAlert", f"document {alert.issuing_state or '?'} {norm}",
          f"alert {alert.alert_id} {alert.reason.value} at version {alert.version}", "alert administration")
    return alert


def update_person_alert(session: Session, caller: Caller, change: NewPersonAlert) -> m.PersonAlert:
    """Change a person alert in force; its face (matcher_subject_id) stays as enrolled."""
    alert = _alert_for_change(session, m.PersonAlert, change.alert_id)
    if not change.surname.strip():
        raise InvalidArgument("surname", "is required")
    alert.surname, alert.given_names = change.surname.strip(), change.given_names.strip()
    alert.birth_date, alert.nationality = change.birth_date, state_code(change.nationality)
    alert.reason, alert.handling_instruction, alert.issuing_agency = (
        change.reason, change.handling_instruction, change.issuing_agency)
    alert.valid_from, alert.valid_to = change.valid_from, change.valid_to
    alert.version = _next_alert_version(session)
    audit(session, caller, "UpdateAlert", _person_subject(alert.surname, alert.given_names, alert.birth_date),
          f"alert {alert.alert_id} {alert.reason.value} at version {alert.version}", "alert administration")
    return alert


MAX_ALERT_SEARCH = 200


def search_alerts(session: Session, caller: Caller, text: str, today: dt.date, *, in_force_only: bool = True,
                  limit: int = MAX_ALERT_SEARCH) -> tuple[list[m.DocumentAlert], list[m.PersonAlert]]:
    """Alerts whose document number or names contain `text` (all alerts when empty), newest first."""
    words = name_key(text, "").split() if text.strip() else []
    number = document_number(text)
    documents = select(m.DocumentAlert).order_by(m.DocumentAlert.id.desc()).limit(limit)
    persons = select(m.PersonAlert).order_by(m.PersonAlert.id.desc()).limit(limit)
    if in_force_only:
        documents, persons = documents.where(*_in_force(m.DocumentAlert, today)), persons.where(
            *_in_force(m.PersonAlert, today))
    if text.strip():
        documents = documents.where(or_(m.DocumentAlert.number_norm.contains(number, autoescape=True),
                                        m.DocumentAlert.alert_id == text.strip()))
        names = func.upper(m.PersonAlert.surname + " " + m.PersonAlert.given_names)
        persons = persons.where(or_(m.PersonAlert.alert_id == text.strip(),
                                    *[names.contains(word, autoescape=True) for word in words[:1]]))
        for word in words[1:]:
            persons = persons.where(names.contains(word, autoescape=True))
    found = list(session.scalars(documents)), list(session.scalars(persons))
    audit(session, caller, "SearchAlerts", f"alerts matching {text.strip()!r}",
          f"{len(found[0])} document, {len(found[1])} person alert(s)", "alert administration")
    return found


def get_alert(session: Session, caller: Caller, alert_id: str) -> m.DocumentAlert | m.PersonAlert:
    alert = _existing_alert(session, m.DocumentAlert, alert_id) or _existing_alert(session, m.PersonAlert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    audit(session, caller, "GetAlert", f"alert {alert_id}", alert.reason.value, "alert administration")
    return alert


def enrol_alert_face(session: Session, caller: Caller, alert_id: str, photo: bytes,
                     enroller: FaceEnroller) -> m.FaceImage:
    """Enrol the face in an uploaded photo (JPEG or PNG, one face) for a person alert.

    The face's template goes to the matcher's gallery under the alert's
    matcher_subject_id (given one if it had none), so gates searching that
    gallery find the person; the photo is kept at central (as JPEG) to show
    officers beside the candidate. The alert gets a new version.
    """
    from central.evidence import store_image, to_jpeg
    from drivers.face import FaceError, detect_faces, encode_face, load_image

    alert = _alert_for_change(session, m.PersonAlert, alert_id)
    rgb = _decoded_photo(photo, load_image, FaceError)
    faces = detect_faces(rgb)
    if len(faces) != 1:
        raise InvalidArgument("photo", "no face found in it" if not faces else
                              f"{len(faces)} faces in it: upload a photo of this person alone")
    template = encode_face(rgb, faces[0])
    subject = alert.matcher_subject_id or f"PA-{alert.alert_id}"
    image = store_image(session, m.FaceImageKind.ENROLMENT, to_jpeg(rgb), person_alert=alert)
    alert.matcher_subject_id = subject
    alert.version = _next_alert_version(session)
    enroller.enrol(subject, FaceQuery(tuple(float(v) for v in template.vector), template.model,
                                      template.model_version))
    audit(session, caller, "EnrolFace", _person_subject(alert.surname, alert.given_names, alert.birth_date),
          f"alert {alert.alert_id}: face enrolled as {subject}", "alert administration")
    return image


MAX_PHOTO_SIDE = 6000


def _decoded_photo(photo: bytes, load_image, face_error):
    from PIL import Image, UnidentifiedImageError
    import io

    try:  # the header first: a small file may claim a huge picture
        with Image.open(io.BytesIO(photo)) as header:
            if header.format not in ("JPEG", "PNG"):
                raise InvalidArgument("photo", f"a {header.format} image: upload a JPEG or PNG")
            if max(header.size) > MAX_PHOTO_SIDE:
                raise InvalidArgument("photo", f"{header.size[0]}x{header.size[1]} pixels: at most "
                                      f"{MAX_PHOTO_SIDE} a side")
        return load_image(photo)
    except (UnidentifiedImageError, OSError, face_error, Image.DecompressionBombError) as exc:
        raise InvalidArgument("photo", f"not a readable JPEG or PNG image ({exc.__class__.__name__})") from None


def _person_subject(surname: str, given_names: str, birth_date: dt.date | None) -> str:
    return person_subject(surname, given_names, birth_date)


def check_person(session: Session, caller: Caller, identity: Identity, today: dt.date,
                 threshold: float = DEFAULT_THRESHOLD, face: FaceQuery | None = None,
                 matcher: FaceMatcher | None = None) -> list[PersonHit]:
    """central.gate_calls.person_hits, audited in the same transaction."""
    hits = person_hits(session, identity, today, threshold, face, matcher)
    audit(session, caller, "CheckPerson", person_subject(identity.surname, identity.given_names, identity.birth_date),
          f"{len(hits)} hit(s)", PERSON_CHECK_PURPOSE)
    return hits


DEFAULT_DELTA_LIMIT = 1000
MAX_DELTA_LIMIT = 10000


@dataclass(frozen=True)
class AlertDelta:
    # The newest change included: where the next delta starts.
    version: int
    documents: list[m.DocumentAlert]
    persons: list[m.PersonAlert]
    more: bool


def alert_delta(session: Session, caller: Caller, since_version: int, limit: int = 0) -> AlertDelta:
    """Alert changes after since_version in version order, at most `limit` of them.

    Every change has its own version (the counter is incremented per change),
    so cutting after the n-th change never splits a version between pages.
    """
    if since_version < 0:
        raise InvalidArgument("since_version", "must be >= 0")
    if not 0 <= limit <= MAX_DELTA_LIMIT:
        raise InvalidArgument("limit", f"must be within 0..{MAX_DELTA_LIMIT}")
    limit = limit or DEFAULT_DELTA_LIMIT
    # Up to limit+1 of each kind: enough to merge the first limit+1 changes and see whether more remain.
    changes = sorted(
        [*session.scalars(select(m.DocumentAlert).where(m.DocumentAlert.version > since_version)
                          .order_by(m.DocumentAlert.version).limit(limit + 1)),
         *session.scalars(select(m.PersonAlert).where(m.PersonAlert.version > since_version)
                          .order_by(m.PersonAlert.version).limit(limit + 1))],
        key=lambda alert: alert.version)
    more = len(changes) > limit
    changes = changes[:limit]
    if more:
        version = changes[-1].version
    else:
        counter = session.get(m.AlertVersion, 1)
        version = counter.value if counter else 0
    documents = [a for a in changes if isinstance(a, m.DocumentAlert)]
    persons = [a for a in changes if isinstance(a, m.PersonAlert)]
    audit(session, caller, "AlertDelta", f"alerts after version {since_version}",
          f"{len(documents)} document, {len(persons)} person alert(s) up to {version}", "gate alert cache")
    return AlertDelta(version, documents, persons, more)


# ---------------------------------------------------------------- referrals

def open_referral(session: Session, caller: Caller, referral_id: str, crossing_id: str, station_code: str,
                  reasons: list[str], evidence: Evidence | None = None) -> m.Referral:
    """Open a referral once, with the gate's evidence (central.evidence); a retry returns the stored one."""
    existing = session.scalar(select(m.Referral).where(m.Referral.referral_id == referral_id))
    if existing is not None:
        if existing.crossing.crossing_id != crossing_id:
            raise AlreadyExists(f"referral_id {referral_id} belongs to crossing {existing.crossing.crossing_id}")
        return existing
    crossing = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == crossing_id))
    if crossing is None:
        raise NotFound("crossing", crossing_id)
    if crossing.station.code != station_code:
        # The station handing over is the one that recorded the crossing, whoever calls (an officer's
        # certificate names no station): a referral cannot be put in another station's name.
        raise PermissionDenied(f"station_id: crossing {crossing_id} was recorded by station "
                               f"{crossing.station.code!r}, not {station_code!r}")
    station_id, _ = station_ids(session, station_code, crossing.border_point.code)
    referral = m.Referral(referral_id=referral_id, crossing=crossing, station_id=station_id,
                          status=m.ReferralStatus.OPEN, reasons=list(reasons), opened_at=m.utcnow(),
                          watchlist_candidates=[])
    session.add(referral)
    session.flush()
    kept = ""
    if evidence is not None:
        left_out = attach_evidence(session, referral, evidence)
        kept = f", evidence kept{f' ({len(left_out)} part(s) left out)' if left_out else ''}"
    audit(session, caller, "OpenReferral", f"crossing {crossing_id}", f"referral {referral_id} OPEN{kept}",
          "referral")
    return referral


def get_referral(session: Session, caller: Caller, referral_id: str, purpose: str = "referral review") -> m.Referral:
    referral = session.scalar(select(m.Referral).where(m.Referral.referral_id == referral_id))
    if referral is None:
        raise NotFound("referral", referral_id)
    audit(session, caller, "GetReferral", f"referral {referral_id}",
          f"{referral.status.value}, document {referral.crossing.document.issuing_state} "
          f"{referral.crossing.document.number_norm}", purpose)
    return referral


_DECIDABLE = {m.ReferralStatus.OPEN, m.ReferralStatus.ESCALATED}
_DECISIONS = {m.ReferralStatus.ADMITTED, m.ReferralStatus.REFUSED, m.ReferralStatus.ESCALATED}


def record_decision(session: Session, caller: Caller, referral_id: str, officer: str,
                    decision: m.ReferralStatus, reason: str, note: str, *,
                    may_decide_escalated: bool = True) -> m.Referral:
    """Record an officer's decision. An escalated referral waits for someone who may decide it
    (a supervisor: access "DecideEscalated"); `may_decide_escalated` says whether the caller may."""
    if decision not in _DECISIONS:
        raise InvalidArgument("decision", f"must be ADMITTED, REFUSED or ESCALATED, not {decision.value}")
    if decision is m.ReferralStatus.REFUSED and not reason.strip():
        raise InvalidArgument("reason", "a refusal must state its ground")
    referral = session.scalar(select(m.Referral).where(m.Referral.referral_id == referral_id))
    if referral is None:
        raise NotFound("referral", referral_id)
    last = referral.decisions[-1] if referral.decisions else None
    if last is not None and (last.officer, last.decision, last.reason, last.note) == (officer, decision, reason, note):
        return referral  # a retried call: the decision is already recorded
    if referral.status not in _DECIDABLE:
        raise FailedPrecondition(f"referral {referral_id} is already {referral.status.value}")
    if referral.status is m.ReferralStatus.ESCALATED and not may_decide_escalated:
        raise PermissionDenied(f"referral {referral_id} was escalated: a supervisor decides it")
    session.add(m.OfficerDecision(referral=referral, officer=officer, decision=decision, reason=reason,
                                  note=note, decided_at=m.utcnow()))
    referral.status = decision
    session.flush()
    audit(session, caller, "RecordDecision", f"referral {referral_id}", f"{decision.value} by {officer}",
          "referral decision")
    return referral


MAX_REFERRAL_LIST = 1000


def list_referrals(session: Session, caller: Caller, status: m.ReferralStatus | None, border_point: str,
                   limit: int, *, newest_first: bool = False) -> list[m.Referral]:
    """Referrals in a status (None: still waiting, OPEN or ESCALATED), oldest first (or newest first)."""
    if not 0 <= limit <= MAX_REFERRAL_LIST:
        raise InvalidArgument("limit", f"must be within 0..{MAX_REFERRAL_LIST}")
    statuses = [status] if status else [m.ReferralStatus.OPEN, m.ReferralStatus.ESCALATED]
    order = ((m.Referral.opened_at.desc(), m.Referral.id.desc()) if newest_first
             else (m.Referral.opened_at, m.Referral.id))
    query = select(m.Referral).where(m.Referral.status.in_(statuses)).order_by(*order).limit(limit or MAX_HISTORY)
    if border_point:
        query = query.join(m.Crossing, m.Referral.crossing_id == m.Crossing.id).join(
            m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id).where(m.BorderPoint.code == border_point)
    referrals = list(session.scalars(query))
    audit(session, caller, "ListReferrals",
          f"referrals {'/'.join(s.value for s in statuses)} at {border_point or 'all border points'}",
          f"{len(referrals)} referral(s)", "referral queue")
    return referrals


def get_crossing(session: Session, caller: Caller, crossing_id: str) -> m.Crossing:
    crossing = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == crossing_id))
    if crossing is None:
        raise NotFound("crossing", crossing_id)
    audit(session, caller, "GetCrossing", f"crossing {crossing_id}",
          f"document {crossing.document.issuing_state} {crossing.document.number_norm}", "crossing review")
    return crossing


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
    audit(session, caller, "GetTravellerHistory", _person_subject(surname, given_names, birth_date),
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



# ---------------------------------------------------------------- audit log

def read_audit(session: Session, caller: Caller, limit: int, subject_contains: str = "", *, user: str = "",
               action: str = "") -> list[m.AuditEntry]:
    """The newest audit entries, optionally only those whose subject contains a text, of one user
    or of one action.

    The audit log names whose data was read, so reading it is audited as well.
    """
    if not 1 <= limit <= 10000:
        raise InvalidArgument("limit", "must be within 1..10000")
    query = select(m.AuditEntry).order_by(m.AuditEntry.id.desc()).limit(limit)
    if subject_contains:
        query = query.where(m.AuditEntry.subject.contains(subject_contains, autoescape=True))
    if user:
        query = query.where(m.AuditEntry.user_name == user)
    if action:
        query = query.where(m.AuditEntry.action == action)
    entries = list(session.scalars(query))
    filters = f"subject containing {subject_contains!r}" + (f", user {user!r}" if user else "") + (
        f", action {action!r}" if action else "")
    audit(session, caller, "ReadAuditLog", f"audit entries with {filters}", f"{len(entries)} entries",
          "audit review")
    return entries


# ---------------------------------------------------------------- statistics

def statistics(session: Session, caller: Caller, by: tuple[str, ...], period: str, start: dt.date,
               end: dt.date):
    """The suppressed statistics table (central.statistics.Table); the query is audited."""
    from central.statistics import statistics as tabulate

    table = tabulate(session, by, period, start, end)
    hidden = sum(c.suppressed for c in table.cells)
    audit(session, caller, "Statistics", f"crossings by {','.join(by) or '-'} per {period} {start}..{end}",
          f"{len(table.cells)} cell(s), {hidden} suppressed", "statistics")
    return table


# ---------------------------------------------------------------- retention and export

def purge(session: Session, caller: Caller, today: dt.date, policy, dry_run: bool = False):
    """Purge by the retention policy (central.retention); audited, dry runs included."""
    from central.retention import purge as run_purge

    report = run_purge(session, today, policy, dry_run)
    audit(session, caller, "Purge", f"personal data before {report.personal_before}, evidence before "
          f"{report.evidence_before}", ("dry run: " if dry_run else "") + report.summary(), "retention")
    return report


def export_pseudonymised(session: Session, caller: Caller, key: bytes, start: dt.date | None,
                         end: dt.date | None) -> list:
    from central.pseudonym import export

    rows = list(export(session, key, start, end))
    audit(session, caller, "ExportPseudonymised", f"crossings {start or '-'}..{end or '-'}",
          f"{len(rows)} row(s)", "statistics: pseudonymised export")
    return rows


def list_overstays(session: Session, caller: Caller, today: dt.date, default_days: int, include_exited: bool):
    """Overstays (central.overstay.Stay) measured to today; audited."""
    from central.overstay import overstays

    found = overstays(session, today, default_days, include_exited)
    audit(session, caller, "ListOverstays", f"stays measured to {today}", f"{len(found)} overstay(s)",
          "overstay review")
    return found
