"""A rebalance hands vshards over without a search gap (docs/MATCHER.md, Cluster mode: the handover).

Three real nats-server processes (the stand's, mutual TLS); the members, the router and the rebalance
run in this process, so a test can hold a member inside a step of the handover (dropping the vshards
it gave away, replaying the ones it gained) for as long as it likes: the window a slow step opens on a
loaded machine, made as wide as the test needs instead of hoping a sleep lands in it. While held:
- a member dropping holds its galleries' write lock, so it answers no search (as a long drop, or an
  index rebuild starving it on two cores, did once in the 1M bench);
- a member replaying has stopped reading its own vshards' new changes (its answers lag the stream).
If every replica of a set were held at once, searches would come back `partial`, or miss what was
just enrolled. Held members are released by the test, never by a timer.
"""
from __future__ import annotations

import asyncio
import threading
import time

import grpc
import numpy as np
import pytest

from limes.stand import Stand
from matcher import rebalance as rebalancing
from matcher.cluster_router import ClusterRouter
from matcher.gallery import Gallery
from matcher.member import Member
from matcher.server import serve_member, start
from matcher.stream import NatsLink
from matcher.vshards import vshard_of
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import open_channel

from .test_cluster_faults import create_gallery, template, templates, wait_converged

pytestmark = pytest.mark.skipif(
    __import__("shutil").which("nats-server") is None,
    reason="nats-server (Debian package) not installed: ./limes setup installs it")

ROUTER_TIMEOUT = 1.0  # seconds a search waits for a set: a held set is reported missing after this
ALL_INSIDE_WAIT = 3.0  # seconds to let a second replica of a set follow the first into a held step, if it will


def set_of(member: str) -> str:
    return member[0]  # members here are named <set><n>: A1, A2, B1, ...


class Held:
    """Holds the named members at a step until `release()`, and records whether every replica of a set
    was ever inside at once."""

    def __init__(self, names: set[str]):
        self.names = names
        self.inside: set[str] = set()
        self.entered: list[tuple[str, str]] = []
        self.whole_sets: set[str] = set()  # sets all of whose held replicas were inside together
        self.changed = threading.Condition()
        self.released = threading.Event()

    def hold(self, member: str, step: str) -> None:
        if member not in self.names:
            return
        with self.changed:
            self.inside.add(member)
            self.entered.append((member, step))
            for name in {set_of(n) for n in self.names}:
                if {n for n in self.names if set_of(n) == name} <= self.inside:
                    self.whole_sets.add(name)
            self.changed.notify_all()
        assert self.released.wait(120), "a held member was never released"
        with self.changed:
            self.inside.discard(member)
            self.changed.notify_all()

    def wait_entered(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.entered, timeout)

    def wait_whole_set(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.whole_sets, timeout)

    def release(self) -> None:
        self.released.set()


def hold_steps(monkeypatch, held: Held, steps: set[str]) -> None:
    """Hold members at the steps named ("drop", "replay") through the functions every handover goes through."""
    if "drop" in steps:
        drop_where = Gallery.drop_where

        def held_drop(gallery, unwanted, *args, **kwargs):
            member = gallery.directory.parent.parent.name  # the member's data folder is named after it
            with gallery._lock.write():  # answering nothing meanwhile
                held.hold(member, "drop")
            return drop_where(gallery, unwanted, *args, **kwargs)
        monkeypatch.setattr(Gallery, "drop_where", held_drop)
    if "replay" in steps:
        replay = Member._replay

        async def held_replay(member, *args, **kwargs):
            await asyncio.to_thread(held.hold, member.name, "replay")
            return await replay(member, *args, **kwargs)
        monkeypatch.setattr(Member, "_replay", held_replay)


class Cluster:
    """Members and a router in this process, on a stand's NATS servers."""

    def __init__(self, stand: Stand):
        self.stand = stand
        self.servers: dict[str, grpc.Server] = {}
        self.links: list[NatsLink] = []
        self.router_server = None

    def link(self, name: str, role: str) -> NatsLink:
        link = NatsLink(self.stand.urls.split(","), name=name, tls=self.stand.roles[role])
        self.links.append(link)
        return link

    def start_member(self, name: str) -> int:
        server, port = serve_member("127.0.0.1:0", self.stand.root / name, self.stand.urls.split(","), set_of(name),
                                    name, plaintext=True, nats_tls=self.stand.roles["member"], max_workers=4)
        self.servers[name] = server
        return port

    @staticmethod
    def stub_of(port: int) -> matcher_pb2_grpc.MatcherStub:
        """The in-process router or a member (plaintext on loopback: this test is about the handover)."""
        return matcher_pb2_grpc.MatcherStub(open_channel(f"127.0.0.1:{port}", plaintext=True))

    def start_router(self):
        self.router = ClusterRouter(self.link("router", "router"), timeout=ROUTER_TIMEOUT, plaintext=True)
        self.router_server, port = start(self.router, "127.0.0.1:0", plaintext=True, max_workers=8)
        return self.stub_of(port)

    def converged(self, link: NatsLink, names: set[str]) -> None:
        """Until every named member serves the whole stream, and the router has read them so (it re-reads its
        table every 0.5 s: a search sent before it has would be answered `partial`, rightly, from its view)."""
        wait_converged(link, names)
        self.router.refresh()

    def serving_a_and_b_then_c(self, vectors: np.ndarray, enrolled: int):
        """Sets A and B serving the vshards, the first `enrolled` of `vectors` enrolled through a router, then
        C1 started with nothing of its own: (the admin link, the router)."""
        for name in ("A1", "A2", "B1", "B2"):
            self.start_member(name)
        admin = self.link("admin", "admin")
        rebalancing.rebalance(admin, ["A", "B"])
        router = self.start_router()
        create_gallery(router)
        enrol_batch(router, vectors, range(enrolled))
        self.start_member("C1")
        self.converged(admin, {"A1", "A2", "B1", "B2", "C1"})
        return admin, router

    def member(self, name: str) -> Member:
        return self.servers[name].member

    def close(self) -> None:
        if self.router_server is not None:
            self.router_server.stop(None)
            self.router.close()
        for server in self.servers.values():
            server.stop(None)
            server.member.stop(snapshot=False)
            server.member.link.close()
        for link in self.links:
            link.close()


