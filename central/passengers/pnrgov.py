"""PNRGOV (11.1 and 13.1) to the flight and its PNRs with their travellers.

Before the first SRC: MSG, ORG (the sender), TVL (the flight: dates DDMMYY:HHMM, from, to, carrier,
number) and EQN. Each SRC starts a PNR: RCI (record locator), DAT, ORG (the booking agency: IATA
number and office), ADD (address: purpose, street, city, region, country, postcode, phone), IFT and
SSR CTCE/CTCM/CTCH (contacts), FOP (form of payment: type, -, amount, vendor, account, expiry; the
account is masked to its last four digits), TIF (a traveller: surname, given names, reference) with
FTI, SSR DOCS/DOCO/DOCA and TKT, TVL+RPI (the itinerary), SSR SEAT, EBD and TBD (bags). ABI and
LTS begin the history: what follows them is a past state of the PNR, kept as history, never read as
the current one. Carriers place these fields differently; the placements read here are documented
in docs/API.md.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from central.passengers import dates
from central.passengers.edifact.segments import Problem, Segment
from central.passengers.parsed import Document, Flight, Message, Pnr, Traveller

_KNOWN_UNUSED = frozenset({"UNG", "UNE", "UNT", "UNZ", "UNB", "UNH", "MSG", "EQN", "MON", "PTK", "TXD", "FAR",
                           "APD", "DAT", "REF", "CTA", "EQD", "SAC", "CNT"})


def mask_account(number: str) -> str:
    """A card or account number with all but its last four characters hidden (what is stored and shown)."""
    digits = "".join(number.split())
    return "*" * max(len(digits) - 4, 0) + digits[-4:] if len(digits) > 4 else digits


def _slashed(seg: Segment) -> list[str]:
    """The /-separated free text of an SSR (DOCS, DOCO, DOCA), wherever the carrier put it in the first element."""
    for part in seg.components(0)[1:] + tuple(p for i in range(1, 4) for p in seg.components(i)):
        if "/" in part:
            return part.strip().strip("/").split("/")
    return []


_TITLES = frozenset({"MR", "MRS", "MS", "MISS", "MSTR", "DR", "PROF", "CHD", "INF"})


def _without_title(given: str) -> str:
    """PNR given names carry the title after them ("JOHN MR"); the person's name is what precedes it."""
    words = given.upper().split()
    return " ".join(words[:-1] if len(words) > 1 and words[-1] in _TITLES else words)


def _contact(text: str) -> dict | None:
    value = text.strip()
    if not value:
        return None
    if "@" in value or "//" in value:
        return {"kind": "email", "value": value.replace("//", "@").upper()}
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) >= 6 and len(digits) >= len(value.replace(" ", "")) // 2:
        return {"kind": "phone", "value": "+" + digits if value.lstrip().startswith("+") else digits}
    return None


