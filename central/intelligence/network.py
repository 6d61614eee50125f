"""Link analysis over central's records: co-travel groups, and the network around one person with the
reasons for every edge (co-travel, a shared document number, being named in the same report, and from
passenger data: booked on the same PNR, a phone number, address, booking reference or form of payment
that PNRs share).

Reading names is reading personal data: each query is audited. Reports contribute edges only when
the reader may read them in full (central.intelligence.clearance); passenger data only when the reader
may read PNR links (the caller says so: `passenger_data`), and each such read is audited as one.
"""
from __future__ import annotations

import datetime as dt
import uuid
from array import array
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from central.access.audit import Caller, audit
from central.database import models as m
from central.database.keys import parse_key
from central.errors import InvalidArgument, NotFound
from central.intelligence import cotravel
from central.intelligence.clearance import Access, Reader, access_to
from central.intelligence.cotravel import Passage
from drivers.alertmatch.normalize import document_number

MAX_DEPTH, MAX_NODES = 2, 150
# A person's newest crossings looked at for co-travel (a daily commuter's year is about 500).
MAX_OWN_CROSSINGS = 1000
# Values PNRs share that link their travellers, in words. Agencies are left out: a travel agency's IATA
# number links everyone it booked, which says nothing of them.
PNR_LINK_WORDS = {"booking": "same booking reference", "contact": "same phone number", "address": "same address",
                  "payment": "same form of payment"}
# A value carried by more PNRs than this (a hotel's address, a call centre's number) links no one in particular.
MAX_PNRS_SHARING = 50
PNR_PURPOSE = "advance passenger information: network analysis"


@dataclass(frozen=True)
class CoTravelQuery:
    window: dt.timedelta = dt.timedelta(minutes=10)
    min_together: int = 3
    lookback: dt.timedelta = dt.timedelta(days=365)

    def __post_init__(self) -> None:
        if not dt.timedelta(minutes=1) <= self.window <= dt.timedelta(hours=6):
            raise InvalidArgument("window", "1 minute to 6 hours")
        if not 2 <= self.min_together <= 1000:
            raise InvalidArgument("min_together", "2 to 1000")
        if not dt.timedelta(days=1) <= self.lookback <= dt.timedelta(days=5 * 366):
            raise InvalidArgument("lookback", "1 day to 5 years")


@dataclass
class Group:
    members: list[m.Traveller]
    pairs: list[tuple[uuid.UUID, uuid.UUID, int, list[str]]]  # (traveller, traveller, occasions, points)


@dataclass
class Network:
    centre: str
    graph: nx.Graph = field(default_factory=nx.Graph)

    def edges(self) -> list[tuple[str, str, list[str]]]:
        """(one end, the other, reasons), the ends in sorted order."""
        return sorted((*sorted((a, b)), data["reasons"]) for a, b, data in self.graph.edges(data=True))


def _passages(rows) -> list[Passage]:
    return [Passage(crossing, traveller, f"{point} {direction.value}", at) for crossing, traveller, point, direction, at
            in rows]


@dataclass
class _Numbered:
    """Passages as columns, each crossing's and traveller's key given a number (the columns are int64), and
    the keys by number to turn what the columns find back into keys."""
    passages: cotravel.Passages
    crossings: list[uuid.UUID]
    travellers: list[uuid.UUID]

    def keyed(self, found: dict[tuple[int, int], cotravel.Together]) -> dict[tuple[uuid.UUID, uuid.UUID],
                                                                             cotravel.Together]:
        """`found` under the keys, each pair's lower key first (as `cotravel.pairs` orders them)."""
        keyed = {}
        for (a, b), together in found.items():
            one, other = self.travellers[a], self.travellers[b]
            mine = {self.crossings[c] for c in together.a_crossings}
            theirs = {self.crossings[c] for c in together.b_crossings}
            if other < one:
                one, other, mine, theirs = other, one, theirs, mine
            keyed[one, other] = cotravel.Together(mine, theirs, together.points)
        return keyed


def _columns(rows) -> _Numbered:
    """Passages as arrays, read in batches (a year of a busy airport is millions of crossings)."""
    labels: dict[str, int] = {}
    numbers: dict[uuid.UUID, int] = {}
    crossings: list[uuid.UUID] = []
    crossing, traveller, point, at = (array("q") for _ in range(4))
    for batch in rows.partitions(50_000):
        for crossing_id, traveller_id, code, direction, occurred_at in batch:
            crossing.append(len(crossings))
            crossings.append(crossing_id)
            traveller.append(numbers.setdefault(traveller_id, len(numbers)))
            point.append(labels.setdefault(f"{code} {direction.value}", len(labels)))
            utc = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=dt.timezone.utc)
            at.append(int(utc.timestamp()))
    passages = cotravel.Passages(*(np.frombuffer(a, dtype=np.int64) if len(a) else np.empty(0, np.int64)
                                   for a in (crossing, traveller, point, at)), list(labels))
    return _Numbered(passages, crossings, list(numbers))


