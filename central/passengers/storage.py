"""Storing a read message: its flight, a new version of the flight's list, persons, documents and PNRs.

Everything of one message goes in the caller's one transaction, screened as it is stored: a
message is either stored whole, with every person screened, or not at all. A later message for
the same flight and list (passengers, crew, PNRs) becomes the current version; the earlier ones
are kept, no longer current. The same message delivered twice (same SHA-256) is stored once.
The actor is the authenticated caller that delivered the message, never a field of it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument
from central.passengers import arrival
from central.passengers.parsed import CREW_ROLES, Document, Flight, Message, Person, Pnr, Traveller
from central.passengers.screening import DocumentToScreen, screen
from central.risk.rules import RiskRules
from central.stays.regime import StayRules
from drivers.alertmatch.normalize import document_number, name_key, state_code, transliterate
from drivers.alertmatch.persons import Identity

PURPOSE = "advance passenger information: pre-arrival screening"


@dataclass(frozen=True)
class Rules:
    """What screening judges by besides the alerts: the gates' risk rules and the stay rules."""

    risk: RiskRules
    stay: StayRules


@dataclass
class StoredList:
    flight_key: str
    list_kind: str  # passengers | crew | pnr
    version: int
    manifest_id: int
    persons: int
    hits: int
    checks: int
    already_stored: bool = False
    replaced_version: int | None = None


@dataclass
class Imported:
    message_type: str
    lists: list[StoredList] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"message_type": self.message_type, "lists": [asdict(s) for s in self.lists],
                "problems": self.problems}