class _Reader:
    def __init__(self, message: Message, today: dt.date):
        self.message, self.today = message, today
        self.pnr: Pnr | None = None
        self.traveller: Traveller | None = None
        self.history: dict | None = None

    def problem(self, seg: Segment, text: str) -> None:
        self.message.problems.append(Problem(seg.number, seg.tag, text))

    def read(self, seg: Segment) -> None:
        if self.history is not None and seg.tag not in ("SRC", "ABI", "LTS", "UNT", "UNZ", "UNE"):
            self.history["actions"].append(" ".join(":".join(e).rstrip(":") for e in ((seg.tag,),) + seg.elements))
            return
        if self.pnr is None and seg.tag not in ("SRC", "TVL", "ORG"):
            if seg.tag not in _KNOWN_UNUSED:
                self.problem(seg, "outside a PNR (no SRC before it): ignored")
            return
        handler = getattr(self, f"_{seg.tag.lower()}", None)
        if handler is not None:
            handler(seg)
        elif seg.tag not in _KNOWN_UNUSED:
            self.problem(seg, "not a PNRGOV segment: ignored")

    def _flight_of(self, seg: Segment) -> dict:
        when = seg.components(0)
        try:
            departure = dates.ddmmyy(when[0], when[1] if len(when) > 1 else "", today=self.today) if when else ""
            arrival = (dates.ddmmyy(when[2], when[3] if len(when) > 3 else "", today=self.today)
                       if len(when) > 2 and when[2] else "")
        except ValueError as exc:
            self.problem(seg, f"date not read: {exc}")
            departure = arrival = ""
        carrier = seg.get(3).upper()
        number = seg.get(4).upper()
        designator = carrier + number if number and number[0].isdigit() else number
        return {"carrier": carrier, "number": designator, "departure_airport": seg.get(1).upper(),
                "departure_time": departure, "arrival_airport": seg.get(2).upper(), "arrival_time": arrival,
                "booking_class": seg.get(4, 1).upper()}

    def _tvl(self, seg: Segment) -> None:
        leg = self._flight_of(seg)
        if self.pnr is None:
            if not leg["number"]:
                self.problem(seg, "no flight number: flight ignored")
                return
            leg.pop("booking_class")
            self.message.flights.append(Flight(**leg))
        else:
            self.pnr.itinerary.append(leg)

    def _org(self, seg: Segment) -> None:
        if self.pnr is None:
            self.message.sender = self.message.sender or ":".join(p for p in seg.components(0) if p)
            return
        self.pnr.agency = {"system": seg.get(0, 0).upper(), "location": seg.get(0, 1).upper(),
                           "iata_number": seg.get(1, 0), "office": seg.get(1, 1).upper(),
                           "city": seg.get(2, 0).upper()}

    def _src(self, seg: Segment) -> None:
        self.pnr = Pnr(segment=seg.number)
        self.traveller = self.history = None
        self.message.pnrs.append(self.pnr)

    def _rci(self, seg: Segment) -> None:
        if self.pnr.locator:
            return  # a second RCI names the same booking in another system
        self.pnr.carrier, self.pnr.locator = seg.get(0, 0).upper(), seg.get(0, 1).upper()
        try:
            if seg.get(0, 3):
                self.pnr.created = dates.ddmmyy(seg.get(0, 3), seg.get(0, 4), today=self.today)
        except ValueError as exc:
            self.problem(seg, f"date not read: {exc}")
        if not self.pnr.locator:
            self.problem(seg, "no record locator")

    def _tif(self, seg: Segment) -> None:
        given = seg.components(1)
        self.traveller = Traveller(surname=seg.get(0, 0).upper(), given_names=_without_title(given[0] if given else ""),
                                   type=seg.get(1, 1).upper(), reference=seg.get(1, 2))
        if not self.traveller.surname:
            self.problem(seg, "a traveller without a surname")
        self.pnr.travellers.append(self.traveller)

    def _fti(self, seg: Segment) -> None:
        if self.traveller is not None:
            self.traveller.frequent_flyer = (seg.get(0, 0) + seg.get(0, 1)).upper()

    def _tkt(self, seg: Segment) -> None:
        number = seg.get(0, 0)
        self.pnr.tickets.append({"number": number, "type": seg.get(0, 1).upper(),
                                 "traveller": self.traveller.reference if self.traveller else ""})
        if self.traveller is not None:
            self.traveller.tickets.append(number)

    def _add(self, seg: Segment) -> None:
        parts = next((seg.components(i) for i in range(len(seg.elements)) if len(seg.components(i)) > 1), ())
        parts = tuple(p.strip().upper() for p in parts) + ("",) * 7
        address = {"purpose": parts[0], "street": parts[1], "city": parts[2], "region": parts[3],
                   "country": parts[4], "postcode": parts[5]}
        self.pnr.addresses.append(address)
        if parts[6] and (contact := _contact(parts[6])):
            self.pnr.contacts.append(contact)

    def _ift(self, seg: Segment) -> None:
        for i in range(1, len(seg.elements)):
            text = " ".join(seg.components(i))
            text = text[4:] if text.upper().startswith(("CTCH", "CTCB", "CTCM", "CTCE")) else text
            if contact := _contact(text):
                self.pnr.contacts.append(contact)

    def _fop(self, seg: Segment) -> None:
        for i in range(len(seg.elements)):
            kind = seg.get(i, 0).upper()
            if not kind:
                continue
            self.pnr.payments.append({"type": kind, "amount": seg.get(i, 2), "vendor": seg.get(i, 3).upper(),
                                      "account": mask_account(seg.get(i, 4)), "expiry": seg.get(i, 5),
                                      "account_digest": _digest(seg.get(i, 4))})

    def _rpi(self, seg: Segment) -> None:
        if self.pnr.itinerary:
            self.pnr.itinerary[-1]["status"] = seg.get(1).upper()

    def _ebd(self, seg: Segment) -> None:
        self.pnr.bags.append({"pieces": seg.get(1, 0), "weight": seg.get(1, 1), "unit": seg.get(1, 2),
                              "excess": True, "tag": "",
                              "traveller": self.traveller.reference if self.traveller else ""})

    def _tbd(self, seg: Segment) -> None:
        self.pnr.bags.append({"pieces": seg.get(1, 0), "weight": seg.get(1, 1), "unit": seg.get(1, 2),
                              "excess": False, "tag": (seg.get(4, 0) + seg.get(4, 1)).upper(),
                              "destination": seg.get(4, 3).upper(),
                              "traveller": self.traveller.reference if self.traveller else ""})

    def _ssr(self, seg: Segment) -> None:
        code = seg.get(0, 0).upper()
        if code in ("CTCE", "CTCM", "CTCH", "CTCB"):
            text = "/".join(_slashed(seg)) or seg.get(0, -1)
            if contact := _contact(text):
                self.pnr.contacts.append(contact)
        elif code == "SEAT":
            seat = {"seat": seg.get(1, 0).upper(), "traveller": seg.get(1, 2)}
            self.pnr.seats.append(seat)
            owner = self._traveller_by_reference(seat["traveller"]) or self.traveller
            if owner is not None and seat["seat"]:
                owner.seats.append(seat["seat"])
        elif code in ("DOCS", "DOCO", "DOCA"):
            getattr(self, f"_{code.lower()}")(seg, _slashed(seg))

    def _traveller_by_reference(self, reference: str) -> Traveller | None:
        return next((t for t in self.pnr.travellers if reference and t.reference == reference), None)

    def _owner(self, seg: Segment, surname: str = "") -> Traveller:
        by_name = next((t for t in self.pnr.travellers if surname and t.surname == surname.upper()), None)
        owner = by_name or self.traveller
        if owner is None:
            self.problem(seg, "an SSR before any TIF: a traveller made from it")
            owner = Traveller(surname=surname.upper())
            self.pnr.travellers.append(owner)
            self.traveller = owner
        return owner

    def _docs(self, seg: Segment, f: list[str]) -> None:
        # /type/issuing state/number/nationality/birth DDMMMYY/sex/expiry DDMMMYY/surname/given/middle
        f = f + [""] * (10 - len(f))
        if not f[2] and not f[7]:
            self.problem(seg, "SSR DOCS without a document number or name: ignored")
            return
        owner = self._owner(seg, f[7])
        birth = expiry = ""
        try:
            birth = dates.ddmmmyy(f[4], birth=True, today=self.today) if f[4] else ""
            expiry = dates.ddmmmyy(f[6], today=self.today) if f[6] else ""
        except ValueError as exc:
            self.problem(seg, f"date not read: {exc}")
        owner.documents.append(Document(type=f[0].upper(), issuing_state=f[1].upper(), number=f[2].upper(),
                                        nationality=f[3].upper(), expiry_date=expiry))
        owner.birth_date = owner.birth_date or birth
        owner.sex = owner.sex or f[5].upper()[:1]
        owner.nationality = owner.nationality or f[3].upper()
        if not owner.given_names and f[8]:
            owner.given_names = " ".join(x for x in f[8:] if x).upper()

    def _doco(self, seg: Segment, f: list[str]) -> None:
        # /place of birth/type (V visa)/number/place of issue/issue date DDMMMYY/country it is valid for
        f = f + [""] * (6 - len(f))
        self._owner(seg).visas.append({"birth_place": f[0].upper(), "type": f[1].upper(), "number": f[2].upper(),
                                       "issued_at": f[3].upper(), "issue_date": f[4].upper(),
                                       "valid_for": f[5].upper()})

    def _doca(self, seg: Segment, f: list[str]) -> None:
        # /type (R residence, D destination)/country/street/city/region/postcode
        f = f + [""] * (6 - len(f))
        address = {"purpose": f[0].upper(), "country": f[1].upper(), "street": f[2].upper(), "city": f[3].upper(),
                   "region": f[4].upper(), "postcode": f[5].upper()}
        self._owner(seg).addresses.append(address)
        self.pnr.addresses.append(address)

    def _abi(self, seg: Segment) -> None:
        self.history = {"by": ":".join(p for p in seg.components(1) if p).upper(), "actions": []}
        self.pnr.history.append(self.history)

    def _lts(self, seg: Segment) -> None:
        self.pnr.history.append({"by": "", "actions": [" ".join(seg.components(0))]})


def _digest(account: str) -> str:
    """A digest of the account number for linking PNRs that paid with it, never the number itself."""
    digits = "".join(c for c in account if c.isalnum())
    return hashlib.sha256(digits.encode()).hexdigest()[:32] if len(digits) >= 6 else ""


def read(segments: list[Segment], message: Message, today: dt.date) -> None:
    """Fill `message` with the flight and the PNRs of PNRGOV segments, its problems with what could not be read."""
    reader = _Reader(message, today)
    for seg in segments:
        reader.read(seg)
    for pnr in message.pnrs:
        if not pnr.travellers:
            message.problems.append(Problem(pnr.segment, "SRC", f"PNR {pnr.locator or '?'} names no traveller"))