_PASSAGE_COLUMNS = (m.Crossing.id, m.Crossing.traveller_id, m.BorderPoint.code, m.Crossing.direction,
                    m.Crossing.occurred_at)


def co_travel_groups(session: Session, caller: Caller, query: CoTravelQuery, until: dt.datetime,
                     border_point: str = "") -> list[Group]:
    """Groups of co-travellers among the crossings of the lookback period before `until`; audited."""
    select_passages = (select(*_PASSAGE_COLUMNS).join(m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id)
                       .where(m.Crossing.occurred_at > until - query.lookback, m.Crossing.occurred_at <= until)
                       .execution_options(yield_per=50_000))
    if border_point:
        select_passages = select_passages.where(m.BorderPoint.code == border_point)
    numbered = _columns(session.execute(select_passages))
    found = numbered.keyed(cotravel.co_travellers_columns(numbered.passages, query.window, query.min_together))
    travellers = {t.id: t for t in session.scalars(select(m.Traveller).where(
        m.Traveller.id.in_({i for pair in found for i in pair})))} if found else {}
    result = []
    for members in cotravel.groups(found):
        pairs = [(a, b, t.occasions, sorted(t.points)) for (a, b), t in sorted(found.items())
                 if a in members and b in members]
        result.append(Group([travellers[i] for i in sorted(members)], pairs))
    where = f" at {border_point}" if border_point else ""
    audit(session, caller, "CoTravelGroups", f"crossings{where} to {until:%Y-%m-%d}",
          f"{len(result)} group(s), {sum(len(g.members) for g in result)} traveller(s)", "link analysis")
    return result


def _co_travellers_of(session: Session, traveller_id: uuid.UUID, query: CoTravelQuery, until: dt.datetime
                      ) -> dict[tuple[uuid.UUID, uuid.UUID], cotravel.Together]:
    """The person's co-travellers, from the crossings near each of theirs (found through the time index).

    The time windows are computed here and bound as parameters: date arithmetic in SQL is not portable.
    """
    own = session.execute(select(m.Crossing.border_point_id, m.Crossing.direction, m.Crossing.occurred_at).where(
        m.Crossing.traveller_id == traveller_id, m.Crossing.occurred_at > until - query.lookback,
        m.Crossing.occurred_at <= until).order_by(m.Crossing.occurred_at.desc()).limit(MAX_OWN_CROSSINGS)).all()
    passages: set[Passage] = set()
    for start in range(0, len(own), 100):
        near = or_(*(and_(m.Crossing.border_point_id == point, m.Crossing.direction == direction,
                          m.Crossing.occurred_at >= at - query.window, m.Crossing.occurred_at <= at + query.window)
                     for point, direction, at in own[start:start + 100]))
        passages.update(_passages(session.execute(select(*_PASSAGE_COLUMNS).join(
            m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id).where(near))))
    return cotravel.co_travellers_of(passages, traveller_id, query.window, query.min_together)


def _label(traveller: m.Traveller) -> str:
    return f"{traveller.surname}, {traveller.given_names} {traveller.birth_date or ''} {traveller.nationality}".strip()


def _add_edge(graph: nx.Graph, a: str, b: str, reason: str) -> None:
    if graph.has_edge(a, b):
        graph.edges[a, b]["reasons"].append(reason)
    else:
        graph.add_edge(a, b, reasons=[reason])