class Background(threading.Thread):
    """A call in a thread of its own; `join` returns its result or raises its exception."""

    def __init__(self, function, *args, **kwargs):
        super().__init__(daemon=True)
        self.call, self.result, self.error = (function, args, kwargs), None, None
        self.start()

    def run(self):
        function, args, kwargs = self.call
        try:
            self.result = function(*args, **kwargs)
        except BaseException as exc:  # handed to the joining test
            self.error = exc

    def join(self, timeout: float = 180):
        super().join(timeout)
        assert not self.is_alive(), "still running"
        if self.error is not None:
            raise self.error
        return self.result


def search_problems(router, vectors: np.ndarray, subjects) -> list[str]:
    """Each search for an enrolled subject that is not a complete answer naming it first."""
    problems = []
    for i in subjects:
        try:
            answer = router.Search(matcher_pb2.SearchRequest(gallery="g", template=template(vectors[i]), top_k=1),
                                   timeout=10)
        except grpc.RpcError as exc:
            problems.append(f"S{i}: {exc.code().name} {exc.details()}")
            continue
        if answer.partial:
            problems.append(f"S{i}: partial, missing {list(answer.missing_shards)}")
        elif not answer.candidates or answer.candidates[0].subject_id != f"S{i}":
            problems.append(f"S{i}: found {answer.candidates[0].subject_id if answer.candidates else 'nothing'}")
    return problems


def enrol_batch(router, vectors: np.ndarray, subjects) -> None:
    router.EnrolBatch(matcher_pb2.EnrolBatchRequest(gallery="g", items=[
        matcher_pb2.EnrolRequest(subject_id=f"S{i}", template=template(vectors[i])) for i in subjects]), timeout=60)


def not_found_within(router, vectors: np.ndarray, subjects, seconds: float) -> list[str]:
    """The subjects a search through the router has not found by `seconds` from now. Acknowledged
    enrolments appear within milliseconds when some replica of their set reads the stream; the bound
    only ends the wait when none does."""
    deadline, waiting = time.monotonic() + seconds, list(subjects)
    while waiting and time.monotonic() < deadline:
        waiting = [i for i in waiting if search_problems(router, vectors, [i])]
        time.sleep(0.05)
    return [f"S{i}" for i in waiting]


@pytest.fixture
def cluster(tmp_path):
    with Stand(tmp_path) as stand:
        stand.start_nats()
        cluster = Cluster(stand)
        try:
            yield cluster
        finally:
            cluster.close()


def test_old_owners_drop_what_they_gave_away_one_replica_at_a_time(cluster, monkeypatch):
    """Set C joins: at the flip A and B let a third of their vshards go. Every replica dropping at once
    left its set unable to answer; one at a time, the other replica answers every search in full."""
    vectors = templates(400, seed=3)
    held = Held({"A1", "A2", "B1", "B2"})
    admin, router = cluster.serving_a_and_b_then_c(vectors, 400)
    assert search_problems(router, vectors, range(0, 400, 10)) == []

    hold_steps(monkeypatch, held, {"drop"})
    moving = Background(rebalancing.rebalance, admin, ["A", "B", "C"], timeout=120)
    assert held.wait_entered(60), "no old owner dropped anything"
    held.wait_whole_set(ALL_INSIDE_WAIT)  # the widest window: the second replica follows within a heartbeat, if it may
    during = search_problems(router, vectors, range(0, 400, 10))
    held.release()
    outcome = moving.join()

    assert during == []
    assert held.whole_sets == set(), f"every replica of {sorted(held.whole_sets)} dropped at once: {held.entered}"
    assert outcome["moved"] == 1024 // 3
    cluster.converged(admin, {"A1", "A2", "B1", "B2", "C1"})
    assert search_problems(router, vectors, range(400)) == []


