"""Reading what was stored, audited: the flights with advance data, and a flight's targeting list.

The targeting list is what the officers on duty work from before the aircraft lands: the persons of
the current versions of the flight's lists (passengers, crew, PNR travellers) that screening
flagged, with the reasons, HIT first. Every read leaves an audit row naming the flight.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import NotFound

READ_PURPOSE = "advance passenger information: targeting"


@dataclass(frozen=True)
class FlightSummary:
    flight_key: str
    number: str
    departure_airport: str
    arrival_airport: str
    arrival_time: str
    lists: dict[str, int]  # list kind -> current version
    persons: int
    hits: int
    checks: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Target:
    person_id: int
    list_kind: str
    role: str
    status: str
    surname: str
    given_names: str
    birth_date: str
    nationality: str
    documents: list[str]
    reasons: list[str]
    locator: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def list_flights(session: Session, caller: Caller, day: dt.date | None = None, limit: int = 200) -> list[FlightSummary]:
    query = select(m.ApiFlight).order_by(m.ApiFlight.arrival_time.desc()).limit(limit)
    if day is not None:
        query = query.where(m.ApiFlight.flight_date == day)
    summaries = []
    for flight in session.scalars(query):
        current = list(session.scalars(select(m.ApiManifest).where(m.ApiManifest.flight_id == flight.id,
                                                                   m.ApiManifest.current)))
        statuses = list(session.scalars(select(m.ApiPerson.status).where(
            m.ApiPerson.manifest_id.in_([c.id for c in current])))) if current else []
        summaries.append(FlightSummary(flight.flight_key, flight.number, flight.departure_airport,
                                       flight.arrival_airport, flight.arrival_time,
                                       {c.list_kind: c.version for c in current}, len(statuses),
                                       statuses.count("HIT"), statuses.count("CHECK")))
    audit(session, caller, "ListApiFlights", f"flights {day.isoformat() if day else 'latest'}",
          f"{len(summaries)} flight(s)", READ_PURPOSE)
    return summaries


def current_manifests(session: Session, flight_key: str) -> tuple[m.ApiFlight, list[m.ApiManifest]]:
    flight = session.scalar(select(m.ApiFlight).where(m.ApiFlight.flight_key == flight_key))
    if flight is None:
        raise NotFound("advance passenger data of flight", flight_key)
    return flight, list(session.scalars(select(m.ApiManifest).where(m.ApiManifest.flight_id == flight.id,
                                                                    m.ApiManifest.current)))


def targeting_list(session: Session, caller: Caller, flight_key: str, everyone: bool = False) -> list[Target]:
    """The flagged persons of the flight's current lists (all of them with `everyone`), HIT before CHECK."""
    _, manifests = current_manifests(session, flight_key)
    kinds = {mf.id: mf.list_kind for mf in manifests}
    query = select(m.ApiPerson).where(m.ApiPerson.manifest_id.in_(list(kinds)))
    if not everyone:
        query = query.where(m.ApiPerson.status != "CLEAR")
    persons = list(session.scalars(query.order_by(m.ApiPerson.manifest_id, m.ApiPerson.position)))
    ids = [p.id for p in persons]
    documents: dict[int, list[str]] = {}
    for doc in session.scalars(select(m.ApiDocument).where(m.ApiDocument.person_id.in_(ids))) if ids else []:
        documents.setdefault(doc.person_id, []).append(f"{doc.doc_type} {doc.issuing_state} {doc.number}".strip())
    pnr_ids = list({p.pnr_id for p in persons if p.pnr_id})
    locators = dict(session.execute(select(m.PnrRecord.id, m.PnrRecord.locator).where(
        m.PnrRecord.id.in_(pnr_ids))).tuples().all()) if pnr_ids else {}
    order = {"HIT": 0, "CHECK": 1, "CLEAR": 2}
    targets = [Target(p.id, kinds[p.manifest_id], p.role, p.status, p.surname, p.given_names,
                      p.birth_date.isoformat() if p.birth_date else "", p.nationality, documents.get(p.id, []),
                      list(p.reasons), locators.get(p.pnr_id, "")) for p in persons]
    targets.sort(key=lambda t: order.get(t.status, 3))
    audit(session, caller, "ReadTargetingList", f"flight {flight_key}" + (" (everyone)" if everyone else ""),
          f"{len(targets)} person(s)", READ_PURPOSE)
    return targets
