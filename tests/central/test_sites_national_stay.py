"""The national stay between real posts (docs/SITES.md, "The national stay"): headquarters and two border posts
on PostgreSQL logical replication (the stand of tests/central/test_sites.py), each with its own `limes central
serve` process over mutual TLS. A gate at post A records a passport's entry through post A's central; it
replicates up to headquarters; post B, which has never seen that passport, asks headquarters (as the station
`post_b`, role `site`) and counts post A's days. With headquarters' central stopped, post B answers on its own.

PostgreSQL pass only (`.ci/postgres ./limes test tests/central/test_sites_national_stay.py`): the stand
fixture skips in the SQLite pass, saying so, and fails in the PostgreSQL pass if the server binaries are
missing. Rows are compared by passport and crossing id, never by integer keys.
"""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from central.access import roles as access
from central.database import models as m
from central.database.engine import Database
from proto.dev_pki import DevPki
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.tls import open_channel
from tests.central.serving import CentralProcess
from tests.central.test_sites import scalar, stand, wait_for  # noqa: F401 (stand: the PostgreSQL stand fixture)

GATE_A, GATE_B = "G-POST-A", "G-POST-B"
BORN = dt.date(1986, 3, 14)
ENTERED_DAYS_AGO = 30
DEADLINE_S = 2.0  # generous: three centrals and three clusters share two cores here


class Serving(CentralProcess):
    def __init__(self, folder: Path, database_url: str, pki: DevPki, *extra: str) -> None:
        folder.mkdir()
        super().__init__(folder, database_url, pki, *extra)
        self.address = self.wait_ready(folder.name)["address"]


def grant(url: str, name: str, role: access.Role) -> None:
    database = Database(url)
    try:
        database.run(lambda session: access.grant(session, access.Kind.STATION, name, role))
    finally:
        database.dispose()


@pytest.fixture
def centrals(stand, tmp_path):  # noqa: F811
    """Headquarters' central, post A's, and post B's asking headquarters (as station post_b, role site), all
    over mutual TLS with one CA; gates at both posts. Stopped after the test (by their own pids)."""
    pki = DevPki(tmp_path / "pki")
    hq_url, post_a_url, post_b_url = stand.hq.url, stand.post("post_a").url, stand.post("post_b").url
    grant(hq_url, "post_b", access.Role.SITE)
    grant(post_a_url, GATE_A, access.Role.GATE)
    grant(post_b_url, GATE_B, access.Role.GATE)
    station = pki.station("post_b")
    running: list[Serving] = []
    try:
        running.append(Serving(tmp_path / "hq", hq_url, pki))
        running.append(Serving(tmp_path / "post_a", post_a_url, pki))
        running.append(Serving(
            tmp_path / "post_b", post_b_url, pki, "--headquarters", running[0].address, "--headquarters-station",
            "post_b", "--headquarters-cert", str(station.certificate), "--headquarters-key", str(station.key),
            "--headquarters-deadline", str(DEADLINE_S)))
        yield pki, *running
    finally:
        for serving in running:
            serving.stop()


def document(number: str) -> pb.TravelDocument:
    return pb.TravelDocument(number=number, type="P", issuing_state="UTO")


def traveller() -> pb.Traveller:
    return pb.Traveller(surname="WANDERER", given_names="MIRA", nationality="UTO", sex="F", birth_date=BORN.isoformat())


def record_entry_at_post_a(address: str, pki: DevPki, number: str, at: dt.datetime) -> str:
    """As post A's gate does: RecordCrossing over its own station certificate. The crossing id."""
    crossing_id = str(uuid.uuid4())
    request = pb.RecordCrossingRequest(
        crossing_id=crossing_id, station_id=GATE_A, border_point="POST_A", direction=pb.Crossing.ENTRY,
        occurred_at=at.strftime("%Y-%m-%dT%H:%M:%SZ"), document=document(number), traveller=traveller(),
        decision=pb.Crossing.OPEN, reasons=["all checks passed"])
    with open_channel(address, pki.station(GATE_A)) as channel:
        central_pb2_grpc.CentralStub(channel).RecordCrossing(request, timeout=30)
    return crossing_id


