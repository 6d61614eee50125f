"""Fingerprints in traveller files: enrolled at a counter desk, verified at gates, read by officers.

- enrol_fingers: the fingers of a 4-4-2 slap (four, or all ten) taken at a desk, into the file of the
  traveller of a crossing that desk recorded. The fingers are searched 1:N first in the matcher's finger
  gallery (another identity's file holding them is a possible multiple identity: nothing is enrolled);
  a traveller without a file gets one opened with the live face (central.travellers.files.enrol). Each
  finger's ISO/IEC 19794-2 record and WSQ image are sealed at rest (common.sealing) under a context naming
  the file and the position; the minutiae go into the finger gallery last, before the commit, so a matcher
  that fails leaves nothing enrolled.
- verify_fingers: one or two live fingers 1:1 against the file's, here at central with
  drivers.fingerprint.compare at its shipped threshold, every finger to match (as the gate does against the
  chip's DG3). Central does it, not the gate: the enrolled templates never leave central, so a gate (a
  machine in a public hall) holds no one's fingerprints and a stolen gate certificate cannot harvest them;
  and a matcher outage does not stop returning travellers, as for the face.
- read_fingers: what an officer sees (positions, quality, minutiae, who enrolled): no template, no image.

Every call is audited, under the authenticated caller (a desk's officer is its session's).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.alerts.face_matcher import FaceQuery
from central.database import models as m
from central.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from central.records.gate_calls import person_subject
from central.stays.regime import StayRules
from central.travellers import files
from common.sealing import Sealer, SealError, is_sealed
from drivers.fingerprint import compare, iso19794_2, wsq
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import Template

# The matcher's finger gallery of the files' fingers (created by an administrator: CreateFingerGallery).
FINGERS_GALLERY = "traveller-fingers"
PURPOSE = "traveller file fingerprints"
MAX_WSQ = 2 * 1024 * 1024
MAX_RECORD = 64 * 1024
# A template with fewer minutiae cannot be compared (drivers.fingerprint.compare.MIN_MINUTIAE).
MIN_MINUTIAE = compare.MIN_MINUTIAE
MAX_VERIFY_FINGERS = 2
# ISO/IEC 19794 finger positions, for officers' pages.
FINGER_NAMES = {1: "right thumb", 2: "right index", 3: "right middle", 4: "right ring", 5: "right little",
                6: "left thumb", 7: "left index", 8: "left middle", 9: "left ring", 10: "left little"}


@dataclass(frozen=True)
class CapturedFinger:
    position: int
    iso19794_2: bytes
    wsq: bytes
    quality: int


@dataclass(frozen=True)
class LiveFinger:
    position: int
    iso19794_2: bytes


@dataclass(frozen=True)
class FingerDuplicate:
    file_id: str
    score: float


@dataclass(frozen=True)
class FingersEnrolled:
    file_id: str                       # "" when nothing was enrolled
    positions: tuple[int, ...] = ()
    file_opened: bool = False
    reason: str = ""
    duplicates: tuple[FingerDuplicate, ...] = ()


@dataclass(frozen=True)
class FingerComparison:
    position: int
    score: float
    match: bool


@dataclass(frozen=True)
class FingersVerified:
    status: str                        # VERIFIED, MISMATCH or NO_FINGERPRINTS
    reason: str
    fingers: tuple[FingerComparison, ...] = ()


class FingerGallery(Protocol):
    """What the files need of the matcher's finger gallery (central.travellers.finger_gallery implements
    it): search and enrol, errors.Unavailable when it fails."""

    def search(self, fingers: list[tuple[int, bytes]]) -> list[tuple[str, float]]: ...

    def enrol(self, subject_id: str, fingers: list[tuple[int, bytes]]) -> None: ...


def _position(field: str, value: int) -> int:
    if not 1 <= value <= 10:
        raise InvalidArgument(field, f"finger position {value} is not 1-10")
    return value


def parse_template(field: str, record: bytes, position: int) -> Template:
    """The one view of an ISO/IEC 19794-2 record, for this position; InvalidArgument naming the field."""
    if len(record) > MAX_RECORD:
        raise InvalidArgument(field, f"{len(record)} bytes, at most {MAX_RECORD}")
    try:
        views = iso19794_2.decode(record)
    except FingerprintError as exc:
        raise InvalidArgument(field, str(exc)) from None
    if len(views) != 1:
        raise InvalidArgument(field, f"holds {len(views)} finger views, one is required")
    view = views[0]
    if view.position not in (0, position):
        raise InvalidArgument(field, f"the record's view is finger {view.position}, not {position}")
    if len(view.minutiae) < MIN_MINUTIAE:
        raise InvalidArgument(field, f"{len(view.minutiae)} minutiae, at least {MIN_MINUTIAE} are needed")
    return view


def check_captured(fingers: list[CapturedFinger]) -> list[Template]:
    """The fingers' templates, every field checked; InvalidArgument naming the first bad one."""
    if not 1 <= len(fingers) <= 10:
        raise InvalidArgument("fingers", f"{len(fingers)} given, 1 to 10 are enrolled")
    seen: set[int] = set()
    templates = []
    for index, finger in enumerate(fingers):
        field = f"fingers[{index}]"
        position = _position(f"{field}.position", finger.position)
        if position in seen:
            raise InvalidArgument(f"{field}.position", f"finger {position} given twice")
        seen.add(position)
        if not 0 <= finger.quality <= 100:
            raise InvalidArgument(f"{field}.quality", f"{finger.quality} is not 0-100")
        # The stream is kept, not decoded here: NBIS's decoder runs in a forked child (drivers.fingerprint.wsq),
        # which a threaded gRPC server should not do on every call. Its marker and size are checked.
        if not wsq.is_wsq(finger.wsq) or len(finger.wsq) > MAX_WSQ:
            raise InvalidArgument(f"{field}.wsq", f"not a WSQ stream of at most {MAX_WSQ} bytes")
        templates.append(parse_template(f"{field}.iso19794_2", finger.iso19794_2, position))
    return templates


