"""Reconciliation on arrival: who crossed against who was on the flight's current lists.

Crossings are the ENTRY records of a border point in a window around the flight's scheduled arrival
(the carrier's local time taken as it is: the window is wide on purpose). A person of the manifest
and a crossing are the same traveller when their document numbers agree (and their issuing states,
when both give one), or failing a document, when name and birth date agree. The result:
- crossed: each with what differs between the advance data and the crossing's document as read from
  the chip or MRZ (name, birth date, nationality, sex, issuing state, document type, expiry);
- no_shows: passengers with no crossing; in-transit passengers are expected not to cross and are
  listed only if they did;
- crew: every crew member, crossed or not;
- not_on_manifest: crossings in the window that match nobody on the flight's lists.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument
from central.passengers.parsed import CREW_ROLES
from central.passengers.targeting import current_manifests
from drivers.alertmatch.normalize import document_number, name_key

PURPOSE = "advance passenger information: reconciliation on arrival"


@dataclass
class Reconciliation:
    flight_key: str
    border_point: str
    window: tuple[str, str]
    crossed: list[dict] = field(default_factory=list)
    no_shows: list[dict] = field(default_factory=list)
    transit_crossed: list[dict] = field(default_factory=list)
    crew: list[dict] = field(default_factory=list)
    not_on_manifest: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__, window=list(self.window))


def _who(person: m.ApiPerson, documents: list[m.ApiDocument]) -> dict:
    return {"person_id": person.id, "role": person.role, "surname": person.surname,
            "given_names": person.given_names, "birth_date": person.birth_date.isoformat() if person.birth_date else "",
            "documents": [f"{d.doc_type} {d.issuing_state} {d.number}".strip() for d in documents]}


def _differences(person: m.ApiPerson, doc: m.ApiDocument | None, crossing: m.Crossing) -> list[str]:
    read, holder = crossing.document, crossing.traveller
    found = []
    if person.name_key and name_key(holder.surname, holder.given_names) != person.name_key:
        found.append(f"name: {person.surname}, {person.given_names} in advance data, "
                     f"{holder.surname}, {holder.given_names} read")
    pairs = [("birth date", person.birth_date, holder.birth_date), ("nationality", person.nationality,
                                                                     holder.nationality),
             ("sex", person.sex, holder.sex)]
    if doc is not None:
        pairs += [("issuing state", doc.issuing_state, read.issuing_state),
                  ("document type", doc.doc_type[:1], read.doc_type[:1]),
                  ("expiry date", doc.expiry_date, read.expiry_date)]
    for what, advance, chip in pairs:
        if advance and chip and advance != chip:
            found.append(f"{what}: {advance} in advance data, {chip} read")
    return found


def _arrival(flight: m.ApiFlight) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(flight.arrival_time or flight.departure_time).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        if flight.flight_date is None:
            raise InvalidArgument("flight", f"{flight.flight_key} has no arrival time to reconcile with") from None
        return dt.datetime.combine(flight.flight_date, dt.time(12), dt.timezone.utc)


def reconcile(session: Session, caller: Caller, flight_key: str, border_point: str,
              before: dt.timedelta = dt.timedelta(hours=3), after: dt.timedelta = dt.timedelta(hours=6)
              ) -> Reconciliation:
    flight, manifests = current_manifests(session, flight_key)
    arrival = _arrival(flight)
    start, end = arrival - before, arrival + after
    result = Reconciliation(flight_key, border_point, (start.isoformat(), end.isoformat()))
    persons = list(session.scalars(select(m.ApiPerson).where(
        m.ApiPerson.manifest_id.in_([mf.id for mf in manifests if mf.list_kind != "pnr"]))
        .order_by(m.ApiPerson.manifest_id, m.ApiPerson.position)))
    documents: dict[int, list[m.ApiDocument]] = {}
    ids = [p.id for p in persons]
    for doc in session.scalars(select(m.ApiDocument).where(m.ApiDocument.person_id.in_(ids))) if ids else []:
        documents.setdefault(doc.person_id, []).append(doc)
    crossings = list(session.scalars(
        select(m.Crossing).join(m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id)
        .where(m.BorderPoint.code == border_point, m.Crossing.direction == m.Direction.ENTRY,
               m.Crossing.occurred_at >= start, m.Crossing.occurred_at <= end).order_by(m.Crossing.occurred_at)))
    by_number: dict[str, list[m.Crossing]] = {}
    by_name: dict[tuple[str, dt.date | None], list[m.Crossing]] = {}
    for crossing in crossings:
        by_number.setdefault(crossing.document.number_norm, []).append(crossing)
        holder = crossing.traveller
        by_name.setdefault((name_key(holder.surname, holder.given_names), holder.birth_date), []).append(crossing)
    matched: set[int] = set()
    for person in persons:
        docs = documents.get(person.id, [])
        found = None
        for doc in docs:
            found = next((c for c in by_number.get(document_number(doc.number), [])
                          if not (doc.issuing_state and c.document.issuing_state
                                  and doc.issuing_state != c.document.issuing_state)), None)
            if found is not None:
                break
        if found is None and person.birth_date:
            found = next(iter(by_name.get((person.name_key, person.birth_date), [])), None)
        who = _who(person, docs)
        if found is not None:
            matched.add(found.id)
            doc = next((d for d in docs if document_number(d.number) == found.document.number_norm), None)
            who |= {"crossing_id": found.crossing_id, "occurred_at": found.occurred_at.isoformat(),
                    "differences": _differences(person, doc, found)}
        if person.role in CREW_ROLES:
            result.crew.append(who | {"crossed": found is not None})
        elif found is not None and person.role == "transit_passenger":
            result.transit_crossed.append(who)
        elif found is not None:
            result.crossed.append(who)
        elif person.role == "passenger":
            result.no_shows.append(who)
    for crossing in crossings:
        if crossing.id not in matched:
            holder, doc = crossing.traveller, crossing.document
            result.not_on_manifest.append({"crossing_id": crossing.crossing_id,
                                           "occurred_at": crossing.occurred_at.isoformat(),
                                           "surname": holder.surname, "given_names": holder.given_names,
                                           "document": f"{doc.doc_type} {doc.issuing_state} {doc.number}"})
    audit(session, caller, "ReconcileApi", f"flight {flight_key} at {border_point}",
          f"{len(result.crossed)} crossed, {len(result.no_shows)} no-show(s), "
          f"{len(result.not_on_manifest)} not on the manifest", PURPOSE)
    return result
