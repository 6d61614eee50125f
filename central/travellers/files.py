"""Traveller files: opened at a third-country national's first entry, checked at every later crossing.

A file is the traveller's identity and documents (the `travellers` and
`travel_documents` rows central already joins crossings by), their live face
and its template (sealed at rest, searched 1:N under the file's id in the
matcher's travellers gallery), and their entries, exits and refusals (the
crossings and referrals). Here:

- check_file: before the gate decides. Exempt travellers (central.stays.exemption)
  have no file; a traveller with one has the live face verified 1:1 against its
  template, here at central (a matcher outage does not stop returning travellers);
  one without has the live face searched in the gallery, where a strong hit on
  another identity's file is a possible multiple identity.
- enrol: after the crossing is recorded, open the file, searching again (two gates may
  enrol the same face at once). The template goes into the gallery inside the
  transaction, before it commits: a matcher that fails leaves no file, and the
  gate's outbox sends the enrolment again.

A search that cannot be done raises errors.Unavailable: the gate then refers,
and nobody is enrolled unchecked. Every call is audited.
"""
from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.alerts.face_matcher import FaceQuery
from central.database import models as m
from central.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from central.records import evidence
from central.records.gate_calls import DocumentData, TravellerData, person_subject
from central.stays.regime import StayRules
from common.sealing import Sealer, SealError, is_sealed
from drivers import face_score
from drivers.alertmatch.normalize import document_number, name_key, state_code

# The matcher gallery of the files' faces (created by an administrator with the gates' face model).
TRAVELLERS_GALLERY = "travellers"
# A 1:N hit this sure (distance <= 0.55 on drivers.face_score's scale) is a possible multiple identity.
DUPLICATE_MIN_SCORE = 0.73
# The 1:1 verification's threshold against the file's template: the gate's against the chip photo.
VERIFY_MIN_SCORE = face_score.DEFAULT_MIN_SCORE
# File ids derive from the crossing that opened the file: a retried enrolment replaces, never adds.
_FILE_NAMESPACE = uuid.UUID("6f1c2a0e-4d1b-5c57-9d0e-7a3b8e2f1c44")
PURPOSE = "traveller file"


class FileStatus(enum.Enum):
    EXEMPT = "EXEMPT"
    NEW = "NEW"
    VERIFIED = "VERIFIED"
    MISMATCH = "MISMATCH"
    DUPLICATE = "DUPLICATE"


@dataclass(frozen=True)
class FileCandidate:
    file_id: str
    score: float


@dataclass(frozen=True)
class FileCheck:
    status: FileStatus
    reason: str
    file_id: str = ""
    score: float | None = None
    candidates: tuple[FileCandidate, ...] = ()
    crossings: int = 0
    opened_at: dt.datetime | None = None


@dataclass(frozen=True)
class Enrolled:
    file_id: str  # "" when no file was opened
    already_enrolled: bool
    reason: str = ""


class TravellerGallery(Protocol):
    """What the files need of the matcher (central.alerts.matcher_client.GrpcFaceMatcher on the travellers
    gallery implements it): search and enrol, errors.Unavailable when it fails."""

    def search(self, face: FaceQuery): ...

    def enrol(self, subject_id: str, face: FaceQuery) -> None: ...


def _traveller_id(session: Session, document: DocumentData, person: TravellerData) -> int | None:
    """The traveller already known by this document, else by names, birth date and nationality."""
    found = session.scalar(select(m.TravelDocument.traveller_id).where(
        m.TravelDocument.issuing_state == state_code(document.issuing_state),
        m.TravelDocument.number_norm == document_number(document.number)))
    if found is not None or person.birth_date is None:
        return found
    return session.scalar(select(m.Traveller.id).where(
        m.Traveller.name_key == name_key(person.surname, person.given_names),
        m.Traveller.birth_date == person.birth_date,
        m.Traveller.nationality == state_code(person.nationality)).order_by(m.Traveller.id).limit(1))


def _file_of(session: Session, traveller_id: uuid.UUID | None) -> m.TravellerFile | None:
    if traveller_id is None:
        return None
    return session.scalar(select(m.TravellerFile).where(m.TravellerFile.traveller_id == traveller_id))


def _crossings(session: Session, traveller_id: uuid.UUID) -> int:
    return session.scalar(select(func.count(m.Crossing.id)).where(m.Crossing.traveller_id == traveller_id)) or 0


def _vector(face: FaceQuery) -> np.ndarray:
    vector = np.asarray(face.vector, dtype=np.float32)
    if vector.ndim != 1 or not 0 < vector.size <= 4096 or not np.all(np.isfinite(vector)):
        raise InvalidArgument("face.vector", "must be 1 to 4096 finite floats")
    if not face.model:
        raise InvalidArgument("face.model", "is required")
    return vector


def _context(file_id: str) -> str:
    # The file's own id: a sealed template copied into another row does not open there.
    return f"traveller_files:{file_id}"


