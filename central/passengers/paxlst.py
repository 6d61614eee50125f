"""PAXLST (UN/EDIFACT D02B and D05B, as the WCO/IATA/ICAO API guidelines use it) to flights and persons.

The groups, in the order a message sends them: the flight (TDT, then LOC 125 departure / 87 arrival
with DTM 189 / 232), then a person per NAD (FL passenger, FM crew, DDT/DDU in transit, COT crew of an
overflight) with ATT (sex), DTM 329 (birth), NAT, LOC (178 embarkation, 179 debarkation, 174
residence, 180 birth place), RFF (AVF booking, ABO passenger reference, SEA seat), EMP (crew
function), then per document DOC with DTM 36 (expiry) / 182 (issue) and LOC 91 (issuing state).
CNT 42 and 41 are checked against the persons read.
"""
from __future__ import annotations

import datetime as dt

from central.passengers import dates
from central.passengers.edifact.segments import Problem, Segment
from central.passengers.parsed import CREW_ROLES, ROLES, Document, Flight, Message, Person

# Segments a PAXLST may carry that say nothing this mapping keeps (service segments, texts, contacts).
_KNOWN_UNUSED = frozenset({"UNG", "UNE", "UNT", "UNZ", "UNB", "UNH", "BGM", "COM", "FTX", "GEI", "QTY", "CTA", "FTI",
                           "SEQ", "GIS"})


class _Reader:
    def __init__(self, message: Message, today: dt.date):
        self.message, self.today = message, today
        self.flight: Flight | None = None
        self.person: Person | None = None
        self.document: Document | None = None
        self.counts: dict[str, tuple[int, int]] = {}  # CNT qualifier -> (count, segment)

    def problem(self, seg: Segment, text: str) -> None:
        self.message.problems.append(Problem(seg.number, seg.tag, text))

    def date(self, seg: Segment, birth: bool = False) -> str:
        try:
            return dates.dtm(seg.get(0, 1), seg.get(0, 2), birth=birth, today=self.today)
        except (ValueError, IndexError) as exc:
            self.problem(seg, f"date not read: {exc}")
            return ""

    def read(self, seg: Segment) -> None:
        handler = getattr(self, f"_{seg.tag.lower()}", None)
        if handler is not None:
            handler(seg)
        elif seg.tag not in _KNOWN_UNUSED:
            self.problem(seg, "not a PAXLST segment: ignored")

    def _bgm(self, seg: Segment) -> None:
        if seg.get(0) == "250":
            self.message.crew_list = True

    def _tdt(self, seg: Segment) -> None:
        self.person = self.document = None
        designator = seg.get(1).replace(" ", "").upper()
        carrier = seg.get(4) or designator[:2]
        if designator and designator[0].isdigit() and carrier:
            designator = carrier.upper() + designator
        if not designator:
            self.problem(seg, "no flight number: flight ignored")
            self.flight = None
            return
        # A manifest sent in parts repeats the flight in each part: one flight, filled in from each.
        self.flight = next((f for f in self.message.flights if f.number == designator), None)
        if self.flight is None:
            self.flight = Flight(carrier=carrier.upper(), number=designator)
            self.message.flights.append(self.flight)

    def _loc(self, seg: Segment) -> None:
        qualifier, place = seg.get(0), seg.get(1).upper()
        if self.person is None:
            if self.flight is None:
                self.problem(seg, "a location before any flight: ignored")
            elif qualifier == "125":
                self.flight.departure_airport = place or self.flight.departure_airport
            elif qualifier == "87":
                self.flight.arrival_airport = place or self.flight.arrival_airport
            return
        if self.document is not None and qualifier == "91":
            self.document.issuing_state = place
            return
        field = {"178": "embarkation", "179": "debarkation", "174": "residence", "180": "birth_place",
                 "22": "debarkation"}.get(qualifier)
        if field and not (qualifier == "22" and self.person.debarkation):
            setattr(self.person, field, place)

    def _dtm(self, seg: Segment) -> None:
        qualifier = seg.get(0, 0)
        if self.person is None:
            if self.flight is None:
                self.problem(seg, "a date before any flight: ignored")
            elif qualifier in ("189", "232"):
                attr = "departure_time" if qualifier == "189" else "arrival_time"
                setattr(self.flight, attr, self.date(seg))
            return
        if qualifier == "329":
            self.person.birth_date = self.date(seg, birth=True)
        elif self.document is not None and qualifier in ("36", "182"):
            setattr(self.document, "expiry_date" if qualifier == "36" else "issue_date", self.date(seg))

    def _nad(self, seg: Segment) -> None:
        role = ROLES.get(seg.get(0).upper())
        if role is None:
            self.person = self.document = None  # NAD+MS and the like: the sender's contact, not a person
            return
        name = seg.components(3)
        surname = name[0].strip() if name else ""
        given = " ".join(n.strip() for n in name[1:] if n.strip())
        if not surname:
            self.problem(seg, "a person without a surname")
        street = " ".join(p for i in range(4, 9) for p in seg.components(i) if p.strip())
        self.person = Person(role=role, surname=surname.upper(), given_names=given.upper(), address=street,
                             segment=seg.number)
        self.document = None
        self.message.persons.append(self.person)

    def _need_person(self, seg: Segment) -> bool:
        if self.person is None:
            self.problem(seg, "outside a person (no NAD before it): ignored")
        return self.person is not None

    def _att(self, seg: Segment) -> None:
        if self._need_person(seg) and seg.get(0) == "2":
            self.person.sex = seg.get(2).upper()[:1]

    def _nat(self, seg: Segment) -> None:
        if self._need_person(seg):
            self.person.nationality = seg.get(1).upper()

    def _rff(self, seg: Segment) -> None:
        if self.person is None:
            return  # the message's own reference (RFF+TN) before the persons
        qualifier, value = seg.get(0, 0).upper(), seg.get(0, 1)
        field = {"AVF": "booking_reference", "ABO": "passenger_reference", "SEA": "seat"}.get(qualifier)
        if field:
            setattr(self.person, field, value.upper())

    def _emp(self, seg: Segment) -> None:
        if self._need_person(seg):
            self.person.crew_function = seg.get(1, 0).upper()

    def _doc(self, seg: Segment) -> None:
        if not self._need_person(seg):
            return
        number = seg.get(1).replace(" ", "").upper()
        if not number:
            self.problem(seg, "a document without a number")
        self.document = Document(type=seg.get(0, 0).upper(), number=number)
        self.person.documents.append(self.document)

    def _cnt(self, seg: Segment) -> None:
        try:
            self.counts[seg.get(0, 0)] = (int(seg.get(0, 1)), seg.number)
        except ValueError:
            self.problem(seg, f"count {seg.get(0, 1)!r} is not a number")

    def finish(self) -> None:
        crew = sum(p.role in CREW_ROLES for p in self.message.persons)
        passengers = len(self.message.persons) - crew
        for qualifier, read, what in (("42", passengers, "passengers"), ("41", crew, "crew")):
            if qualifier in self.counts and self.counts[qualifier][0] != read:
                count, number = self.counts[qualifier]
                self.message.problems.append(Problem(number, "CNT", f"declares {count} {what}, {read} read"))


def read(segments: list[Segment], message: Message, today: dt.date) -> None:
    """Fill `message` with the flights and persons of PAXLST segments, its problems with what could not be read."""
    reader = _Reader(message, today)
    for seg in segments:
        reader.read(seg)
    reader.finish()