def _context(file_id: str, position: int, part: str) -> str:
    # The file, the finger and the part: a sealed record copied into another row does not open there.
    return f"traveller_fingers:{file_id}:{position}:{part}"


def _seal(session: Session, data: bytes, context: str) -> bytes:
    sealer: Sealer | None = session.info.get("sealer")
    return sealer.seal(data, context) if sealer is not None else data


def _open(session: Session, data: bytes, context: str) -> bytes:
    if not is_sealed(data):
        return data
    sealer: Sealer | None = session.info.get("sealer")
    if sealer is None:
        raise SealError(f"{context} is sealed and central was started without its key file")
    return sealer.open(data, context)


def iso_record(session: Session, file: m.TravellerFile, finger: m.TravellerFinger) -> bytes:
    return _open(session, finger.iso19794_2, _context(file.file_id, finger.position, "iso"))


def wsq_image(session: Session, file: m.TravellerFile, finger: m.TravellerFinger) -> bytes:
    return _open(session, finger.wsq, _context(file.file_id, finger.position, "wsq"))


def fingers_of(session: Session, file_row_id: int) -> list[m.TravellerFinger]:
    return list(session.scalars(select(m.TravellerFinger).where(m.TravellerFinger.traveller_file_id == file_row_id)
                                .order_by(m.TravellerFinger.position)))


def positions_of(session: Session, file_id: str) -> list[int]:
    """The finger positions a file holds (for the gate's CheckTravellerFile answer); none for no file."""
    if not file_id:
        return []
    return list(session.scalars(select(m.TravellerFinger.position).join(
        m.TravellerFile, m.TravellerFile.id == m.TravellerFinger.traveller_file_id)
        .where(m.TravellerFile.file_id == file_id).order_by(m.TravellerFinger.position)))


def _duplicates(session: Session, gallery: FingerGallery, fingers: list[tuple[int, bytes]],
                own_file_id: str) -> tuple[FingerDuplicate, ...]:
    found = {subject: score for subject, score in gallery.search(fingers) if subject != own_file_id}
    if not found:
        return ()
    # A subject with no file (purged, or never committed) is no identity.
    existing = set(session.scalars(select(m.TravellerFile.file_id).where(m.TravellerFile.file_id.in_(list(found)))))
    return tuple(sorted((FingerDuplicate(f, round(float(s), 2)) for f, s in found.items() if f in existing),
                        key=lambda d: -d.score))


