"""What a PAXLST or PNRGOV message says, as plain values: flights, persons and their documents, PNRs.

Dates are ISO 8601 strings ('' when the message gives none or one that cannot be read); codes are
kept as sent, upper-cased. `as_dict` is the JSON `limes api parse` prints.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from central.passengers.edifact.segments import Problem

# NAD party qualifiers of a PAXLST person (UN/EDIFACT 3035 as the API guidelines use them).
ROLES = {"FL": "passenger", "FM": "crew", "DDT": "transit_passenger", "DDU": "transit_crew",
         "COT": "overflight_crew"}
CREW_ROLES = frozenset({"crew", "transit_crew", "overflight_crew"})


@dataclass
class Flight:
    carrier: str = ""
    number: str = ""  # carrier and number as one designator, e.g. "LH400"
    departure_airport: str = ""
    departure_time: str = ""
    arrival_airport: str = ""
    arrival_time: str = ""

    def key(self) -> str:
        """The flight a later message replaces: designator, arrival airport and scheduled date."""
        day = (self.arrival_time or self.departure_time)[:10]
        return f"{self.number[:12]}/{self.arrival_airport[:5]}/{day}"


@dataclass
class Document:
    type: str = ""
    number: str = ""
    issuing_state: str = ""
    expiry_date: str = ""
    issue_date: str = ""
    nationality: str = ""  # SSR DOCS carries one beside the document


@dataclass
class Person:
    role: str = "passenger"
    surname: str = ""
    given_names: str = ""
    sex: str = ""
    birth_date: str = ""
    nationality: str = ""
    residence: str = ""
    birth_place: str = ""
    embarkation: str = ""
    debarkation: str = ""
    address: str = ""
    booking_reference: str = ""
    passenger_reference: str = ""
    seat: str = ""
    crew_function: str = ""
    documents: list[Document] = field(default_factory=list)
    segment: int = 0  # where the person begins in the message, for problems and the desk


@dataclass
class Traveller:
    surname: str = ""
    given_names: str = ""
    reference: str = ""
    type: str = ""
    sex: str = ""
    birth_date: str = ""
    nationality: str = ""
    documents: list[Document] = field(default_factory=list)  # SSR DOCS
    visas: list[dict] = field(default_factory=list)  # SSR DOCO
    addresses: list[dict] = field(default_factory=list)  # SSR DOCA
    frequent_flyer: str = ""
    seats: list[str] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)


@dataclass
class Pnr:
    locator: str = ""
    carrier: str = ""
    created: str = ""
    travellers: list[Traveller] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)  # {"kind": phone|email|text, "value": ...}
    addresses: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)  # {"type": CC|CA|..., "vendor", "account" (masked), ...}
    agency: dict = field(default_factory=dict)
    itinerary: list[dict] = field(default_factory=list)
    seats: list[dict] = field(default_factory=list)
    bags: list[dict] = field(default_factory=list)
    tickets: list[dict] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    segment: int = 0


@dataclass
class Message:
    message_type: str  # PAXLST | PNRGOV
    version: str = ""  # e.g. "D02B", "D05B", "11.1", "13.1"
    sender: str = ""
    crew_list: bool = False
    flights: list[Flight] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    pnrs: list[Pnr] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"message_type": self.message_type, "version": self.version, "sender": self.sender,
                "crew_list": self.crew_list,
                "flights": [asdict(f) | {"key": f.key()} for f in self.flights],
                "persons": [asdict(p) for p in self.persons], "pnrs": [asdict(p) for p in self.pnrs],
                "problems": [p.as_dict() for p in self.problems]}