def _seal(session: Session, file_id: str, vector: np.ndarray) -> bytes:
    sealer: Sealer | None = session.info.get("sealer")
    raw = vector.astype("<f4").tobytes()
    return sealer.seal(raw, _context(file_id)) if sealer is not None else raw


def template_of(session: Session, file: m.TravellerFile) -> np.ndarray:
    """The file's enrolled template, opened when sealed; SealError when its key is not this database's."""
    data = file.template
    if is_sealed(data):
        sealer: Sealer | None = session.info.get("sealer")
        if sealer is None:
            raise SealError(f"traveller file {file.file_id} is sealed and central was started without its key file")
        data = sealer.open(data, _context(file.file_id))
    return np.frombuffer(data, dtype="<f4")


def reseal_templates(session: Session, batch: int = 500) -> int:
    """Seal under the current key up to `batch` file templates kept in clear or under an older key; how
    many (as central.records.evidence.reseal_images does for the face images; run until 0)."""
    sealer: Sealer | None = session.info.get("sealer")
    if sealer is None:
        raise SealError("no key file: nothing to seal with")
    prefix = sealer.current_prefix
    stale = select(m.TravellerFile).where(func.substr(m.TravellerFile.template, 1, len(prefix)) != prefix) \
        .order_by(m.TravellerFile.id).limit(batch)
    rows = list(session.scalars(stale))
    for file in rows:
        file.template = _seal(session, file.file_id, template_of(session, file))
    return len(rows)


def _duplicates(session: Session, gallery: TravellerGallery | None, face: FaceQuery,
                traveller_id: uuid.UUID | None) -> tuple[FileCandidate, ...]:
    """Other identities' files whose face strongly matches, best first; Unavailable when not searchable."""
    if gallery is None:
        raise Unavailable("no matcher is configured for the travellers gallery: duplicates cannot be searched")
    strong = {c.subject_id: c.score for c in gallery.search(face) if c.score >= DUPLICATE_MIN_SCORE}
    if not strong:
        return ()
    # A subject with no file (a template whose file was purged, or never committed) is no identity.
    owners = dict(session.execute(select(m.TravellerFile.file_id, m.TravellerFile.traveller_id)
                                  .where(m.TravellerFile.file_id.in_(list(strong)))).all())
    found = [FileCandidate(file_id, round(float(score), 4)) for file_id, score in strong.items()
             if file_id in owners and owners[file_id] != traveller_id]
    return tuple(sorted(found, key=lambda c: -c.score))


def check_file(session: Session, caller: Caller, document: DocumentData, person: TravellerData, face: FaceQuery,
               gallery: TravellerGallery | None, rules: StayRules) -> FileCheck:
    """The traveller's file as the gate needs it before deciding (see the module's docstring); audited."""
    live = _vector(face)
    result = _check(session, document, person, face, live, gallery, rules)
    audit(session, caller, "CheckTravellerFile", person_subject(person.surname, person.given_names, person.birth_date),
          f"{result.status.value} {result.file_id}".strip(), PURPOSE)
    return result


def _check(session: Session, document: DocumentData, person: TravellerData, face: FaceQuery, live: np.ndarray,
           gallery: TravellerGallery | None, rules: StayRules) -> FileCheck:
    reason = rules.exemption(person.nationality, document.doc_type)
    if reason is not None:
        return FileCheck(FileStatus.EXEMPT, reason)
    traveller_id = _traveller_id(session, document, person)
    file = _file_of(session, traveller_id)
    if file is None:
        candidates = _duplicates(session, gallery, face, traveller_id)
        if candidates:
            return FileCheck(FileStatus.DUPLICATE, "possible multiple identity: the live face matches "
                             + ", ".join(f"file {c.file_id} (score {c.score:.2f})" for c in candidates),
                             candidates=candidates)
        return FileCheck(FileStatus.NEW, "no file yet and no other identity with this face: a file is opened")
    history = dict(file_id=file.file_id, crossings=_crossings(session, file.traveller_id), opened_at=file.created_at)
    if (face.model, face.model_version) != (file.template_model, file.template_model_version):
        return FileCheck(FileStatus.MISMATCH, f"file {file.file_id} holds a {file.template_model} "
                         f"{file.template_model_version} template, the live face is {face.model} "
                         f"{face.model_version}: not comparable", **history)
    enrolled = template_of(session, file)
    if enrolled.shape != live.shape:
        return FileCheck(FileStatus.MISMATCH, f"file {file.file_id}: templates of different lengths", **history)
    score = round(face_score.score(float(np.linalg.norm(enrolled - live))), 4)
    seen = f"file {file.file_id} opened {file.created_at:%Y-%m-%d}, {history['crossings']} crossing(s) recorded"
    if score >= VERIFY_MIN_SCORE:
        return FileCheck(FileStatus.VERIFIED, f"{seen}; live face matches the enrolled face (score {score:.2f})",
                         score=score, **history)
    return FileCheck(FileStatus.MISMATCH, f"{seen}; live face does not match the enrolled face (score {score:.2f}, "
                     f"match at >= {VERIFY_MIN_SCORE:.2f})", score=score, **history)