def person_network(session: Session, caller: Caller, who: Reader, traveller_id: uuid.UUID, query: CoTravelQuery,
                   until: dt.datetime, depth: int = 1, passenger_data: bool = False) -> Network:
    """The network around a traveller to `depth` steps (1 or 2), every edge with its reasons; audited.

    `passenger_data`: the reader may read PNR links, and the edges from them are added (audited apart)."""
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidArgument("depth", f"1 to {MAX_DEPTH}")
    centre = session.get(m.Traveller, traveller_id)
    if centre is None:
        raise NotFound("traveller", str(traveller_id))
    network = Network(f"p{traveller_id}")
    graph = network.graph
    graph.add_node(network.centre, label=_label(centre), kind="person", centre=True)
    frontier, seen = [traveller_id], {traveller_id}
    for _ in range(depth):
        following = []
        for person in frontier:
            for neighbour in _neighbours(session, who, person, query, until, graph, passenger_data):
                if neighbour not in seen and len(graph) < MAX_NODES:
                    seen.add(neighbour)
                    following.append(neighbour)
        frontier = following
    people = [uuid.UUID(n[1:]) for n, kind in graph.nodes(data="kind") if kind == "person"]
    for traveller in session.scalars(select(m.Traveller).where(m.Traveller.id.in_(people))):
        graph.nodes[f"p{traveller.id}"].update(label=_label(traveller), kind="person")
    audit(session, caller, "PersonNetwork", f"traveller {traveller_id}",
          f"{graph.number_of_nodes()} node(s), {graph.number_of_edges()} edge(s), depth {depth}", "link analysis")
    if passenger_data:
        from_pnrs = sum(1 for _, _, reasons in graph.edges(data="reasons")
                        if any(from_passenger_data(r) for r in reasons))
        audit(session, caller, "ReadPnrLinks", f"network of traveller {traveller_id}",
              f"{from_pnrs} edge(s) from passenger data", PNR_PURPOSE)
    return network


def from_passenger_data(reason: str) -> bool:
    """Whether an edge's reason comes from PNRs."""
    return reason.startswith(("booked together on PNR", *PNR_LINK_WORDS.values(), "same e-mail address"))


def _neighbours(session: Session, who: Reader, person: uuid.UUID, query: CoTravelQuery, until: dt.datetime,
                graph: nx.Graph, passenger_data: bool = False) -> set[uuid.UUID]:
    """Adds the person's edges to the graph; the other travellers they lead to."""
    here, others = f"p{person}", set()
    for (a, b), together in _co_travellers_of(session, person, query, until).items():
        other = b if a == person else a
        others.add(other)
        graph.add_node(f"p{other}", kind="person")
        _add_edge(graph, here, f"p{other}", f"crossed together {together.occasions} times within "
                                            f"{int(query.window.total_seconds() // 60)} min at "
                                            f"{', '.join(sorted(together.points))}")
    theirs, shared = aliased(m.TravelDocument), aliased(m.TravelDocument)
    for number, state, holder, other_state in session.execute(
            select(theirs.number_norm, theirs.issuing_state, shared.traveller_id, shared.issuing_state)
            .join(shared, and_(shared.number_norm == theirs.number_norm, shared.traveller_id != person))
            .where(theirs.traveller_id == person)):
        others.add(holder)
        graph.add_node(f"p{holder}", kind="person")
        _add_edge(graph, here, f"p{holder}", f"same document number {number} ({state}; theirs {other_state})")
    reports = session.scalars(select(m.IntelReport).where(m.IntelReport.id.in_(
        select(m.IntelLink.report_id).where(m.IntelLink.kind == "person", m.IntelLink.target == str(person)))))
    today = until.date()
    for report in reports:
        if access_to(who, report, today)[0] is not Access.FULL:
            continue
        reason = f"named in report {report.reference[:8]} ({report.source_evaluation}{report.assessment})"
        for link in report.links:
            named = parse_key(link.target) if link.kind == "person" else None
            if named is not None and named != person:
                others.add(named)
                graph.add_node(f"p{named}", kind="person")
                _add_edge(graph, here, f"p{named}", reason)
            elif link.kind in ("vehicle", "route", "organisation"):
                node = f"{link.kind}:{link.target.lower()}"
                graph.add_node(node, kind=link.kind, label=link.target)
                _add_edge(graph, here, node, reason)
    if passenger_data:
        others |= _passenger_links(session, person, graph)
    return others


def _pnr_name(carrier: str, locator: str) -> str:
    return f"{carrier}:{locator}" if carrier else locator


def _shared_reason(kind: str, value: str, mine: str, theirs: str) -> str:
    words = "same e-mail address" if kind == "contact" and "@" in value else PNR_LINK_WORDS[kind]
    shown = f"{value[:12]}…" if kind == "payment" else value  # a digest, never the card number
    return f"{words} {shown} (PNR {mine}; theirs {theirs})" if kind != "booking" else f"{words} {value}"


