"""The alert lists: document and person alerts added, changed, withdrawn, searched and checked,
faces enrolled for them, and the deltas gates cache. Every operation runs in the caller's
transaction and writes its audit row there.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from central.access import scope
from central.access.audit import Caller, audit
from central.alerts.face_matcher import FaceEnroller, FaceMatcher, FaceQuery
from central.database import models as m
from central.errors import FailedPrecondition, InvalidArgument, NotFound
from central.records.gate_calls import (
    DOCUMENT_CHECK_PURPOSE,
    PERSON_CHECK_PURPOSE,
    DocumentHit,
    PersonHit,
    document_hits,
    document_subject,
    person_hits,
    person_subject,
)
from drivers.alertmatch.normalize import document_number, document_type, name_key, ocr_key, state_code
from drivers.alertmatch.persons import DEFAULT_MIN_SIMILARITY, Identity


def _in_force(model, today: dt.date):
    return (
        model.withdrawn.is_(False),
        or_(model.valid_from.is_(None), model.valid_from <= today),
        or_(model.valid_to.is_(None), model.valid_to >= today),
    )


# ---------------------------------------------------------------- document alerts

def check_document(session: Session, caller: Caller, number: str, doc_type: str, issuing_state: str,
                   today: dt.date) -> list[DocumentHit]:
    """central.records.gate_calls.document_hits, audited in the same transaction."""
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
    category: m.DocumentAlertCategory | None = None
    # Need to know (central.access.scope): checked by scope.parse_handling and parse_classification.
    handling_code: str = "P"
    handling_conditions: str = ""
    classification: str = scope.DEFAULT_CLEARANCE


def document_category(reason: m.DocumentAlertReason,
                      category: m.DocumentAlertCategory | None) -> m.DocumentAlertCategory | None:
    """The alert's category: the one given, which must agree with the reason, or the reason's own
    (None for STOLEN, which does not say whether the document was blank or issued)."""
    if category is None:
        return None if reason is m.DocumentAlertReason.STOLEN else m.DocumentAlertCategory(reason.value)
    if m.CATEGORY_REASONS[category] is not reason:
        raise InvalidArgument("category", f"{category.value} is not a document listed as {reason.value}")
    return category


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
        withdrawn=False, created_at=m.utcnow(), category=document_category(new.reason, new.category),
        **_ownership(session, caller, new),
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
    notice: m.PersonNotice | None = None
    notice_kind: m.NoticeKind | None = None
    handling_code: str = "P"
    handling_conditions: str = ""
    classification: str = scope.DEFAULT_CLEARANCE


def person_notice(new: NewPersonAlert) -> tuple[m.PersonNotice | None, m.NoticeKind | None]:
    """The notice and its kind as stored: a notice without a kind is a notice; a kind needs a notice."""
    if new.notice is None:
        if new.notice_kind is not None:
            raise InvalidArgument("notice_kind", f"{new.notice_kind.value} of no notice: give the notice's colour")
        return None, None
    return new.notice, new.notice_kind or m.NoticeKind.NOTICE


def _ownership(session: Session, caller: Caller, new: NewDocumentAlert | NewPersonAlert) -> dict:
    """The owner is the issuing caller's agency (never a field of the request); handling as checked."""
    code, conditions = scope.parse_handling(new.handling_code, new.handling_conditions)
    mine, classification = scope.scope_of(session, caller), scope.parse_classification(new.classification)
    if scope.LEVELS.index(classification) > mine.level:
        raise scope.NeedToKnowDenied(f"{type(new).__name__.replace('New', 'Add')}: classification {classification} "
                                     f"is above your clearance {mine.clearance}")
    return dict(owning_agency=mine.agency, handling_code=code, handling_conditions=conditions,
                classification=classification)


def _require_owner(session: Session, caller: Caller, action: str, alert) -> None:
    """Only the owning agency's principals change or withdraw an alert (an unowned one: anyone permitted)."""
    mine = scope.scope_of(session, caller)
    if alert.owning_agency and alert.owning_agency != mine.agency:
        raise scope.NeedToKnowDenied(f"{action}: alert {alert.alert_id} belongs to {alert.owning_agency}, "
                                     f"not to {mine.agency or 'a principal of no agency'}")
    scope.require_full(action, f"alert {alert.alert_id}", scope.alert_sight(mine, alert))