def _date(iso: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(iso[:10]) if iso else None
    except ValueError:
        return None


def _flight_row(session: Session, flight: Flight) -> m.ApiFlight:
    row = session.scalar(select(m.ApiFlight).where(m.ApiFlight.flight_key == flight.key()))
    if row is None:
        row = m.ApiFlight(flight_key=flight.key(), number=flight.number[:12])
        session.add(row)
    for name in ("carrier", "departure_airport", "arrival_airport", "departure_time", "arrival_time"):
        value = getattr(flight, name)
        if value:
            setattr(row, name, value[:m.ApiFlight.__table__.c[name].type.length])
    row.flight_date = _date(flight.arrival_time or flight.departure_time)
    session.flush()
    return row


def _new_version(session: Session, flight: m.ApiFlight, list_kind: str, message: Message, digest: str,
                 caller: Caller, now: dt.datetime) -> tuple[m.ApiManifest, m.ApiManifest | None]:
    current = session.scalar(select(m.ApiManifest).where(
        m.ApiManifest.flight_id == flight.id, m.ApiManifest.list_kind == list_kind, m.ApiManifest.current))
    latest = session.scalar(select(m.ApiManifest.version).where(
        m.ApiManifest.flight_id == flight.id, m.ApiManifest.list_kind == list_kind)
        .order_by(m.ApiManifest.version.desc()).limit(1)) or 0
    if current is not None:
        session.execute(update(m.ApiManifest).where(m.ApiManifest.id == current.id).values(current=False))
    manifest = m.ApiManifest(flight_id=flight.id, list_kind=list_kind, version=latest + 1, current=True,
                             message_type=message.message_type, message_version=message.version[:8],
                             sender=message.sender[:64], received_at=now,
                             received_by=(caller.user or caller.station)[:64], digest=digest,
                             problems=[p.as_dict() for p in message.problems])
    session.add(manifest)
    session.flush()
    return manifest, current


def _documents(documents: list[Document]) -> list[DocumentToScreen]:
    return [DocumentToScreen(d.type[:4], d.number, state_code(d.issuing_state), _date(d.expiry_date))
            for d in documents]


def _person_row(manifest_id: int, position: int, role: str, surname: str, given: str, sex: str, birth: str,
                nationality: str, details: dict) -> m.ApiPerson:
    surname, given = transliterate(surname)[:200], transliterate(given)[:200]
    return m.ApiPerson(manifest_id=manifest_id, position=position, role=role, surname=surname, given_names=given,
                       name_key=name_key(surname, given)[:400], sex=sex[:1], birth_date=_date(birth),
                       nationality=state_code(nationality)[:3], details=details)


def _known_travellers(session: Session, documents: list[DocumentToScreen]) -> dict[tuple[str, str], int]:
    """(number, issuing state) -> the traveller central already knows by that document, in one query a batch."""
    numbers = sorted({document_number(d.number) for d in documents if d.number})
    known: dict[tuple[str, str], int] = {}
    for start in range(0, len(numbers), 500):
        known |= {(number, state): traveller for number, state, traveller in session.execute(
            select(m.TravelDocument.number_norm, m.TravelDocument.issuing_state, m.TravelDocument.traveller_id)
            .where(m.TravelDocument.number_norm.in_(numbers[start:start + 500])))}
    return known


def _risk(session: Session, rules: RiskRules, documents: list[DocumentToScreen], arrival: dt.datetime,
          known: dict[tuple[str, str], int]) -> list[str]:
    """The risk rules that fire on what central knows of the traveller (the gates' rules, before arrival)."""
    expiry = min((d.expiry_date for d in documents if d.expiry_date), default=None)
    traveller = next((known[k] for d in documents if (k := (document_number(d.number), d.issuing_state)) in known),
                     None)
    risk = rules.assess(session, traveller, arrival, expiry)
    return [f"risk rules {', '.join(risk.fired)} (score {risk.score:.2f})"] if risk.fired else []


def _arrival_checks(session: Session, rules: Rules, people: list[tuple[m.ApiPerson, list[DocumentToScreen]]],
                    flight_date: dt.date, airport: str) -> list[list[str]]:
    """The profiles and the stay rule on each arriving passenger with a document, judged by their first one
    (crew, persons in transit and those without a document get none: the last are already to check)."""
    arriving = [i for i, (row, documents) in enumerate(people) if row.role in arrival.ARRIVING and documents]
    found = arrival.checks(session, rules.stay, [
        arrival.Arriving(row.surname, row.given_names, row.birth_date, row.nationality, doc.doc_type,
                         doc.issuing_state, doc.number)
        for row, doc in ((people[i][0], people[i][1][0]) for i in arriving)], flight_date, airport)
    reasons: list[list[str]] = [[] for _ in people]
    for i, checks in zip(arriving, found):
        reasons[i] = checks
    return reasons


def _screen_and_add(session: Session, caller: Caller, people: list[tuple[m.ApiPerson, list[Document]]],
                    flight_date: dt.date, flight: m.ApiFlight, rules: Rules) -> list[str]:
    """Screen every person, then add them and their documents in two batched inserts; their statuses.

    Screening only reads; rows are added after it, so that its queries do not flush one row at a time."""
    screened = [_documents(documents) for _, documents in people]
    arrival_at = dt.datetime.combine(flight_date, dt.time(12), dt.timezone.utc)
    known = _known_travellers(session, [d for documents in screened for d in documents])
    entering = _arrival_checks(session, rules, [(row, to_screen) for (row, _), to_screen in zip(people, screened)],
                               flight_date, flight.arrival_airport)
    for (row, _), to_screen, checks in zip(people, screened, entering):
        result = screen(session, Identity(row.surname, row.given_names, row.birth_date, row.nationality),
                        to_screen, flight_date)
        risk = _risk(session, rules.risk, to_screen, arrival_at, known) + checks
        row.status = "CHECK" if risk and result.status == "CLEAR" else result.status
        row.reasons = result.reasons + risk
    session.add_all(row for row, _ in people)
    session.flush()
    session.add_all(m.ApiDocument(person_id=row.id, doc_type=d.doc_type, number=d.number[:40],
                                  number_norm=document_number(d.number)[:40], issuing_state=d.issuing_state[:3],
                                  expiry_date=d.expiry_date)
                    for (row, _), to_screen in zip(people, screened) for d in to_screen)
    for row, _ in people:
        if row.status == "HIT":
            audit(session, caller, "ScreenApiPerson", f"person {row.surname}, {row.given_names} "
                  f"{row.birth_date.isoformat() if row.birth_date else '?'} on {flight.flight_key}", "HIT", PURPOSE)
    session.flush()
    return [row.status for row, _ in people]


def _person_details(person: Person) -> dict:
    keep = ("residence", "birth_place", "embarkation", "debarkation", "address", "booking_reference",
            "passenger_reference", "seat", "crew_function")
    return {k: getattr(person, k) for k in keep if getattr(person, k)}


def _traveller_details(traveller: Traveller) -> dict:
    return {"reference": traveller.reference, "type": traveller.type, "visas": traveller.visas,
            "addresses": traveller.addresses, "frequent_flyer": traveller.frequent_flyer,
            "seats": traveller.seats, "tickets": traveller.tickets}


def address_link(address: dict) -> str:
    """An address as PNRs are linked by it: street, postcode and city, upper case ("" when it has no street and no
    city or postcode: a town alone would link half the flight). Not the country: ADD writes it in two letters,
    SSR DOCA in three."""
    def part(key: str) -> str:
        return " ".join(str(address.get(key) or "").upper().split())
    street, postcode, city = part("street"), part("postcode"), part("city")
    if not street or not (city or postcode):
        return ""
    return f"{street}, {' '.join(p for p in (postcode, city) if p)}"[:200]


def _links(pnr: Pnr) -> set[tuple[str, str]]:
    """The values a PNR may share with others: booking reference, contacts, addresses, payment digests, agency."""
    found = {("booking", f"{pnr.carrier}:{pnr.locator}")} if pnr.locator else set()
    found |= {("address", value) for value in map(address_link, pnr.addresses) if value}
    found |= {("contact", "".join(c["value"].split()).upper()) for c in pnr.contacts if c.get("value")}
    found |= {("payment", p["account_digest"]) for p in pnr.payments if p.get("account_digest")}
    agency = pnr.agency.get("iata_number") or pnr.agency.get("office")
    if agency and agency.strip("0"):
        found.add(("agency", agency.upper()))
    return {(kind, value[:200]) for kind, value in found}


def _store_persons(session, caller, manifest, flight, persons: list[Person], rules: Rules) -> tuple[int, int]:
    day = flight.flight_date or dt.date.today()
    people = [(_person_row(manifest.id, position, person.role, person.surname, person.given_names, person.sex,
                           person.birth_date, person.nationality, _person_details(person)), person.documents)
              for position, person in enumerate(persons, 1)]
    statuses = _screen_and_add(session, caller, people, day, flight, rules)
    return statuses.count("HIT"), statuses.count("CHECK")


def _store_pnrs(session, caller, manifest, flight, pnrs: list[Pnr], rules: Rules) -> tuple[int, int, int]:
    day = flight.flight_date or dt.date.today()
    records = []
    for pnr in pnrs:
        data = {k: v for k, v in asdict(pnr).items() if k not in ("locator", "carrier", "travellers", "segment")}
        for payment in data["payments"]:
            payment.pop("account_digest", None)  # kept only as a link, never beside the PNR
        records.append(m.PnrRecord(manifest_id=manifest.id, locator=pnr.locator[:16], carrier=pnr.carrier[:3],
                                   data=data))
    session.add_all(records)
    session.flush()
    session.add_all(m.PnrLink(pnr_id=record.id, kind=kind, value=value)
                    for record, pnr in zip(records, pnrs) for kind, value in sorted(_links(pnr)))
    people = []
    for record, pnr in zip(records, pnrs):
        for traveller in pnr.travellers:
            row = _person_row(manifest.id, len(people) + 1, "pnr_traveller", traveller.surname,
                              traveller.given_names, traveller.sex, traveller.birth_date, traveller.nationality,
                              _traveller_details(traveller))
            row.pnr_id = record.id
            people.append((row, traveller.documents))
    session.flush()
    statuses = _screen_and_add(session, caller, people, day, flight, rules)
    return statuses.count("HIT"), statuses.count("CHECK"), len(people)


def store_message(session: Session, caller: Caller, message: Message, raw: bytes, now: dt.datetime,
                  risk_rules: RiskRules, stay_rules: StayRules | None = None) -> Imported:
    """Store and screen a read message in the session's transaction (the caller commits, or rolls back).

    `stay_rules`: who the 90/180 rule applies to (default: StayRules(), as central's servicer)."""
    rules = Rules(risk_rules, stay_rules or StayRules())
    if not message.flights:
        raise InvalidArgument("message", "no flight could be read (TDT or TVL): nothing to store it under")
    if not message.persons and not message.pnrs:
        raise InvalidArgument("message", f"no {'person' if message.message_type == 'PAXLST' else 'PNR'} could be "
                                         "read: nothing to store")
    flight = _flight_row(session, message.flights[0])
    digest = hashlib.sha256(raw).hexdigest()
    imported = Imported(message.message_type, problems=[p.as_dict() for p in message.problems])
    if message.message_type == "PAXLST":
        is_crew = [message.crew_list or p.role in CREW_ROLES for p in message.persons]
        groups = {"passengers": [p for p, c in zip(message.persons, is_crew) if not c],
                  "crew": [p for p, c in zip(message.persons, is_crew) if c]}
        groups = {kind: persons for kind, persons in groups.items() if persons}
    else:
        groups = {"pnr": message.pnrs}
    for list_kind, items in groups.items():
        same = session.scalar(select(m.ApiManifest).where(
            m.ApiManifest.flight_id == flight.id, m.ApiManifest.list_kind == list_kind, m.ApiManifest.current,
            m.ApiManifest.digest == digest))
        if same is not None:
            imported.lists.append(StoredList(flight.flight_key, list_kind, same.version, same.id, same.person_count,
                                             0, 0, already_stored=True))
            continue
        manifest, replaced = _new_version(session, flight, list_kind, message, digest, caller, now)
        if list_kind == "pnr":
            hits, checks, count = _store_pnrs(session, caller, manifest, flight, items, rules)
        else:
            (hits, checks), count = _store_persons(session, caller, manifest, flight, items, rules), len(items)
        manifest.person_count = count
        imported.lists.append(StoredList(flight.flight_key, list_kind, manifest.version, manifest.id, count, hits,
                                         checks, replaced_version=replaced.version if replaced else None))
        audit(session, caller, "ImportApi", f"{list_kind} of flight {flight.flight_key} version {manifest.version}",
              f"{count} screened, {hits} hit(s), {checks} to check", PURPOSE)
    return imported