def test_new_owners_replay_one_replica_at_a_time_so_new_enrolments_are_found_meanwhile(cluster, monkeypatch):
    """Set C leaves: A and B replay C's vshards from the stream. A replica replaying does not read its
    own vshards' new changes; if every replica of a set replayed at once, an enrolment acknowledged
    meanwhile would not be found until the replays ended (a minute at 1M)."""
    vectors = templates(460, seed=4)
    held = Held({"A1", "A2", "B1", "B2"})
    for name in ("A1", "A2", "B1", "B2", "C1"):
        cluster.start_member(name)
    admin = cluster.link("admin", "admin")
    rebalancing.rebalance(admin, ["A", "B", "C"])
    router = cluster.start_router()
    create_gallery(router)
    enrol_batch(router, vectors, range(400))
    cluster.converged(admin, {"A1", "A2", "B1", "B2", "C1"})

    hold_steps(monkeypatch, held, {"replay"})
    moving = Background(rebalancing.rebalance, admin, ["A", "B"], timeout=120)
    assert held.wait_entered(60), "no new owner replayed anything"
    held.wait_whole_set(ALL_INSIDE_WAIT)
    fresh = range(400, 460)
    for i in fresh:  # acknowledged one by one while the replay is held
        router.Enrol(matcher_pb2.EnrolRequest(gallery="g", subject_id=f"S{i}", template=template(vectors[i])),
                     timeout=30)
    unseen = not_found_within(router, vectors, fresh, 15.0)
    during = search_problems(router, vectors, range(0, 400, 10))
    held.release()
    moving.join()

    assert unseen == [], f"acknowledged but not found while the new owners replayed: {unseen}"
    assert during == []
    assert held.whole_sets == set(), f"every replica of {sorted(held.whole_sets)} replayed at once: {held.entered}"
    cluster.converged(admin, {"A1", "A2", "B1", "B2", "C1"})
    assert search_problems(router, vectors, range(460)) == []


def test_nothing_acknowledged_is_lost_or_revived_across_a_handover_and_back(cluster, monkeypatch):
    """Enrolments, re-enrolments and removals acknowledged throughout two rebalances (C joins, C leaves),
    with each replay held until more changes have been acknowledged after the move began: afterwards
    every replica holds exactly its set's live subjects, with their latest templates."""
    vectors = templates(900, seed=5)
    replaced = templates(900, seed=6)
    held = Held({"A1", "A2", "B1", "B2", "C1"})
    admin, router = cluster.serving_a_and_b_then_c(vectors, 300)
    current: dict[str, np.ndarray] = {f"S{i}": vectors[i] for i in range(300)}  # acknowledged, live
    hold_steps(monkeypatch, held, {"replay"})

    def changes(subjects: range, release_after: int) -> None:
        """Enrol each subject; also re-enrol and remove older ones. Release the held replays after a few."""
        for count, i in enumerate(subjects):
            router.Enrol(matcher_pb2.EnrolRequest(gallery="g", subject_id=f"S{i}", template=template(vectors[i])),
                         timeout=30)
            current[f"S{i}"] = vectors[i]
            old = i - 300
            if old % 7 == 0:
                router.Remove(matcher_pb2.RemoveRequest(gallery="g", subject_id=f"S{old}"), timeout=30)
                current.pop(f"S{old}")
            elif old % 5 == 0:
                router.Enrol(matcher_pb2.EnrolRequest(gallery="g", subject_id=f"S{old}",
                                                      template=template(replaced[old])), timeout=30)
                current[f"S{old}"] = replaced[old]
            if count == release_after:
                held.release()

    for sets, subjects in ((["A", "B", "C"], range(300, 450)), (["A", "B"], range(450, 600))):
        held.released.clear()
        moving = Background(rebalancing.rebalance, admin, sets, timeout=120)
        assert held.wait_entered(60)
        held.entered.clear()
        changes(subjects, release_after=40)
        moving.join()
    cluster.converged(admin, {"A1", "A2", "B1", "B2", "C1"})

    assignment = admin.call(admin.assignment())
    assert assignment.warming == {} and set(assignment.serving) == {"A", "B"}
    for member in ("A1", "A2", "B1", "B2", "C1"):
        mine = assignment.serving.get(set_of(member), frozenset())
        gallery = cluster.member(member).get("g")
        expected = {s for s in current if vshard_of(s) in mine}
        subjects, rows = gallery.live_rows()
        assert set(subjects) == expected, f"{member}: lost {sorted(expected - set(subjects))[:5]}, " \
                                          f"kept {sorted(set(subjects) - expected)[:5]}"
        held_rows = dict(zip(subjects, rows))
        assert all(np.array_equal(held_rows[s], current[s]) for s in expected), f"{member}: an old template"
    for subject, vector in current.items():  # and the router finds each of them, complete
        answer = router.Search(matcher_pb2.SearchRequest(gallery="g", template=template(vector), top_k=1), timeout=10)
        assert not answer.partial and answer.candidates[0].subject_id == subject