def add_person_alert(session: Session, caller: Caller, new: NewPersonAlert) -> m.PersonAlert:
    """Issue a person alert; idempotent on a client-chosen alert_id."""
    if new.alert_id and (existing := _existing_alert(session, m.PersonAlert, new.alert_id)):
        return existing
    notice, notice_kind = person_notice(new)
    alert = m.PersonAlert(
        alert_id=new.alert_id or str(uuid.uuid4()), surname=new.surname.strip(),
        given_names=new.given_names.strip(), birth_date=new.birth_date,
        nationality=state_code(new.nationality), reason=new.reason,
        handling_instruction=new.handling_instruction, issuing_agency=new.issuing_agency,
        valid_from=new.valid_from, valid_to=new.valid_to, matcher_subject_id=new.matcher_subject_id.strip(),
        version=_next_alert_version(session), withdrawn=False, created_at=m.utcnow(),
        notice=notice, notice_kind=notice_kind,
        name_mrz=name_key(new.surname, new.given_names)[:m.NAME_MRZ_LENGTH],
        **_ownership(session, caller, new),
    )
    session.add(alert)
    audit(session, caller, "AddPersonAlert", person_subject(alert.surname, alert.given_names, alert.birth_date),
          f"alert {alert.alert_id} {new.reason.value}", "alert administration")
    return alert


