"""Link analysis over the database: co-travel groups and a person's network with reasons, audited."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.errors import NotFound
from central.intelligence import clearance
from central.intelligence import reports as intel
from central.intelligence.grading import grade
from central.intelligence.network import CoTravelQuery, co_travel_groups, person_network, traveller_by_document
from tests.central.intelligence.conftest import TODAY, record

UNTIL = dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc)
ANALYST = Caller("web-desk", "ivo")


@pytest.fixture
def ring(database):
    """FACILITATOR crosses at FRA-T1 every week with one of three pairs; LONER crosses alone."""
    start = dt.datetime(2026, 9, 1, 7, tzinfo=dt.timezone.utc)
    companions = [("ALPHA", "BRAVO"), ("CHARLIE", "DELTA"), ("ECHO", "FOXTROT")]
    for week in range(6):
        when = start + dt.timedelta(weeks=week)
        record(database, "FACILITATOR", when)
        for minute, name in enumerate(companions[week % 3], 1):
            record(database, name, when + dt.timedelta(minutes=minute))
        record(database, "LONER", when + dt.timedelta(hours=3))
        record(database, "ELSEWHERE", when + dt.timedelta(minutes=1), border_point="BER-T1")
    return database


def ids(database) -> dict[str, int]:
    return dict(database.run(lambda s: s.execute(select(m.Traveller.surname, m.Traveller.id)).all()))


def test_the_ring_is_one_group_and_the_loner_in_none(ring):
    groups = ring.run(lambda s: [[t.surname for t in g.members] for g in co_travel_groups(
        s, ANALYST, CoTravelQuery(min_together=2), UNTIL)])
    assert groups == [["FACILITATOR", "ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT"]]
    assert ring.run(lambda s: co_travel_groups(s, ANALYST, CoTravelQuery(min_together=3), UNTIL)) == []
    outcomes = ring.run(lambda s: list(s.scalars(select(m.AuditEntry.outcome).where(
        m.AuditEntry.action == "CoTravelGroups"))))
    assert outcomes == ["1 group(s), 7 traveller(s)", "0 group(s), 0 traveller(s)"]


def test_a_persons_network_has_a_reason_on_every_edge(ring):
    people = ids(ring)
    ring.run(lambda s: clearance.set_clearance(s, Caller("cli", "admin"), "ivo", "RAU", "SECRET"))
    reference = ring.run(lambda s: intel.file_report(s, ANALYST, clearance.reader(s, "ivo"), intel.NewReport(
        "human", grade("2", "C", "P"), "RESTRICTED", "FACILITATOR drives the LONER", TODAY + dt.timedelta(days=30),
        links=(("person", str(people["FACILITATOR"])), ("person", str(people["LONER"])),
               ("vehicle", "White van B-XY 123"))), TODAY).reference)

    def network(user, depth=1):
        return ring.run(lambda s: person_network(s, Caller("web-desk", user), clearance.reader(s, user),
                                                 people["FACILITATOR"], CoTravelQuery(min_together=2), UNTIL,
                                                 depth).edges())
    edges = {(a, b): reasons for a, b, reasons in network("ivo")}
    centre = f"p{people['FACILITATOR']}"
    together = "crossed together 2 times within 10 min at FRA-T1 ENTRY"
    for name in ("ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT"):
        assert edges[tuple(sorted((centre, f"p{people[name]}")))] == [together]
    named = f"named in report {reference[:8]} (2C)"
    assert edges[tuple(sorted((centre, f"p{people['LONER']}")))] == [named]
    assert edges[tuple(sorted((centre, "vehicle:white van b-xy 123")))] == [named]
    assert f"p{people['ELSEWHERE']}" not in {n for pair in edges for n in pair}
    # Someone without need to know sees the co-travel, never what the report says.
    assert not any("report" in r for _, _, reasons in network("nobody") for r in reasons)
    # Two steps out: ALPHA's other companions are FACILITATOR's already; BRAVO is linked to ALPHA directly.
    deeper = {(a, b) for a, b, _ in network("ivo", depth=2)}
    assert tuple(sorted((f"p{people['ALPHA']}", f"p{people['BRAVO']}"))) in deeper
    assert ring.run(lambda s: s.scalar(select(m.AuditEntry.subject).where(
        m.AuditEntry.action == "PersonNetwork"))) == f"traveller {people['FACILITATOR']}"


def test_a_shared_document_number_links_its_holders(database):
    record(database, "ONE", UNTIL - dt.timedelta(days=3), number="K1234567", nationality="DEU")
    record(database, "TWO", UNTIL - dt.timedelta(days=2), number="K1234567", nationality="FRA")
    people = ids(database)
    assert database.run(lambda s: traveller_by_document(s, ANALYST, "k 1234567")) == people["ONE"]
    edges = database.run(lambda s: person_network(s, ANALYST, clearance.reader(s, "ivo"), people["ONE"],
                                                  CoTravelQuery(), UNTIL).edges())
    assert edges == [(f"p{people['ONE']}", f"p{people['TWO']}", ["same document number K1234567 (DEU; theirs FRA)"])]
    with pytest.raises(NotFound):
        database.run(lambda s: person_network(s, ANALYST, clearance.reader(s, "ivo"), 999, CoTravelQuery(), UNTIL))
