"""A border post's central asks headquarters for the stay (`limes central serve --headquarters`), as processes
over mutual TLS on SQLite: headquarters answering gives the national answer, marked "national"; headquarters
stopped, or silent past the deadline, gives the post's own answer, marked "post". Both sides audit the read;
the post's station at headquarters (role `site`) may ask CheckStay and nothing else."""
from __future__ import annotations

import datetime as dt
import socket
import time
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from central.access import roles as access
from central.database import models as m
from central.database.engine import Database
from central.rpc.headquarters import FORWARDED_METADATA
from proto.dev_pki import DevPki
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.tls import open_channel
from tests.central.serving import CentralProcess
from tests.central.test_national_stay import BORN, headquarters_database, post_rows

DEADLINE_S = 0.4
PASSPORT = "HQ123456"


class Serving(CentralProcess):
    """One `limes central serve` process, ready once it has printed where it listens."""

    def __init__(self, folder: Path, database_url: str, pki: DevPki, *extra: str) -> None:
        folder.mkdir(exist_ok=True)
        super().__init__(folder, database_url, pki, *extra)
        self.address = self.wait_ready()["address"]


@pytest.fixture
def started():
    running: list[Serving] = []

    def start(*args) -> Serving:
        running.append(Serving(*args))
        return running[-1]
    yield start
    for serving in running:
        serving.stop()


def grant(database_url: str, kind: access.Kind, name: str, role: access.Role) -> None:
    database = Database(database_url)
    database.run(lambda s: access.grant(s, kind, name, role))
    database.dispose()


def audit(database_url: str) -> list[tuple[str, str, str]]:
    database = Database(database_url)
    rows = database.read(lambda c: c.execute(select(m.AuditEntry.station, m.AuditEntry.action, m.AuditEntry.outcome)
                                             .where(m.AuditEntry.action.in_(["CheckStay", "CheckDocument"]))
                                             .order_by(m.AuditEntry.id)).all())
    database.dispose()
    return [tuple(row) for row in rows]


def ask(address: str, pki: DevPki, station: str, metadata=()) -> tuple[pb.CheckStayResponse, float]:
    channel = open_channel(address, pki.station(station))
    request = pb.CheckStayRequest(
        document=pb.TravelDocument(number=PASSPORT, type="P", issuing_state="UTO"),
        traveller=pb.Traveller(surname="TRAVELLER", given_names="ANNA", nationality="UTO", sex="F",
                                       birth_date=BORN.isoformat()))
    try:
        started = time.monotonic()
        answer = central_pb2_grpc.CentralStub(channel).CheckStay(request, timeout=10, metadata=metadata)
        return answer, time.monotonic() - started
    finally:
        channel.close()


@pytest.fixture
def sites(tmp_path):
    """Headquarters holding post A's entry 100 days ago and post B's exit 40 days ago (one person, two rows);
    post A's own database, with its entry only. One CA for the country's services and stations."""
    today = dt.datetime.now(dt.timezone.utc).date()
    hq = headquarters_database(tmp_path)
    hq.write(lambda c: (post_rows(c, "post_a", [(m.Direction.ENTRY, today - dt.timedelta(days=100))]),
                        post_rows(c, "post_b", [(m.Direction.EXIT, today - dt.timedelta(days=40))])))
    hq.dispose()
    post = Database(f"sqlite:///{tmp_path / 'post_a.sqlite'}")
    post.migrate()
    post.write(lambda c: post_rows(c, "post_a", [(m.Direction.ENTRY, today - dt.timedelta(days=100))]))
    post.dispose()
    hq_url, post_url = f"sqlite:///{tmp_path / 'hq.sqlite'}", f"sqlite:///{tmp_path / 'post_a.sqlite'}"
    grant(hq_url, access.Kind.STATION, "post_a", access.Role.SITE)
    grant(post_url, access.Kind.STATION, "G-POST-A", access.Role.GATE)
    return today, hq_url, post_url, DevPki(tmp_path / "pki")


def post_flags(pki: DevPki, address: str) -> list[str]:
    station = pki.station("post_a")
    return ["--headquarters", address, "--headquarters-station", "post_a", "--headquarters-cert",
            str(station.certificate), "--headquarters-key", str(station.key), "--headquarters-deadline",
            str(DEADLINE_S)]