def withdraw_alert(session: Session, caller: Caller, alert_id: str, reason: str,
                   enroller: FaceEnroller | None = None) -> m.DocumentAlert | m.PersonAlert:
    """Take an alert out of the checks; with an enroller, its face leaves the matcher's gallery too."""
    alert = _existing_alert(session, m.DocumentAlert, alert_id) or _existing_alert(session, m.PersonAlert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    _require_owner(session, caller, "WithdrawAlert", alert)
    if not alert.withdrawn:  # withdrawing twice changes nothing and keeps the version
        alert.withdrawn = True
        alert.version = _next_alert_version(session)
        if enroller is not None and isinstance(alert, m.PersonAlert) and alert.matcher_subject_id:
            enroller.remove(alert.matcher_subject_id)  # Unavailable fails the withdrawal: try again
        audit(session, caller, "WithdrawAlert", f"alert {alert_id}", f"withdrawn at version {alert.version}",
              reason or "alert administration")
    return alert


def _alert_for_change(session: Session, caller: Caller, model, alert_id: str, action: str):
    alert = _existing_alert(session, model, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    _require_owner(session, caller, action, alert)
    if alert.withdrawn:
        raise FailedPrecondition(f"alert {alert_id} was withdrawn: issue a new one")
    return alert


def update_document_alert(session: Session, caller: Caller, change: NewDocumentAlert) -> m.DocumentAlert:
    """Change an alert in force (its alert_id names it); a new version, so gate caches take the change."""
    alert = _alert_for_change(session, caller, m.DocumentAlert, change.alert_id, "UpdateAlert")
    code, conditions = scope.parse_handling(change.handling_code, change.handling_conditions)
    alert.handling_code, alert.handling_conditions = code, conditions
    alert.classification = scope.parse_classification(change.classification)
    norm = document_number(change.number)
    if not norm:
        raise InvalidArgument("document_number", "is required")
    alert.number, alert.number_norm, alert.number_ocr_key = change.number.strip(), norm, ocr_key(change.number)
    alert.doc_type, alert.issuing_state = document_type(change.doc_type), state_code(change.issuing_state)
    alert.reason, alert.handling_instruction, alert.issuing_agency = (
        change.reason, change.handling_instruction, change.issuing_agency)
    alert.category = document_category(change.reason, change.category)
    alert.valid_from, alert.valid_to = change.valid_from, change.valid_to
    alert.version = _next_alert_version(session)
    audit(session, caller, "UpdateAlert", f"document {alert.issuing_state or '?'} {norm}",
          f"alert {alert.alert_id} {alert.reason.value} at version {alert.version}", "alert administration")
    return alert


def update_person_alert(session: Session, caller: Caller, change: NewPersonAlert) -> m.PersonAlert:
    """Change a person alert in force; its face (matcher_subject_id) stays as enrolled."""
    alert = _alert_for_change(session, caller, m.PersonAlert, change.alert_id, "UpdateAlert")
    code, conditions = scope.parse_handling(change.handling_code, change.handling_conditions)
    alert.handling_code, alert.handling_conditions = code, conditions
    alert.classification = scope.parse_classification(change.classification)
    if not change.surname.strip():
        raise InvalidArgument("surname", "is required")
    alert.surname, alert.given_names = change.surname.strip(), change.given_names.strip()
    alert.name_mrz = name_key(change.surname, change.given_names)[:m.NAME_MRZ_LENGTH]
    alert.birth_date, alert.nationality = change.birth_date, state_code(change.nationality)
    alert.reason, alert.handling_instruction, alert.issuing_agency = (
        change.reason, change.handling_instruction, change.issuing_agency)
    alert.notice, alert.notice_kind = person_notice(change)
    alert.valid_from, alert.valid_to = change.valid_from, change.valid_to
    alert.version = _next_alert_version(session)
    audit(session, caller, "UpdateAlert", person_subject(alert.surname, alert.given_names, alert.birth_date),
          f"alert {alert.alert_id} {alert.reason.value} at version {alert.version}", "alert administration")
    return alert


MAX_ALERT_SEARCH = 200


def search_alerts(session: Session, caller: Caller, text: str, today: dt.date, *, in_force_only: bool = True,
                  limit: int = MAX_ALERT_SEARCH) -> tuple[list[m.DocumentAlert], list[m.PersonAlert]]:
    """Alerts whose document number or names contain `text` (all alerts when empty), newest first.

    Names are compared in MRZ letters on both sides, so a name typed in Cyrillic, Greek or Arabic
    script finds the alert written in Latin letters, and the reverse."""
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
        names = m.PersonAlert.name_mrz
        persons = persons.where(or_(m.PersonAlert.alert_id == text.strip(),
                                    *[names.contains(word, autoescape=True) for word in words[:1]]))
        for word in words[1:]:
            persons = persons.where(names.contains(word, autoescape=True))
    mine = scope.scope_of(session, caller)
    every = list(session.scalars(documents)), list(session.scalars(persons))
    found = tuple([a for a in alerts if scope.alert_sight(mine, a)[0] is scope.Sight.FULL] for alerts in every)
    withheld = len(every[0]) + len(every[1]) - len(found[0]) - len(found[1])
    audit(session, caller, "SearchAlerts", f"alerts matching {text.strip()!r}",
          f"{len(found[0])} document, {len(found[1])} person alert(s)"
          + (f"; {withheld} withheld (need to know)" if withheld else ""), "alert administration")
    return found


def get_alert(session: Session, caller: Caller, alert_id: str) -> m.DocumentAlert | m.PersonAlert:
    alert = _existing_alert(session, m.DocumentAlert, alert_id) or _existing_alert(session, m.PersonAlert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    scope.require_full("GetAlert", f"alert {alert_id}", scope.alert_sight(scope.scope_of(session, caller), alert))
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
    from central.records.evidence import store_image, to_jpeg
    from drivers.face import FaceError, detect_faces, encode_face, load_image

    alert = _alert_for_change(session, caller, m.PersonAlert, alert_id, "EnrolFace")
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
    audit(session, caller, "EnrolFace", person_subject(alert.surname, alert.given_names, alert.birth_date),
          f"alert {alert.alert_id}: face enrolled as {subject}", "alert administration")
    return image


MAX_PHOTO_SIDE = 6000


def _decoded_photo(photo: bytes, load_image, face_error):
    import io

    from PIL import Image, UnidentifiedImageError

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


def check_person(session: Session, caller: Caller, identity: Identity, today: dt.date,
                 threshold: float = DEFAULT_MIN_SIMILARITY, face: FaceQuery | None = None,
                 matcher: FaceMatcher | None = None) -> list[PersonHit]:
    """central.records.gate_calls.person_hits, audited in the same transaction."""
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
    # Alerts the caller's agency may not hold (central.access.scope): sent as withdrawals, with no content,
    # so a copy that held them before (an alert whose handling changed) drops them.
    withheld: frozenset[str] = frozenset()


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
    mine = scope.scope_of(session, caller)
    withheld = frozenset(a.alert_id for a in changes if scope.alert_sight(mine, a)[0] is not scope.Sight.FULL)
    audit(session, caller, "AlertDelta", f"alerts after version {since_version}",
          f"{len(documents)} document, {len(persons)} person alert(s) up to {version}"
          + (f"; {len(withheld)} withheld (need to know)" if withheld else ""), "gate alert cache")
    return AlertDelta(version, documents, persons, more, withheld)