def enrol(session: Session, caller: Caller, crossing_id: str, face: FaceQuery, live_jpeg: bytes,
          gallery: TravellerGallery | None, rules: StayRules) -> Enrolled:
    """Open the file of the traveller of a recorded crossing (see the module's docstring); audited."""
    live = _vector(face)
    crossing = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == crossing_id))
    if crossing is None:
        raise NotFound(f"crossing {crossing_id}")
    if caller.station and crossing.station.code != caller.station:
        raise FailedPrecondition(f"crossing {crossing_id} was recorded by another station")
    traveller, document = crossing.traveller, crossing.document
    subject = person_subject(traveller.surname, traveller.given_names, traveller.birth_date)
    result = _enrol(session, caller, crossing, live, face, live_jpeg, gallery,
                    rules.exemption(traveller.nationality, document.doc_type))
    audit(session, caller, "EnrolTraveller", subject,
          f"file {result.file_id} {'already open' if result.already_enrolled else 'opened'}" if result.file_id
          else f"no file: {result.reason}", PURPOSE)
    return result


def _enrol(session: Session, caller: Caller, crossing: m.Crossing, live: np.ndarray, face: FaceQuery,
           live_jpeg: bytes, gallery: TravellerGallery | None, exempt: str | None) -> Enrolled:
    if exempt is not None:
        return Enrolled("", False, exempt)
    existing = _file_of(session, crossing.traveller_id)
    if existing is not None:
        return Enrolled(existing.file_id, True)
    try:
        evidence.jpeg_size(live_jpeg)
    except evidence.ImageRefused as exc:
        raise InvalidArgument("live_capture_jpeg", str(exc)) from None
    candidates = _duplicates(session, gallery, face, crossing.traveller_id)
    if candidates:
        return Enrolled("", False, "possible multiple identity: " + ", ".join(
            f"file {c.file_id} (score {c.score:.2f})" for c in candidates))
    file_id = str(uuid.uuid5(_FILE_NAMESPACE, crossing.crossing_id))
    file = m.TravellerFile(file_id=file_id, traveller_id=crossing.traveller_id, template=_seal(session, file_id, live),
                           template_model=face.model[:64], template_model_version=face.model_version[:64],
                           first_crossing_id=crossing.id, border_point_id=crossing.border_point_id,
                           created_by_station=caller.station[:64], created_by_user=caller.user[:64],
                           created_at=m.utcnow(), overstay=_overstayed(session, crossing.traveller_id))
    session.add(file)
    session.flush()
    evidence.store_image(session, m.FaceImageKind.LIVE, live_jpeg, traveller_file=file)
    # Last, before the commit: a matcher that fails (Unavailable) rolls the file back.
    gallery.enrol(file_id, face)
    return Enrolled(file_id, False)


@dataclass(frozen=True)
class FileView:
    file: m.TravellerFile
    documents: list[m.TravelDocument]
    crossings: list[m.Crossing]
    referrals: list[m.Referral]
    live_face: m.FaceImage | None


MAX_FILE_CROSSINGS = 100


def read_file(session: Session, caller: Caller, file_id: str, purpose: str = "traveller file review") -> FileView:
    """One file with its documents, crossings (newest first) and referrals; the read is audited."""
    file = session.scalar(select(m.TravellerFile).where(m.TravellerFile.file_id == file_id))
    if file is None:
        raise NotFound(f"traveller file {file_id}")
    documents = list(session.scalars(select(m.TravelDocument).where(
        m.TravelDocument.traveller_id == file.traveller_id).order_by(m.TravelDocument.id)))
    crossings = list(session.scalars(select(m.Crossing).where(m.Crossing.traveller_id == file.traveller_id)
                                     .order_by(m.Crossing.occurred_at.desc(), m.Crossing.id.desc())
                                     .limit(MAX_FILE_CROSSINGS)))
    referrals = list(session.scalars(select(m.Referral).where(
        m.Referral.crossing_id.in_([c.id for c in crossings])).order_by(m.Referral.opened_at.desc())))
    live_face = session.scalar(select(m.FaceImage).where(m.FaceImage.traveller_file_id == file.id)
                               .order_by(m.FaceImage.id.desc()).limit(1))
    traveller = file.traveller
    audit(session, caller, "GetTravellerFile", person_subject(traveller.surname, traveller.given_names,
                                                              traveller.birth_date),
          f"file {file.file_id}: {len(crossings)} crossing(s)", purpose)
    return FileView(file, documents, crossings, referrals, live_face)


def _overstayed(session: Session, traveller_id: uuid.UUID) -> bool:
    """Whether the traveller's stays already record an overstay (or an alert for one): the file keeps it."""
    return session.scalar(select(m.StayRecord.id).where(
        m.StayRecord.traveller_id == traveller_id,
        (m.StayRecord.overstay_days > 0) | m.StayRecord.alerted_on.is_not(None)).limit(1)) is not None