def check_stay_at_post_b(address: str, pki: DevPki, number: str) -> pb.CheckStayResponse:
    with open_channel(address, pki.station(GATE_B)) as channel:
        return central_pb2_grpc.CentralStub(channel).CheckStay(
            pb.CheckStayRequest(document=document(number), traveller=traveller()), timeout=30)


def crossing_at(url: str, crossing_id: str) -> tuple | None:
    """The passport number and direction of one crossing, found by its id, or None where it is not (yet)."""
    database = Database(url)
    try:
        return database.read(lambda c: c.execute(
            select(m.TravelDocument.number, m.Crossing.direction)
            .join(m.TravelDocument, m.TravelDocument.id == m.Crossing.document_id)
            .where(m.Crossing.crossing_id == crossing_id)).first())
    finally:
        database.dispose()


def stay_reads(url: str, station: str) -> list[str]:
    """The outcomes of CheckStay audited at a site for `station`, oldest first (the audit log is the site's own)."""
    database = Database(url)
    try:
        return list(database.read(lambda c: c.scalars(
            select(m.AuditEntry.outcome).where(m.AuditEntry.action == "CheckStay", m.AuditEntry.station == station)
            .order_by(m.AuditEntry.at, m.AuditEntry.id))))
    finally:
        database.dispose()


def entry_replicated_up(stand, central_a: Serving, pki: DevPki, number: str) -> str:  # noqa: F811
    entered = dt.datetime.now(dt.timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0) - dt.timedelta(
        days=ENTERED_DAYS_AGO)
    crossing_id = record_entry_at_post_a(central_a.address, pki, number, entered)
    assert tuple(crossing_at(stand.post("post_a").url, crossing_id)) == (number, m.Direction.ENTRY)
    wait_for(lambda: crossing_at(stand.hq.url, crossing_id), what=f"post A's crossing {crossing_id} at headquarters")
    assert tuple(crossing_at(stand.hq.url, crossing_id)) == (number, m.Direction.ENTRY)
    # Post B has never seen the passport (the crossings replicate up, not across).
    assert scalar(stand.post("post_b").url, "SELECT count(*) FROM travel_documents WHERE number = :n", n=number) == 0
    return crossing_id


def test_post_b_counts_the_days_of_an_entry_at_post_a_through_headquarters(stand, centrals):  # noqa: F811
    pki, headquarters, central_a, central_b = centrals
    number = f"NS{uuid.uuid4().hex[:7].upper()}"
    entry_replicated_up(stand, central_a, pki, number)

    answer = check_stay_at_post_b(central_b.address, pki, number)
    today = dt.datetime.now(dt.timezone.utc).date()
    # In at post A 30 days ago and not out since: those 30 days and today, counted nationally.
    assert (answer.scope, answer.days_used, answer.refused) == ("national", ENTERED_DAYS_AGO + 1, "")
    assert answer.latest_exit == (today + dt.timedelta(days=90 - ENTERED_DAYS_AGO - 1)).isoformat()
    # Headquarters audited the read under post B's name, post B under its gate's.
    assert stay_reads(stand.hq.url, "post_b")[-1] == f"until {answer.latest_exit}"
    assert stay_reads(stand.post("post_b").url, GATE_B)[-1] == f"national: until {answer.latest_exit}"


def test_with_headquarters_stopped_post_b_answers_on_its_own_crossings(stand, centrals):  # noqa: F811
    pki, headquarters, central_a, central_b = centrals
    number = f"NS{uuid.uuid4().hex[:7].upper()}"
    entry_replicated_up(stand, central_a, pki, number)
    headquarters.stop()

    answer = check_stay_at_post_b(central_b.address, pki, number)
    # Post B alone knows nothing of the entry at post A: today is the only day it counts (headquarters, up,
    # counted 31), and it says the answer is its own.
    assert (answer.scope, answer.days_used, answer.refused) == ("post", 1, "")
    assert stay_reads(stand.post("post_b").url, GATE_B)[-1].startswith("post: ")