def _passenger_links(session: Session, person: uuid.UUID, graph: nx.Graph) -> set[uuid.UUID]:
    """Edges from the PNRs the person travelled on (found by their document numbers) to the travellers of
    those PNRs and of the PNRs sharing a value with them; the travellers known here, by their documents.
    Depersonalised PNRs count for nothing (their documents and contacts are gone)."""
    mine = session.execute(
        select(m.ApiPerson.id, m.ApiPerson.pnr_id)
        .join(m.ApiDocument, m.ApiDocument.person_id == m.ApiPerson.id)
        .join(m.TravelDocument, and_(m.TravelDocument.number_norm == m.ApiDocument.number_norm,
                                     or_(m.ApiDocument.issuing_state == "",
                                         m.ApiDocument.issuing_state == m.TravelDocument.issuing_state)))
        .join(m.PnrRecord, m.PnrRecord.id == m.ApiPerson.pnr_id)
        .where(m.TravelDocument.traveller_id == person, m.PnrRecord.depersonalised_at.is_(None))).all()
    if not mine:
        return set()
    own_passengers, own_pnrs = {row.id for row in mine}, {row.pnr_id for row in mine}
    # (own PNR, linked PNR, kind, value): each own PNR with itself (its other travellers), then each value shared.
    linked: list[tuple[int, int, str | None, str | None]] = [(pnr, pnr, None, None) for pnr in own_pnrs]
    theirs = aliased(m.PnrLink)
    shared = session.execute(
        select(m.PnrLink.pnr_id, theirs.pnr_id, m.PnrLink.kind, m.PnrLink.value)
        .join(theirs, and_(theirs.kind == m.PnrLink.kind, theirs.value == m.PnrLink.value))
        .where(m.PnrLink.pnr_id.in_(own_pnrs), theirs.pnr_id.not_in(own_pnrs),
               m.PnrLink.kind.in_(PNR_LINK_WORDS))).all()
    values = {(kind, value) for _, _, kind, value in shared}
    crowded = {(kind, value) for kind, value, n in session.execute(
        select(m.PnrLink.kind, m.PnrLink.value, func.count(func.distinct(m.PnrLink.pnr_id)))
        .where(m.PnrLink.value.in_({v for _, v in values}))
        .group_by(m.PnrLink.kind, m.PnrLink.value)) if n > MAX_PNRS_SHARING} if values else set()
    linked += sorted(((own, other, kind, value) for own, other, kind, value in shared if (kind, value) not in crowded),
                     key=lambda link: (list(PNR_LINK_WORDS).index(link[2]), link[3], link[0], link[1]))
    pnrs = {row.id: (_pnr_name(row.carrier, row.locator), row.depersonalised_at) for row in session.execute(
        select(m.PnrRecord.id, m.PnrRecord.carrier, m.PnrRecord.locator, m.PnrRecord.depersonalised_at)
        .where(m.PnrRecord.id.in_({other for _, other, _, _ in linked})))}
    passengers = session.execute(select(m.ApiPerson.id, m.ApiPerson.pnr_id, m.ApiPerson.surname,
                                        m.ApiPerson.given_names).where(
        m.ApiPerson.pnr_id.in_([pnr for pnr, (_, gone) in pnrs.items() if gone is None]),
        m.ApiPerson.id.not_in(own_passengers))).all()
    known = dict(session.execute(
        select(m.ApiDocument.person_id, m.TravelDocument.traveller_id)
        .join(m.TravelDocument, and_(m.TravelDocument.number_norm == m.ApiDocument.number_norm,
                                     or_(m.ApiDocument.issuing_state == "",
                                         m.ApiDocument.issuing_state == m.TravelDocument.issuing_state)))
        .where(m.ApiDocument.person_id.in_([p.id for p in passengers]))).all()) if passengers else {}
    here, others = f"p{person}", set()
    for passenger in passengers:
        traveller = known.get(passenger.id)
        if traveller == person:
            continue  # the person under another name on a linked booking: no edge to oneself
        if traveller is not None:
            node = f"p{traveller}"
            graph.add_node(node, kind="person")
            others.add(traveller)
        else:
            node = f"passenger:{passenger.id}"
            graph.add_node(node, kind="passenger", label=f"{passenger.surname}, {passenger.given_names} "
                                                         f"(PNR {pnrs[passenger.pnr_id][0]})")
        for own, other, kind, value in linked:
            if other != passenger.pnr_id:
                continue
            reason = (f"booked together on PNR {pnrs[other][0]}" if kind is None
                      else _shared_reason(kind, value, pnrs.get(own, (str(own),))[0], pnrs[other][0]))
            if not graph.has_edge(here, node) or reason not in graph.edges[here, node]["reasons"]:
                _add_edge(graph, here, node, reason)
    return others


def traveller_by_document(session: Session, caller: Caller, number: str) -> uuid.UUID | None:
    """The holder of a document number (normalised as the gates do), to start a network from; audited."""
    holder = session.scalar(select(m.TravelDocument.traveller_id).where(
        m.TravelDocument.number_norm == document_number(number)).order_by(m.TravelDocument.id).limit(1))
    audit(session, caller, "PersonNetwork", f"document {document_number(number)}",
          "holder found" if holder else "no such document", "link analysis")
    return holder
