"""Advance Passenger Information: a flight manifest of MRZs pre-screened before the flight lands.

Each passenger's MRZ is parsed (drivers.mrz, check digits and all), then
checked like a traveller at a gate: document alerts, person alerts and the
risk rules on what central already knows of the traveller. Nothing is
stored but the audit rows of the checks (purpose "advance passenger
information: FLIGHT"). A passenger whose MRZ cannot be read is reported
INVALID with the reason; the others are still screened.

Manifest files: CSV with a `mrz` column (lines separated by newlines inside
the quoted field, or by '|') and optional `reference` and `flight` columns;
or JSON {"flight": ..., "border_point": ..., "passengers": [{"mrz": ..., "reference": ...}]}.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller
from central.alerts.face_matcher import FaceMatcher
from central.alerts.lists import check_document, check_person
from central.database import models as m
from central.errors import InvalidArgument
from central.records.gate_calls import DocumentHit, PersonHit
from central.risk.rules import RiskRules
from drivers.alertmatch.normalize import document_number, state_code
from drivers.alertmatch.persons import DEFAULT_MIN_SIMILARITY, Identity

MAX_PASSENGERS = 1000


@dataclass(frozen=True)
class Passenger:
    mrz: str
    reference: str = ""


@dataclass(frozen=True)
class Manifest:
    flight: str
    border_point: str
    passengers: list[Passenger]


@dataclass
class PassengerReport:
    index: int
    reference: str
    status: str  # HIT | RISK | CLEAR | INVALID
    error: str = ""
    surname: str = ""
    given_names: str = ""
    document_number: str = ""
    issuing_state: str = ""
    nationality: str = ""
    birth_date: dt.date | None = None
    document_hits: list[DocumentHit] = field(default_factory=list)
    person_hits: list[PersonHit] = field(default_factory=list)
    risk_score: float = 0.0
    risk_rules_fired: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"index": self.index, "reference": self.reference, "status": self.status, "error": self.error,
                "surname": self.surname, "given_names": self.given_names, "document_number": self.document_number,
                "issuing_state": self.issuing_state, "nationality": self.nationality,
                "birth_date": self.birth_date.isoformat() if self.birth_date else "",
                "document_hits": [{"alert_id": h.alert.alert_id, "reason": h.alert.reason.value, "match": h.match}
                                  for h in self.document_hits],
                "person_hits": [{"alert_id": h.alert.alert_id, "reason": h.alert.reason.value,
                                 "score": h.match.score, "explanation": h.match.explanation}
                                for h in self.person_hits],
                "risk_score": self.risk_score, "risk_rules_fired": list(self.risk_rules_fired)}


def read_manifest(path: Path, flight: str = "", border_point: str = "") -> Manifest:
    """A manifest from a .csv or .json file; `flight`/`border_point` fill in what the file leaves out."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument("manifest", f"cannot read {path}: {exc}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgument("manifest", f"not JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("passengers"), list):
            raise InvalidArgument("passengers", "a JSON object with a list 'passengers' is required")
        passengers = []
        for i, raw in enumerate(data["passengers"], 1):
            if not isinstance(raw, dict) or not isinstance(raw.get("mrz"), str):
                raise InvalidArgument(f"passengers[{i}].mrz", "a string is required")
            passengers.append(Passenger(raw["mrz"], str(raw.get("reference", ""))))
        return Manifest(str(data.get("flight") or flight), str(data.get("border_point") or border_point),
                        passengers)
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "mrz" not in reader.fieldnames:
            raise InvalidArgument("manifest", "the CSV needs a header with an 'mrz' column")
        rows = list(reader)
        flights = {r.get("flight", "") for r in rows} - {""}
        if len(flights) > 1:
            raise InvalidArgument("flight", f"one flight per manifest, not {', '.join(sorted(flights))}")
        return Manifest(flight or next(iter(flights), ""), border_point,
                        [Passenger(r["mrz"] or "", r.get("reference") or "") for r in rows])
    raise InvalidArgument("manifest", f"{path.name}: a .csv or .json file is required")


def _known_traveller_id(session: Session, number: str, state: str) -> int | None:
    # None: nobody known by this document; the history rules then do not apply, the document rules still do.
    return session.scalar(select(m.TravelDocument.traveller_id).where(
        m.TravelDocument.number_norm == document_number(number), m.TravelDocument.issuing_state == state_code(state)))


def prescreen(session: Session, caller: Caller, manifest: Manifest, rules: RiskRules, now: dt.datetime,
              threshold: float = DEFAULT_MIN_SIMILARITY, matcher: FaceMatcher | None = None) -> list[PassengerReport]:
    from drivers.mrz import MrzError, parse

    if not manifest.flight.strip():
        raise InvalidArgument("flight", "is required")
    if len(manifest.passengers) > MAX_PASSENGERS:
        raise InvalidArgument("passengers", f"at most {MAX_PASSENGERS} per call")
    caller = replace(caller, purpose=caller.purpose or f"advance passenger information: {manifest.flight.strip()}")
    today = now.astimezone(dt.timezone.utc).date()
    reports = []
    for index, passenger in enumerate(manifest.passengers, 1):
        try:
            mrz = parse(passenger.mrz.strip().replace("|", "\n"), today=today)
        except MrzError as exc:
            reports.append(PassengerReport(index, passenger.reference, "INVALID", error=str(exc)))
            continue
        document_hits = check_document(session, caller, mrz.document_number, mrz.document_type,
                                       mrz.issuing_state, today)
        person_hits = check_person(session, caller, Identity(mrz.surname, mrz.given_names, mrz.birth_date,
                                                             mrz.nationality), today, threshold, None, matcher)
        risk = rules.assess(session, traveller_id=_known_traveller_id(session, mrz.document_number,
                                                                      mrz.issuing_state),
                            occurred_at=now, expiry_date=mrz.expiry_date)
        status = "HIT" if document_hits or person_hits else "RISK" if risk.fired else "CLEAR"
        reports.append(PassengerReport(
            index, passenger.reference, status, surname=mrz.surname, given_names=mrz.given_names,
            document_number=mrz.document_number, issuing_state=state_code(mrz.issuing_state),
            nationality=state_code(mrz.nationality), birth_date=mrz.birth_date, document_hits=document_hits,
            person_hits=person_hits, risk_score=risk.score, risk_rules_fired=risk.fired))
    return reports
