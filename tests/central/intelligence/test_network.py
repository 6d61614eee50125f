"""Link analysis over the database: co-travel groups and a person's network with reasons, audited."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from central.access.audit import Caller
from central.database import models as m
from central.database.keys import new_key
from central.errors import NotFound
from central.intelligence import clearance, network
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
        database.run(lambda s: person_network(s, ANALYST, clearance.reader(s, "ivo"), new_key(), CoTravelQuery(),
                                              UNTIL))


# ---------------------------------------------------------------- passenger data (PNRs)

def pnrgov(reference: str, flight: str, day: str, pnrs: list[tuple[str, str, list[str]]]) -> bytes:
    """A PNRGOV 11.1 message (the segments of tests/central/api_messages/pnrgov_11_1.edi) for one flight:
    each PNR as (locator, phone, street, [SSR DOCS free text of its travellers])."""
    number = flight[2:]
    segments = ["UNA:+.? '", f"UNB+IATA:1+LH+LIMESPNR+{day}:2200+{reference}'",
                f"UNH+1+PNRGOV:11:1:IA+{flight}/{day}/1830'", "MSG+:22'", "ORG+LH:FRA'",
                f"TVL+{day}:1830:{day}:2315+JFK+FRA+LH+{number}'", f"EQN+{len(pnrs)}'"]
    for locator, phone, street, travellers in pnrs:
        segments += ["SRC'", f"RCI+LH:{locator}::011126:1015'",
                     f"ADD++700:{street}:KOELN::DE:51147:{phone}'"]
        for position, docs in enumerate(travellers, 1):
            surname, given = docs.split("/")[-2:]
            segments += [f"TIF+{surname}:I+{given} MR:A:{position}'", f"SSR+DOCS:HK:1:LH:::::{docs}'"]
        segments.append(f"TVL+{day}:1830:{day}:2315+JFK+FRA+LH+{number}:Y'")
    segments += [f"UNT+{len(segments)}+1'", f"UNZ+1+{reference}'"]
    return "\n".join(segments).encode()


@pytest.fixture
def booked(database):
    """ERIKA and OTTO flew on two flights under the same booking with the same phone number (two PNRs);
    ERIKA's travel companion KARL is on her PNR; ANNA booked apart with another phone."""
    from central.passengers.intake import import_message

    at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone.utc)
    for surname, number in (("ERIKA", "C01X00T47"), ("OTTO", "C02Y00Q11"), ("ANNA", "C03Z00R22")):
        record(database, surname, at, number=number)
    airline = Caller("LH-API-GATEWAY", "")
    now = dt.datetime(2026, 11, 21, 10, tzinfo=dt.timezone.utc)
    import_message(database, airline, pnrgov("PNR0001", "LH400", "201126", [
        ("QX7Y2Z", "0221 12345678", "HEIDESTRASSE 17", ["/P/DEU/C01X00T47/DEU/12AUG64/F/31OCT31/ERIKA/A",
                                        "/P/DEU/K55555555/DEU/01JAN70/M/01JAN31/KARL/B"]),
        ("ZZ9K4P", "4930999999", "DOMPLATZ 1", ["/P/DEU/C03Z00R22/DEU/01JAN80/M/01JAN31/ANNA/A"])]), now)
    import_message(database, airline, pnrgov("PNR0002", "LH402", "221126", [
        ("QX7Y2Z", "0221 12345678", "HEIDESTRASSE 17", ["/P/DEU/C02Y00Q11/DEU/01JAN80/M/01JAN31/OTTO/A"])]), now)
    return database


def test_pnrs_sharing_a_phone_number_and_a_booking_reference_link_their_travellers(booked):
    people = ids(booked)

    def network(passenger_data: bool):
        return booked.run(lambda s: person_network(
            s, ANALYST, clearance.reader(s, "ivo"), people["ERIKA"], CoTravelQuery(), UNTIL,
            passenger_data=passenger_data))
    found = network(True)
    edges = {(a, b): reasons for a, b, reasons in found.edges()}
    erika, otto = f"p{people['ERIKA']}", f"p{people['OTTO']}"
    assert edges[tuple(sorted((erika, otto)))] == [
        "same booking reference LH:QX7Y2Z",
        "same phone number 022112345678 (PNR LH:QX7Y2Z; theirs LH:QX7Y2Z)",
        "same address HEIDESTRASSE 17, 51147 KOELN (PNR LH:QX7Y2Z; theirs LH:QX7Y2Z)"]
    # KARL never crossed: a passenger of the PNR, named as the airline sent him, on ERIKA's booking.
    [karl] = [n for n, kind in found.graph.nodes(data="kind") if kind == "passenger"]
    assert found.graph.nodes[karl]["label"] == "KARL, B (PNR LH:QX7Y2Z)"
    assert edges[tuple(sorted((erika, karl)))] == ["booked together on PNR LH:QX7Y2Z"]
    assert f"p{people['ANNA']}" not in found.graph  # another PNR of the flight, nothing shared
    # Without the right to read PNR links there is no edge from passenger data, and no PNR read is audited.
    assert network(False).edges() == []
    audited = booked.run(lambda s: [(a.subject, a.outcome) for a in s.scalars(select(m.AuditEntry).where(
        m.AuditEntry.action == "ReadPnrLinks"))])
    assert audited == [(f"network of traveller {people['ERIKA']}", "2 edge(s) from passenger data")]


def test_a_depersonalised_pnr_links_no_one(booked):
    from central.passengers.retention import PassengerDataRetention, purge_passenger_data

    booked.run(lambda s: purge_passenger_data(s, Caller("cli", "root"), PassengerDataRetention(
        pnr_depersonalise_days=0), dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)))
    people = ids(booked)
    assert booked.run(lambda s: person_network(s, ANALYST, clearance.reader(s, "ivo"), people["ERIKA"],
                                               CoTravelQuery(), UNTIL, passenger_data=True).edges()) == []


def test_a_value_many_pnrs_carry_links_no_one_in_particular(booked):
    from central.passengers.intake import import_message

    crowd = [(f"CR{n:04d}", "0221 12345678", f"HOTELWEG {n}", [f"/P/DEU/Z{n:07d}/DEU/01JAN80/M/01JAN31/GUEST/A"])
             for n in range(network.MAX_PNRS_SHARING)]  # with ERIKA's and OTTO's: more than the limit
    import_message(booked, Caller("LH-API-GATEWAY", ""), pnrgov("PNR0003", "LH404", "231126", crowd),
                   dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc))
    people = ids(booked)
    found = booked.run(lambda s: person_network(s, ANALYST, clearance.reader(s, "ivo"), people["ERIKA"],
                                                CoTravelQuery(), UNTIL, passenger_data=True))
    edges = {(a, b): reasons for a, b, reasons in found.edges()}
    assert edges[tuple(sorted((f"p{people['ERIKA']}", f"p{people['OTTO']}")))] == [
        "same booking reference LH:QX7Y2Z",
        "same address HEIDESTRASSE 17, 51147 KOELN (PNR LH:QX7Y2Z; theirs LH:QX7Y2Z)"]
    assert not any(label and label.startswith("GUEST") for _, label in found.graph.nodes(data="label"))
