"""The clustered matcher on a real loopback stand (three nats-server processes, members, a router):
faults during enrolments and searches, and a rebalance while searches run (docs/MATCHER.md, Cluster mode).

Each test starts its own stand under tmp_path and stops exactly the processes it started.
"""
from __future__ import annotations

import shutil
import signal
import threading
import time
from collections import Counter

import grpc
import numpy as np
import pytest

from limes.stand import Stand
from matcher.cluster_router import MEMBER_SILENT_AFTER
from matcher.stream import GALLERY_STREAM, SUBJECT_HEADER, NatsLink, StreamReader
from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc

pytestmark = pytest.mark.skipif(shutil.which("nats-server") is None,
                                reason="nats-server (Debian package) not installed: ./limes setup installs it")

DIMENSION = 16


def template(vector: np.ndarray) -> common_pb2.FaceTemplate:
    return common_pb2.FaceTemplate(vector=vector.tolist(), model="test", model_version="1")


def templates(count: int, seed: int) -> np.ndarray:
    """Spread out enough that a subject's own template is its nearest (and scores above the threshold)."""
    return np.random.default_rng(seed).normal(scale=0.5, size=(count, DIMENSION)).astype(np.float32)


def stub_of(stand: Stand, port: int) -> matcher_pb2_grpc.MatcherStub:
    """The router or a member, called over the stand's mutual TLS as its administrator."""
    return matcher_pb2_grpc.MatcherStub(stand.channel(port))


def create_gallery(router) -> None:
    router.CreateGallery(matcher_pb2.CreateGalleryRequest(gallery="g", model="test", model_version="1",
                                                          dimension=DIMENSION, threshold=0.01), timeout=10)


def stream_position(link: NatsLink) -> int:
    """The stream's last sequence, asked again while the test's own connection or the stream's leader moves."""
    for attempt in range(30):
        try:
            return link.call(link.last_sequence(), timeout=10)
        except Exception:
            if attempt == 29:
                raise
            time.sleep(0.5)


def wait_converged(link: NatsLink, names: set[str], timeout: float = 90.0) -> None:
    """Until every named member serves and has applied the whole stream."""
    deadline = time.monotonic() + timeout
    while True:
        last = stream_position(link)
        now = time.time()
        ready = {m["name"] for m in link.call(link.members(), timeout=10)
                 if m["serving"] and m["applied"] >= last and now - m["at"] < 3}
        if names <= ready:
            return
        assert time.monotonic() < deadline, f"members not caught up: {sorted(names - ready)}"
        time.sleep(0.2)


def recorded_subjects(link: NatsLink) -> Counter:
    """How many times each subject id is in the gallery stream."""
    async def read():
        reader = StreamReader(link, 0)
        last = await link.last_sequence()
        counts = Counter()
        while reader.position < last:
            for message in await reader.next_batch(1000, wait=1.0):
                counts[message.headers[SUBJECT_HEADER]] += 1
            await reader.notice_last(last)
        await reader.drop()
        return counts
    return link.call(read(), timeout=120)


def stream_leader(link: NatsLink) -> int:
    for attempt in range(30):
        try:
            info = link.call(link.js.stream_info(GALLERY_STREAM), timeout=10)
            return int(info.cluster.leader.rsplit("-", 1)[1])  # limes-nats-<i>
        except Exception:
            if attempt == 29:
                raise
            time.sleep(0.5)


