"""The link analysis pages: groups found, a person's network drawn as SVG with the same links in a table."""
from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select

from central.database import models as m
from tests.central.intelligence.conftest import record
from tests.web.conftest import NOW, USERS


def plant_ring(database) -> None:
    start = NOW - dt.timedelta(days=60)
    for week in range(4):
        when = start + dt.timedelta(weeks=week)
        record(database, "FACILITATOR", when)
        record(database, ["ALPHA", "BRAVO"][week % 2], when + dt.timedelta(minutes=2))


def test_the_groups_page_finds_the_ring_and_links_each_member_to_their_network(desk):
    plant_ring(desk.database)
    client = desk.signed_in("intelligence")
    page = client.get("/network/groups?k=2&window=10&days=365").get_data(as_text=True)
    assert "Group 1" in page and "3 travellers" in page
    members = re.findall(r'<a href="(/network\?traveller=[0-9a-f-]{36}[^"]*)">([A-Z]+),', page)
    assert sorted(name for _, name in members) == ["ALPHA", "BRAVO", "FACILITATOR"]
    network = client.get(dict((n, u) for u, n in members)["FACILITATOR"].replace("&amp;", "&"))
    html = network.get_data(as_text=True)
    assert network.status_code == 200 and "<svg" in html and "<script" not in html.split("</head>")[1]
    assert html.count('<line class="edge edge-travel"') == 2
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", html.split('id="edges"')[1])
    assert {(a.split(",")[0], b.split(",")[0]) for a, b, _ in rows} == {("FACILITATOR", "ALPHA"),
                                                                      ("FACILITATOR", "BRAVO")}
    assert all(why == "crossed together 2 times within 10 min at FRA-T1 ENTRY" for _, _, why in rows)
    audited = desk.database.run(lambda s: list(s.scalars(select(m.AuditEntry.action).where(
        m.AuditEntry.user_name == USERS["intelligence"]))))
    assert "CoTravelGroups" in audited and "PersonNetwork" in audited


def test_a_network_from_a_document_number_and_bad_input(desk):
    client = desk.signed_in("intelligence")
    page = client.get("/network?document=C01X00T47").get_data(as_text=True)
    assert "MUSTERMANN" in page and "No links found" in page
    assert client.get("/network?document=NOPE1").status_code == 400
    assert client.get("/network?traveller=x").status_code == 400
    assert client.get("/network?traveller=1").status_code == 400  # keys are UUIDs, not numbers
    assert client.get(f"/network?traveller={uuid.uuid4()}&k=1").status_code == 400


def test_only_the_intelligence_role_does_link_analysis(desk):
    for role in ("officer", "supervisor", "analyst", "administrator"):
        assert desk.signed_in(role).get("/network/groups").status_code == 403, role


def test_links_from_passenger_data_are_drawn_and_listed_for_those_who_may_read_them(desk):
    from central.access.audit import Caller
    from central.passengers.intake import import_message
    from tests.central.intelligence.test_network import pnrgov

    when = NOW - dt.timedelta(days=3)
    record(desk.database, "ERIKA", when, number="C41X00T47")
    record(desk.database, "OTTO", when, number="C02Y00Q11")
    airline = Caller("LH-API-GATEWAY", "")
    for reference, flight, number, surname in (("P1", "LH400", "C41X00T47", "ERIKA"),
                                               ("P2", "LH402", "C02Y00Q11", "OTTO")):
        import_message(desk.database, airline, pnrgov(reference, flight, "201126", [
            ("QX7Y2Z", "0221 12345678", "HEIDESTRASSE 17", [f"/P/DEU/{number}/DEU/01JAN80/M/01JAN31/{surname}/A"])]),
            NOW)
    erika = desk.database.run(lambda s: s.scalar(select(m.Traveller.id).where(m.Traveller.surname == "ERIKA")))
    html = desk.signed_in("intelligence").get(f"/network?traveller={erika}").get_data(as_text=True)
    assert html.count('<line class="edge edge-passenger"') == 1 and "passenger data (PNR)" in html
    [(a, b, why)] = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", html.split('id="edges"')[1])
    assert (a.split(",")[0], b.split(",")[0]) == ("ERIKA", "OTTO")
    assert why == ("same booking reference LH:QX7Y2Z; same phone number 022112345678 (PNR LH:QX7Y2Z; theirs "
                   "LH:QX7Y2Z); same address HEIDESTRASSE 17, 51147 KOELN (PNR LH:QX7Y2Z; theirs LH:QX7Y2Z)")
