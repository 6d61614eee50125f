"""What a gate asks of central for every traveller, written for speed: the
document check, the person check and the recording of the crossing.

These run thousands of times a minute at a busy border point, so they use
SQLAlchemy Core statements built once at import, not the ORM's session and
unit of work, which cost several times as much CPU per call (docs/BENCHMARKS.md);
those run for every traveller are compiled once per dialect and run on the
DBAPI cursor (central.database.prepared), the rest through a plain Connection. They take a Connection,
or an ORM Session inside a larger transaction (as the flight-manifest
screening and OpenReferral use them), whose connection they then use. The tables, types
and rules are the ORM models' (central.database.models); nothing else changes.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import Connection, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit_row
from central.alerts.face_matcher import FaceMatcher, FaceQuery
from central.database import models as m
from central.database.keys import new_key
from central.database.prepared import Prepared
from central.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from central.records import stays
from central.risk.rules import RiskAssessment, RiskRules
from central.stays.regime import StayRules
from drivers.alertmatch.normalize import (
    document_category,
    document_number,
    document_type,
    name_key,
    ocr_key,
    state_code,
)
from drivers.alertmatch.persons import DEFAULT_MIN_SIMILARITY, Identity, PersonMatch, blocking_birth_dates, compare

DEFAULT_STAY_RULES = StayRules()
DOCUMENT_CHECK_PURPOSE = "border check: document alerts"
PERSON_CHECK_PURPOSE = "border check: person alerts"


def _connection(db) -> Connection:
    """The Core connection of an ORM Session (inside its transaction), or the Connection given."""
    return db.connection() if isinstance(db, Session) else db


def _in_force(model) -> tuple:
    """Not withdrawn and valid on :today."""
    return (model.withdrawn.is_(False),
            or_(model.valid_from.is_(None), model.valid_from <= bindparam("today")),
            or_(model.valid_to.is_(None), model.valid_to >= bindparam("today")))


# ---------------------------------------------------------------- document alerts

DA = m.DocumentAlert
_DOCUMENT_ALERTS = Prepared(
    select(DA.alert_id, DA.number, DA.number_norm, DA.doc_type, DA.issuing_state, DA.reason,
           DA.handling_instruction, DA.issuing_agency, DA.category, DA.owning_agency,
           DA.handling_code, DA.classification)
    .where(or_(DA.number_norm == bindparam("norm"), DA.number_ocr_key == bindparam("key")), *_in_force(DA))
    .order_by(DA.id))


@dataclass(frozen=True)
class DocumentHit:
    alert: Any  # a row with the columns of _DOCUMENT_ALERTS, named as on m.DocumentAlert
    match: str  # "exact" | "ocr_variant"


def document_subject(number: str, issuing_state: str) -> str:
    """How the audit log names a checked document."""
    return f"document {state_code(issuing_state) or '?'} {document_number(number)}"


def document_hits(db, number: str, doc_type: str, issuing_state: str, today: dt.date) -> list[DocumentHit]:
    """Document alerts in force on the number, exact matches first; only reads (the caller audits).

    An alert hits when the normalised numbers are equal, or equal after OCR
    folding; when both sides name an issuing state or document category they must agree.
    """
    norm, key = document_number(number), ocr_key(number)
    if not norm:
        raise InvalidArgument("document_number", "is required")
    state, category = state_code(issuing_state), document_category(doc_type)
    alerts = _DOCUMENT_ALERTS.rows(_connection(db), {"norm": norm, "key": key, "today": today})
    hits = [
        DocumentHit(alert, "exact" if alert.number_norm == norm else "ocr_variant")
        for alert in alerts
        if not (state and alert.issuing_state and alert.issuing_state != state)
        and not (category and alert.doc_type and document_category(alert.doc_type) != category)
    ]
    hits.sort(key=lambda hit: hit.match != "exact")
    return hits


# ---------------------------------------------------------------- person alerts

PA = m.PersonAlert
_PERSON_COLUMNS = (PA.alert_id, PA.surname, PA.given_names, PA.birth_date, PA.nationality, PA.reason,
                   PA.handling_instruction, PA.issuing_agency, PA.matcher_subject_id, PA.notice, PA.notice_kind,
                   PA.owning_agency, PA.handling_code, PA.classification)
# Blocking: alerts born on the traveller's birth date, on it with day and month swapped, or of no known birth date.
_PERSON_CANDIDATES = Prepared(
    select(*_PERSON_COLUMNS)
    .where(or_(PA.birth_date == bindparam("born"), PA.birth_date == bindparam("swapped"), PA.birth_date.is_(None)),
           *_in_force(PA))
    .order_by(PA.id))
_PERSONS_BY_SUBJECT = select(*_PERSON_COLUMNS).where(
    PA.matcher_subject_id.in_(bindparam("subjects", expanding=True)), *_in_force(PA))


@dataclass(frozen=True)
class PersonHit:
    alert: Any  # a row with the columns of _PERSON_COLUMNS, named as on m.PersonAlert
    match: PersonMatch


def person_subject(surname: str, given_names: str, birth_date: dt.date | None) -> str:
    """How the audit log names a checked person."""
    return f"person {surname}, {given_names} {birth_date.isoformat() if birth_date else '?'}"


def person_hits(db, identity: Identity, today: dt.date, threshold: float = DEFAULT_MIN_SIMILARITY,
                face: FaceQuery | None = None, matcher: FaceMatcher | None = None) -> list[PersonHit]:
    """Alerts in force whose identity matches, best first; only reads (the caller audits).

    Candidates are blocked on the birth date (exact, day/month swapped, or
    none in the alert) before names are scored, so the scan stays small.
    """
    db = _connection(db)
    dates = blocking_birth_dates(identity.birth_date)
    candidates = _PERSON_CANDIDATES.rows(db, {"born": dates[0], "swapped": dates[-1], "today": today})
    hits: dict[str, PersonHit] = {}
    for alert in candidates:
        found = compare(Identity(alert.surname, alert.given_names, alert.birth_date, alert.nationality), identity)
        if found is not None and found.score >= threshold:
            hits[alert.alert_id] = PersonHit(alert, found)
    if face is not None and matcher is not None:
        for hit in _face_hits(db, face, matcher, today):
            known = hits.get(hit.alert.alert_id)
            if known is None or hit.match.score > known.match.score:
                hits[hit.alert.alert_id] = hit
    return sorted(hits.values(), key=lambda hit: -hit.match.score)


def _face_hits(db, face: FaceQuery, matcher: FaceMatcher, today: dt.date) -> Iterable[PersonHit]:
    # The matcher returns only candidates above its own calibrated threshold; its
    # scores are on its scale, not the name score's, so no second cut here.
    scores = {c.subject_id: c.score for c in matcher.search(face)}
    if not scores:
        return []
    alerts = db.execute(_PERSONS_BY_SUBJECT, {"subjects": list(scores), "today": today}).all()
    return [PersonHit(a, PersonMatch(round(scores[a.matcher_subject_id], 4),
                                     f"face {scores[a.matcher_subject_id]:.2f} (matcher)")) for a in alerts]


# ---------------------------------------------------------------- crossings

@dataclass(frozen=True)
class DocumentData:
    number: str
    doc_type: str
    issuing_state: str
    expiry_date: dt.date | None


@dataclass(frozen=True)
class TravellerData:
    surname: str
    given_names: str
    nationality: str
    sex: str
    birth_date: dt.date | None


@dataclass(frozen=True)
class NewCrossing:
    crossing_id: str
    station: str
    border_point: str
    direction: m.Direction
    occurred_at: dt.datetime
    document: DocumentData
    traveller: TravellerData
    decision: m.GateDecision
    reasons: list[str]
    checks: list[dict]
    face_score: float | None


@dataclass(frozen=True)
class Recorded:
    """A crossing as stored: its risk assessment, and whether it was there before (a retry)."""

    crossing_id: str
    risk_score: float
    risk_rules_fired: tuple[str, ...]
    risk_rules_version: str
    already_recorded: bool
    overstay_days: int | None = None  # an exit that closed a stay: the days it went past what was authorised


# Station code -> (station id, border point id, border point code): stations looked up before, so that a
# gate's every crossing need not look its station up again (a station is never moved nor deleted).
StationCache = dict

C, D, T, S, B = m.Crossing, m.TravelDocument, m.Traveller, m.Station, m.BorderPoint
_CROSSING_BY_KEY = Prepared(
    select(C.direction, C.risk_score, C.risk_rules_fired, C.risk_rules_version, S.code.label("station"),
           D.issuing_state, D.number_norm)
    .join(S, C.station_id == S.id).join(D, C.document_id == D.id)
    .where(C.crossing_id == bindparam("crossing_id")))
_STATION = (select(S.id, S.border_point_id, B.code).join(B, S.border_point_id == B.id)
            .where(S.code == bindparam("code")))
_BORDER_POINT = select(B.id).where(B.code == bindparam("code"))
_DOCUMENT = Prepared(select(D.id, D.traveller_id, D.expiry_date).where(D.issuing_state == bindparam("state"),
                                                                      D.number_norm == bindparam("norm")))
_SET_EXPIRY = update(D).where(D.id == bindparam("document_id")).values(expiry_date=bindparam("expiry"))
_TRAVELLER = Prepared(select(T.id).where(T.name_key == bindparam("key"), T.birth_date == bindparam("born"),
                                          T.nationality == bindparam("nationality"))
                       .order_by(T.id).limit(1))
_INSERT_BORDER_POINT, _INSERT_STATION = insert(B), insert(S)


class _KeyedInsert:
    """INSERT of a new key (central.database.keys, which a Prepared statement does not add by itself) and
    every one of `columns` (bind parameters of the same names); `scalar` returns the key."""

    def __init__(self, model, columns: tuple[str, ...]) -> None:
        table = model.__table__
        self._prepared = Prepared(insert(table).values(
            {name: bindparam(name, type_=table.c[name].type) for name in ("id", *columns)}).returning(table.c.id))

    def scalar(self, db, values: dict) -> uuid.UUID:
        return self._prepared.scalar(db, {**values, "id": new_key()})


_INSERT_TRAVELLER = _KeyedInsert(T, ("surname", "given_names", "name_key", "birth_date", "nationality", "sex"))
_INSERT_DOCUMENT = _KeyedInsert(D, ("number", "number_norm", "issuing_state", "doc_type", "expiry_date",
                                           "traveller_id"))
_INSERT_CROSSING = _KeyedInsert(C, (
    "crossing_id", "station_id", "border_point_id", "direction", "occurred_at", "recorded_at", "document_id",
    "traveller_id", "decision", "reasons", "checks", "face_score", "risk_score", "risk_rules_fired",
    "risk_rules_version"))
_INSERT_AUDIT = insert(m.AuditEntry)


def station_ids(db, station_code: str, border_point_code: str, known: StationCache | None = None,
                seen: StationCache | None = None) -> tuple[uuid.UUID, uuid.UUID]:
    """(station id, border point id); the station is registered at the border point the first time it reports.

    `known`: stations already looked up; `seen` receives the one looked up now,
    for the caller to add to `known` once this transaction has committed.
    """
    db = _connection(db)
    found = known.get(station_code) if known is not None else None
    if found is None:
        row = db.execute(_STATION, {"code": station_code}).first()
        if row is not None:
            found = tuple(row)
            if seen is not None:
                seen[station_code] = found
    if found is not None:
        station_id, point_id, point_code = found
        if point_code != border_point_code:
            raise FailedPrecondition(
                f"station {station_code!r} belongs to border point {point_code!r}, not {border_point_code!r}")
        return station_id, point_id
    point_id = db.scalar(_BORDER_POINT, {"code": border_point_code})
    if point_id is None:
        point_id = db.execute(_INSERT_BORDER_POINT, {"code": border_point_code, "name": ""}).inserted_primary_key[0]
    station_id = db.execute(_INSERT_STATION, {"code": station_code, "border_point_id": point_id}).inserted_primary_key[
        0
    ]
    return station_id, point_id


def _document_and_traveller(db, data: DocumentData, person: TravellerData
                            ) -> tuple[int, int, dt.date | None, bool]:
    """(document id, traveller id, the document's expiry date, whether the traveller was known before).

    A document is known by issuing state and normalised number; a new
    document of a person already known (same names, birth date and
    nationality: a renewed passport) joins their history.
    """
    norm, state = document_number(data.number), state_code(data.issuing_state)
    document = _DOCUMENT.first(db, {"state": state, "norm": norm})
    if document is not None:
        expiry = document.expiry_date
        if data.expiry_date and expiry is None:
            db.execute(_SET_EXPIRY, {"document_id": document.id, "expiry": data.expiry_date})
            expiry = data.expiry_date
        return document.id, document.traveller_id, expiry, True
    key, nationality = name_key(person.surname, person.given_names), state_code(person.nationality)
    traveller_id = None
    if person.birth_date is not None:
        traveller_id = _TRAVELLER.scalar(db, {"key": key, "born": person.birth_date, "nationality": nationality})
    known = traveller_id is not None
    if not known:
        traveller_id = _INSERT_TRAVELLER.scalar(db, {
            "surname": person.surname, "given_names": person.given_names, "name_key": key,
            "birth_date": person.birth_date, "nationality": nationality, "sex": person.sex})
    document_id = _INSERT_DOCUMENT.scalar(db, {
        "number": data.number.strip(), "number_norm": norm, "issuing_state": state,
        "doc_type": document_type(data.doc_type), "expiry_date": data.expiry_date,
        "traveller_id": traveller_id})
    return document_id, traveller_id, data.expiry_date, known


def crossing_audit_row(caller: Caller, new: NewCrossing) -> dict:
    """The audit row of a newly recorded crossing."""
    return audit_row(caller, "RecordCrossing",
                     f"document {state_code(new.document.issuing_state)} {document_number(new.document.number)}",
                     f"crossing {new.crossing_id} {new.direction.value} {new.decision.value}", "crossing register")


def record_crossing(db, caller: Caller, new: NewCrossing, rules: RiskRules,
                    known: StationCache | None = None, seen: StationCache | None = None,
                    audited: bool = True, stay_rules: StayRules = DEFAULT_STAY_RULES) -> Recorded:
    """Store a crossing once, scored by the risk rules, with its audit row; a retry returns the stored one.

    The traveller's stays are brought up to date in the same transaction (central.records.stays).

    `audited` False: the caller inserts the audit row (crossing_audit_row, for a crossing not
    already_recorded) itself, as central.database.group_commit does with all rows of a commit at once.

    A retry may differ in details the gate fills in per attempt (occurred_at,
    say): the first record stands. The same id for another document, station
    or direction is not a retry but a client bug, and is refused. A concurrent
    insert of the same crossing_id (or document) fails with a unique violation;
    the transaction is then run again and finds the other's row (Database.write).
    """
    db = _connection(db)
    existing = _CROSSING_BY_KEY.first(db, {"crossing_id": new.crossing_id})
    if existing is not None:
        same = (existing.station, existing.issuing_state, existing.number_norm, existing.direction) == (
            new.station, state_code(new.document.issuing_state), document_number(new.document.number), new.direction)
        if not same:
            raise AlreadyExists(f"crossing_id {new.crossing_id} was recorded for another document, station "
                                f"or direction")
        return Recorded(new.crossing_id, existing.risk_score, tuple(existing.risk_rules_fired),
                        existing.risk_rules_version, True)
    station_id, point_id = station_ids(db, new.station, new.border_point, known, seen)
    document_id, traveller_id, expiry, known = _document_and_traveller(db, new.document, new.traveller)
    # A traveller first seen now has no earlier crossings for the history rules to look at.
    risk: RiskAssessment = rules.assess(db, traveller_id=traveller_id if known else None,
                                        occurred_at=new.occurred_at, expiry_date=expiry)
    crossing_row = _INSERT_CROSSING.scalar(db, {
        "crossing_id": new.crossing_id, "station_id": station_id, "border_point_id": point_id,
        "direction": new.direction, "occurred_at": new.occurred_at, "recorded_at": m.utcnow(),
        "document_id": document_id, "traveller_id": traveller_id, "decision": new.decision,
        "reasons": list(new.reasons), "checks": list(new.checks), "face_score": new.face_score,
        "risk_score": risk.score, "risk_rules_fired": list(risk.fired), "risk_rules_version": risk.version})
    overstay = stays.upkeep(db, stay_rules, stays.Passage(
        traveller_id, state_code(new.traveller.nationality), state_code(new.document.issuing_state),
        document_number(new.document.number), document_type(new.document.doc_type), new.direction,
        stays.utc_day(new.occurred_at), crossing_row, point_id))
    if audited:
        db.execute(_INSERT_AUDIT, crossing_audit_row(caller, new))
    return Recorded(new.crossing_id, risk.score, tuple(risk.fired), risk.version, False, overstay)