class Searcher(threading.Thread):
    """Searches for enrolled subjects until stopped: counts answers, partial ones, misses and errors."""

    def __init__(self, router, vectors: np.ndarray, known):
        super().__init__(daemon=True)
        self.router, self.vectors, self.known = router, vectors, known
        self.stop = threading.Event()
        self.answers = 0
        self.partial: list[str] = []  # the sets missing from each partial answer
        self.misses: list[str] = []
        self.errors: list[str] = []

    def run(self):
        rng = np.random.default_rng(7)
        while not self.stop.is_set():
            candidates = self.known()
            if not candidates:
                time.sleep(0.01)
                continue
            i = candidates[rng.integers(len(candidates))]
            try:
                answer = self.router.Search(matcher_pb2.SearchRequest(gallery="g", template=template(self.vectors[i]),
                                                                      top_k=1), timeout=10)
            except grpc.RpcError as exc:
                self.errors.append(f"{exc.code().name}: {exc.details()}")
                continue
            self.answers += 1
            if answer.partial:
                self.partial.append(",".join(answer.missing_shards))
            elif not answer.candidates or answer.candidates[0].subject_id != f"S{i}":
                found = answer.candidates[0].subject_id if answer.candidates else "nothing"
                self.misses.append(f"S{i} (found {found})")


def test_killing_the_stream_leader_and_a_replica_loses_and_doubles_nothing(tmp_path):
    vectors = templates(600, seed=1)
    with Stand(tmp_path) as stand:
        stand.start_nats()
        for name, set_name in [("A1", "A"), ("A2", "A"), ("B1", "B"), ("B2", "B")]:
            stand.start_member(name, set_name, snapshot_every=200)
        stand.rebalance(["A", "B"])
        router = stub_of(stand, stand.start_router())
        link = stand.link("test")
        link.call(link.ensure())
        try:
            create_gallery(router)
            acknowledged: list[tuple[int, int]] = []  # (subject, stream position just after its acknowledgement)
            retried: set[str] = set()
            lock = threading.Lock()

            def known():
                """Subjects that every member the router may ask has applied (members apply a moment after
                the acknowledgement; one that lost its NATS server lags until it reconnects)."""
                try:
                    members = link.call(link.members(), timeout=5)
                except Exception:  # the test's own NATS connection is moving to another server: ask again
                    return []
                # every member a router may still ask (its table is up to half a second old, so not only the
                # freshest): a replica that lost its NATS server answers from where it stopped
                now = time.time()
                applied = min((m["applied"] for m in members if m["serving"] and now - m["at"] < MEMBER_SILENT_AFTER),
                              default=0)
                with lock:
                    return [i for i, position in acknowledged if position <= applied]

            searcher = Searcher(router, vectors, known)
            searcher.start()
            faults_done = threading.Event()

            def faults():
                time.sleep(1.0)
                stand.kill_node(stream_leader(link))  # the leader of the gallery stream, SIGKILL
                time.sleep(1.5)
                stand.kill_member("A1")  # a replica, SIGKILL mid-stream
                time.sleep(1.5)
                for node in stand.nats:
                    if node.process.poll() is not None:
                        stand.start_node(node.index)
                stand.start_member("A1", "A", snapshot_every=200, wait=False)  # snapshot + replay
                faults_done.set()

            fault_thread = threading.Thread(target=faults, daemon=True)
            fault_thread.start()
            for i in range(len(vectors)):
                while True:
                    try:
                        router.Enrol(matcher_pb2.EnrolRequest(gallery="g", subject_id=f"S{i}",
                                                              template=template(vectors[i])), timeout=30)
                        break
                    except grpc.RpcError as exc:
                        assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
                        retried.add(f"S{i}")  # not acknowledged: may or may not be recorded, so sent again
                position = stream_position(link)
                with lock:
                    acknowledged.append((i, position))
                if i > 300 and not faults_done.is_set():
                    time.sleep(0.01)  # let the faults land while enrolments still flow
            fault_thread.join(60)
            assert faults_done.is_set()
            wait_converged(link, {"A1", "A2", "B1", "B2"})
            searcher.stop.set()
            searcher.join(10)

            assert searcher.errors == [] and searcher.misses == []
            assert searcher.answers > 50  # searches ran throughout
            # nothing acknowledged lost: every subject is found, by the router and by each replica of its set
            for i in range(len(vectors)):
                found = router.Search(matcher_pb2.SearchRequest(gallery="g", template=template(vectors[i])), timeout=5)
                assert not found.partial and found.candidates[0].subject_id == f"S{i}"
            sizes = {name: stub_of(stand, port).GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="g")).size
                     for name, port in stand.member_ports.items()}
            assert sizes["A1"] == sizes["A2"] and sizes["B1"] == sizes["B2"]
            assert sizes["A1"] + sizes["B1"] == len(vectors)
            # nothing recorded twice: each change the router retried inside itself kept its Nats-Msg-Id
            counts = recorded_subjects(link)
            assert set(counts) == {f"S{i}" for i in range(len(vectors))}
            assert {s: n for s, n in counts.items() if n > 1 and s not in retried} == {}
        finally:
            link.close()