def enrol_fingers(session: Session, caller: Caller, crossing_id: str, fingers: list[CapturedFinger],
                  finger_gallery: FingerGallery | None, *, face: FaceQuery | None = None, live_jpeg: bytes = b"",
                  traveller_gallery: files.TravellerGallery | None = None,
                  rules: StayRules | None = None) -> FingersEnrolled:
    """Enrol the desk's fingers into the file of the traveller of `crossing_id` (see the module); audited."""
    templates = check_captured(fingers)
    crossing = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == crossing_id))
    if crossing is None:
        raise NotFound(f"crossing {crossing_id}")
    if caller.station and crossing.station.code != caller.station:
        raise FailedPrecondition(f"crossing {crossing_id} was recorded by another station")
    traveller = crossing.traveller
    subject = person_subject(traveller.surname, traveller.given_names, traveller.birth_date)
    result = _enrol(session, caller, crossing, fingers, templates, finger_gallery, face, live_jpeg,
                    traveller_gallery, rules or StayRules())
    enrolled = f"file {result.file_id}: finger(s) {', '.join(map(str, result.positions))} enrolled" \
        + (" (file opened)" if result.file_opened else "")
    audit(session, caller, "EnrolFileFingerprints", subject,
          enrolled if result.file_id else f"nothing enrolled: {result.reason}", PURPOSE)
    return result


def _enrol(session: Session, caller: Caller, crossing: m.Crossing, fingers: list[CapturedFinger],
           templates: list[Template], finger_gallery: FingerGallery | None, face: FaceQuery | None,
           live_jpeg: bytes, traveller_gallery: files.TravellerGallery | None, rules: StayRules) -> FingersEnrolled:
    exempt = rules.exemption(crossing.traveller.nationality, crossing.document.doc_type)
    if exempt is not None:
        return FingersEnrolled("", reason=exempt)
    if finger_gallery is None:
        raise Unavailable("no matcher is configured for the finger gallery: duplicates cannot be searched")
    file = session.scalar(select(m.TravellerFile).where(m.TravellerFile.traveller_id == crossing.traveller_id))
    searched = [(f.position, f.iso19794_2) for f in fingers]
    duplicates = _duplicates(session, finger_gallery, searched, file.file_id if file is not None else "")
    if duplicates:
        return FingersEnrolled("", reason="possible multiple identity: these fingers are in " + ", ".join(
            f"file {d.file_id} (score {d.score:.1f})" for d in duplicates), duplicates=duplicates)
    opened = False
    if file is None:
        if face is None or not live_jpeg:
            raise FailedPrecondition("the traveller has no file yet: it is opened with the live face, and none "
                                     "was sent")
        enrolled = files.enrol(session, caller, crossing.crossing_id, face, live_jpeg, traveller_gallery, rules)
        if not enrolled.file_id:
            return FingersEnrolled("", reason=f"no file opened: {enrolled.reason}")
        opened = not enrolled.already_enrolled
        file = session.scalar(select(m.TravellerFile).where(m.TravellerFile.file_id == enrolled.file_id))
    kept = {f.position: f for f in fingers_of(session, file.id)}
    for finger, template in zip(fingers, templates):
        row = kept.get(finger.position) or m.TravellerFinger(traveller_file_id=file.id, position=finger.position)
        row.iso19794_2 = _seal(session, finger.iso19794_2, _context(file.file_id, finger.position, "iso"))
        row.wsq = _seal(session, finger.wsq, _context(file.file_id, finger.position, "wsq"))
        row.quality, row.minutiae = finger.quality, len(template.minutiae)
        row.enrolled_by_station, row.enrolled_by_user = caller.station[:64], caller.user[:64]
        row.enrolled_at = m.utcnow()
        session.add(row)
    session.flush()
    # Every finger the file holds, so the gallery's subject matches the file after a partial re-enrolment.
    held = fingers_of(session, file.id)
    # Last, before the commit: a matcher that fails (Unavailable) rolls the fingers (and a new file) back.
    finger_gallery.enrol(file.file_id, [(f.position, iso_record(session, file, f)) for f in held])
    return FingersEnrolled(file.file_id, tuple(f.position for f in held), opened)