def test_a_post_answers_nationally_while_headquarters_answers_and_on_its_own_when_stopped(sites, started, tmp_path):
    today, hq_url, post_url, pki = sites
    headquarters = started(tmp_path / "hq", hq_url, pki)
    post = started(tmp_path / "post", post_url, pki, *post_flags(pki, headquarters.address))

    national, _ = ask(post.address, pki, "G-POST-A")
    # In at post A 100 days ago, out at post B 40 days ago: 61 days, and today.
    assert (national.scope, national.days_used, national.refused) == ("national", 62, "")
    assert national.latest_exit == (today + dt.timedelta(days=28)).isoformat()
    # Headquarters audited the read under the post's name; the post audited the gate's.
    assert ("post_a", "CheckStay", f"until {national.latest_exit}") in audit(hq_url)
    assert ("G-POST-A", "CheckStay", f"national: until {national.latest_exit}") in audit(post_url)

    # The post's station at headquarters asks CheckStay only: anything else is refused (and audited).
    with pytest.raises(grpc.RpcError) as refused:
        channel = open_channel(headquarters.address, pki.station("post_a"))
        try:
            central_pb2_grpc.CentralStub(channel).CheckDocument(
                pb.CheckDocumentRequest(document_number=PASSPORT, issuing_state="UTO"), timeout=10)
        finally:
            channel.close()
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert any(row[:2] == ("post_a", "CheckDocument") and row[2].startswith("PERMISSION_DENIED")
               for row in audit(hq_url))

    headquarters.stop()
    own, took = ask(post.address, pki, "G-POST-A")
    # Post A alone: its entry 100 days ago looks like a stay still going on (the exit was at post B).
    assert (own.scope, own.days_used) == ("post", 101) and own.refused.startswith("F:")
    assert took < 2.0, f"headquarters stopped: answered in {took:.2f} s"
    assert ("G-POST-A", "CheckStay", "post: refused, ground F") in audit(post_url)


def test_a_post_does_not_wait_past_the_deadline_for_a_silent_headquarters(sites, started, tmp_path):
    _, _, post_url, pki = sites
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        post = started(tmp_path / "post", post_url, pki, *post_flags(pki, f"127.0.0.1:{silent.getsockname()[1]}"))
        own, took = ask(post.address, pki, "G-POST-A")
    assert own.scope == "post" and own.days_used == 101
    assert DEADLINE_S <= took < DEADLINE_S + 1.5, f"answered in {took:.2f} s with a deadline of {DEADLINE_S} s"


def test_headquarters_judges_a_posts_question_on_the_rule_alone_and_leaves_the_scope_empty(sites, started,
                                                                                           tmp_path):
    """Visas are the post's: a visa-required traveller is judged by the 90/180 rule for a post (role site, the
    call marked as passed on), by the full rules for anyone else, marked or not."""
    _, hq_url, _, pki = sites
    grant(hq_url, access.Kind.STATION, "G-HQ", access.Role.GATE)
    rules = tmp_path / "stays.toml"
    rules.write_text('[stays]\nvisa_required = ["UTO"]\n', encoding="utf-8")
    headquarters = started(tmp_path / "hq", hq_url, pki, "--stay-rules", str(rules))
    passed_on = ((FORWARDED_METADATA, "1"),)
    for station, metadata in (("G-HQ", ()), ("G-HQ", passed_on), ("post_a", ())):
        answer, _ = ask(headquarters.address, pki, station, metadata)
        assert (answer.scope, answer.regime, answer.refused.split(":")[0]) == (
            "", pb.CheckStayResponse.VISA_REQUIRED, "C"), (station, metadata)
    answer, _ = ask(headquarters.address, pki, "post_a", passed_on)
    assert (answer.scope, answer.regime, answer.days_used, answer.refused) == (
        "", pb.CheckStayResponse.VISA_EXEMPT, 62, "")


def test_serve_refuses_half_a_headquarters_link(tmp_path, capsys):
    from limes.cli import main

    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    assert main(["central", "serve", "--database", url, "--plaintext", "--headquarters", "127.0.0.1:1"]) == 2
    assert "--headquarters-station" in capsys.readouterr().err
    assert main(["central", "serve", "--database", url, "--plaintext", "--headquarters-station", "post_a"]) == 2
    assert "need --headquarters" in capsys.readouterr().err