def enrol_one_by_one(router, vectors: np.ndarray, subjects: range) -> None:
    for i in subjects:
        while True:
            try:
                router.Enrol(matcher_pb2.EnrolRequest(gallery="g", subject_id=f"S{i}", template=template(vectors[i])),
                             timeout=30)
                break
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()


def test_adding_a_set_and_rebalancing_while_searching_and_enrolling_keeps_every_answer(tmp_path):
    enrolled_first, enrolled_during = 1500, 300
    vectors = templates(enrolled_first + enrolled_during, seed=2)
    with Stand(tmp_path) as stand:
        stand.start_nats()
        for name, set_name in [("A1", "A"), ("B1", "B")]:
            stand.start_member(name, set_name)
        stand.rebalance(["A", "B"])
        # 5 s per set: on a starved machine (load 30 on 2 cores) a single replica busy building its index
        # took over 2 s, and this test is about the move, not about deadlines
        router = stub_of(stand, stand.start_router(timeout=5))
        link = stand.link("test")
        link.call(link.ensure())
        try:
            create_gallery(router)
            for start in range(0, enrolled_first, 500):
                router.EnrolBatch(matcher_pb2.EnrolBatchRequest(gallery="g", items=[
                    matcher_pb2.EnrolRequest(subject_id=f"S{i}", template=template(vectors[i]))
                    for i in range(start, start + 500)]), timeout=60)
            wait_converged(link, {"A1", "B1"})
            searcher = Searcher(router, vectors, lambda: range(enrolled_first))
            searcher.start()
            time.sleep(0.5)
            stand.start_member("C1", "C")
            # enrolments go on while the newcomer replays and the table flips: the moving vshards' ones too
            enroller = threading.Thread(target=enrol_one_by_one, daemon=True,
                                        args=(router, vectors, range(enrolled_first, len(vectors))))
            enroller.start()
            outcome = stand.rebalance(["A", "B", "C"], timeout=120)
            enroller.join(120)
            assert not enroller.is_alive()
            time.sleep(1.5)  # searches on after the flip, once the old owners dropped what they gave away
            searcher.stop.set()
            searcher.join(10)

            assert outcome["moved"] == 1024 // 3
            assert searcher.errors == [] and searcher.misses == [] and searcher.partial == []
            assert searcher.answers > 50
            wait_converged(link, {"A1", "B1", "C1"})
            # no enrolment lost in the move: each subject found, and held once
            for start in range(0, len(vectors), 200):
                found = router.SearchBatch(matcher_pb2.SearchBatchRequest(queries=[
                    matcher_pb2.SearchRequest(gallery="g", template=template(vectors[i]))
                    for i in range(start, min(start + 200, len(vectors)))]), timeout=30)
                assert [(r.partial, r.candidates[0].subject_id) for r in found.results] == [
                    (False, f"S{i}") for i in range(start, min(start + 200, len(vectors)))]
            stats = router.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="g"), timeout=5)
            assert stats.size == len(vectors)
            sizes = {name: stub_of(stand, port).GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="g")).size
                     for name, port in stand.member_ports.items()}
            assert all(size > 300 for size in sizes.values()), sizes
            # a whole set gone: searches say so rather than answer as if complete
            stand.kill_member("C1", signal.SIGKILL)
            time.sleep(0.2)
            answer = router.Search(matcher_pb2.SearchRequest(gallery="g", template=template(vectors[0])), timeout=5)
            assert answer.partial and list(answer.missing_shards) == ["C"]
        finally:
            link.close()