def verify_fingers(session: Session, caller: Caller, file_id: str, live: list[LiveFinger]) -> FingersVerified:
    """The live fingers 1:1 against the file's (see the module); the read of the file's fingers is audited."""
    if not 1 <= len(live) <= MAX_VERIFY_FINGERS:
        raise InvalidArgument("fingers", f"{len(live)} given, 1 or {MAX_VERIFY_FINGERS} are verified")
    probes = {}
    for index, finger in enumerate(live):
        position = _position(f"fingers[{index}].position", finger.position)
        if position in probes:
            raise InvalidArgument(f"fingers[{index}].position", f"finger {position} given twice")
        probes[position] = parse_template(f"fingers[{index}].iso19794_2", finger.iso19794_2, position)
    file = session.scalar(select(m.TravellerFile).where(m.TravellerFile.file_id == file_id))
    if file is None:
        raise NotFound(f"traveller file {file_id}")
    enrolled = {f.position: f for f in fingers_of(session, file.id) if f.position in probes}
    traveller = file.traveller
    subject = person_subject(traveller.surname, traveller.given_names, traveller.birth_date)
    if len(enrolled) != len(probes):
        missing = sorted(set(probes) - set(enrolled))
        result = FingersVerified("NO_FINGERPRINTS", f"file {file_id} holds no finger {', '.join(map(str, missing))}")
    else:
        compared = []
        for position, probe in probes.items():
            reference = parse_template("enrolled", iso_record(session, file, enrolled[position]), position)
            comparison = compare.compare(reference, probe)
            compared.append(FingerComparison(position, round(comparison.score, 1), comparison.match))
        detail = ", ".join(f"finger {c.position} score {c.score:.1f}" for c in compared)
        if all(c.match for c in compared):
            result = FingersVerified("VERIFIED", f"file {file_id}: {detail} (match at >= {compare.THRESHOLD:g})",
                                     tuple(compared))
        else:
            result = FingersVerified("MISMATCH", f"file {file_id}: live finger does not match the enrolled one: "
                                     f"{detail} (match at >= {compare.THRESHOLD:g})", tuple(compared))
    audit(session, caller, "VerifyFileFingerprints", subject, f"{result.status} file {file_id}", PURPOSE)
    return result


@dataclass(frozen=True)
class FingersView:
    file: m.TravellerFile
    fingers: list[m.TravellerFinger]


def read_fingers(session: Session, caller: Caller, file_id: str,
                 purpose: str = "traveller file review") -> FingersView:
    """What the file holds of fingers, for an officer (no template, no image); the read is audited."""
    file = session.scalar(select(m.TravellerFile).where(m.TravellerFile.file_id == file_id))
    if file is None:
        raise NotFound(f"traveller file {file_id}")
    fingers = fingers_of(session, file.id)
    traveller = file.traveller
    audit(session, caller, "GetFileFingerprints", person_subject(traveller.surname, traveller.given_names,
                                                                 traveller.birth_date),
          f"file {file_id}: {len(fingers)} finger(s)", purpose)
    return FingersView(file, fingers)


def reseal_fingers(session: Session, batch: int = 200) -> int:
    """Seal under the current key up to `batch` fingers kept in clear or under an older key; how many
    (as files.reseal_templates does for the face templates; run until 0)."""
    sealer: Sealer | None = session.info.get("sealer")
    if sealer is None:
        raise SealError("no key file: nothing to seal with")
    prefix = sealer.current_prefix
    stale = select(m.TravellerFinger).where(or_(
        func.substr(m.TravellerFinger.iso19794_2, 1, len(prefix)) != prefix,
        func.substr(m.TravellerFinger.wsq, 1, len(prefix)) != prefix)).order_by(m.TravellerFinger.id).limit(batch)
    rows = list(session.scalars(stale))
    for finger in rows:
        file = session.get(m.TravellerFile, finger.traveller_file_id)
        iso, image = iso_record(session, file, finger), wsq_image(session, file, finger)
        finger.iso19794_2 = _seal(session, iso, _context(file.file_id, finger.position, "iso"))
        finger.wsq = _seal(session, image, _context(file.file_id, finger.position, "wsq"))
    return len(rows)
