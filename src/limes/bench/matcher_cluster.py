"""`limes bench matcher --cluster`: the clustered matcher on a loopback stand (src/limes/stand.py).

Three nats-server processes (mutual TLS, roles by certificate), `sets` x `replicas` members
(snapshots sealed), one router; gRPC to the router and the members is mutual TLS as well, the
gallery created and the late enrolments sent with the stand's administrator certificate, every
search with its station (search-only) certificate. The synthetic gallery is loaded by publishing straight to the
JetStream stream, as a bulk import would (the router's role certificate, batches of
LOAD_BATCH, an idempotent change id per subject: a batch sent again is recorded once); loading
is not what is measured, and through gRPC EnrolBatch it runs at a few hundred a second here.
Then, once every member has caught up and built its approximate index: recall@1 of mated
probes against exact search over the same templates, latency and throughput through the
router, the time a rebalance takes when a set of one process is added, and the catch-up time
of a replica killed (SIGKILL) while enrolments go on (through the router), restarted from its
snapshot plus the stream.
"""
from __future__ import annotations

import os
import re
import signal
import tempfile
import threading
import time
from pathlib import Path

import faiss
import grpc
import numpy as np

from limes.bench import matcher_shared as shared
from limes.bench.matcher_shared import MODEL, VERSION, default_factory, machine_and_libraries, mated_probes, over_grpc
from limes.bench.summary import summary
from limes.stand import Stand
from matcher import index as indexes
from matcher import synthetic
from matcher.stream import ENROL, NatsLink, StreamUnavailable
from matcher.vshards import vshard_of
from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc

ENROL_BATCH = 5000
LOAD_BATCH = 10_000  # changes published per call when loading straight into the stream


def gallery_templates(seed: int, size: int) -> np.ndarray:
    out = np.empty((size, synthetic.DIMENSION), dtype=np.float32)
    for block, first, end in synthetic.blocks(size):
        people = synthetic.population_block(seed, block, end - first)
        out[first:end] = synthetic.photos(np.random.default_rng([seed, block, 1]), people, np.arange(end - first))
    return out


def members_state(link: NatsLink, names: set[str]) -> dict[str, dict]:
    return {m["name"]: m for m in link.call(link.members()) if m["name"] in names}


def wait_caught_up(link: NatsLink, names: set[str], timeout: float) -> float:
    started = time.monotonic()
    while True:
        last = link.call(link.last_sequence())
        now = time.time()
        ready = {n for n, m in members_state(link, names).items()
                 if m["serving"] and m["applied"] >= last and now - m["at"] < 5}
        if names <= ready:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"members not caught up after {timeout} s: {sorted(names - ready)}")
        time.sleep(0.1)


def stats_of(stand: Stand, port: int):
    with stand.channel(port, "search") as channel:
        return matcher_pb2_grpc.MatcherStub(channel).GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="bench"),
                                                                  timeout=10)


REBUILT = re.compile(r"gallery bench: rebuilt (\S+) index of (\d+) rows in ([\d.]+) s")


def from_log(path: Path, pattern: re.Pattern) -> list[tuple[str, ...]]:
    """Every match of `pattern` in a member's log (its INFO lines time its index builds and replays)."""
    return pattern.findall(path.read_text(errors="replace")) if path.exists() else []


def index_builds(root: Path, names) -> dict[str, dict]:
    """Each member's largest approximate index build: rows and seconds."""
    found = {}
    for name in names:
        builds = [(int(rows), float(seconds), kind) for kind, rows, seconds in from_log(root / f"member-{name}.log",
                                                                                      REBUILT) if kind != "exact"]
        if builds:
            rows, seconds, kind = max(builds)
            found[name] = {"index": kind, "rows": rows, "seconds": seconds}
    return found


def wait_indexed(stand: Stand, ports: dict[str, int], factory: str, timeout: float) -> float:
    """Until every member has the index its size calls for (the approximate one is built in the background)."""
    started = time.monotonic()
    while True:
        kinds, wanted = {}, {}
        for name, port in ports.items():
            stats = stats_of(stand, port)
            kinds[name] = stats.index_kind
            big_enough = stats.size >= max(stats.exact_until, indexes.minimum_size(factory, stats.dimension))
            wanted[name] = factory if big_enough else "exact"
        if kinds == wanted:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"indexes not built after {timeout} s: {kinds}")
        time.sleep(1)


def load_into_stream(link: NatsLink, vectors: np.ndarray, first: int) -> None:
    """Publish enrolments straight to the stream, LOAD_BATCH at a time, each under the change id
    `bench-load-P<n>`: a batch published again after a failure is dropped by the duplicate filter."""
    for start in range(0, len(vectors), LOAD_BATCH):
        subjects = [f"P{first + start + i}" for i in range(len(vectors[start:start + LOAD_BATCH]))]
        changes = [("bench", vshard_of(s), ENROL, s, v) for s, v in zip(subjects, vectors[start:start + LOAD_BATCH])]
        for attempt in range(3):
            try:
                link.call(link.publish_many(changes, seconds=60, change_ids=[f"bench-load-{s}" for s in subjects]),
                          timeout=600)
                break
            except StreamUnavailable:
                if attempt == 2:
                    raise


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def enrol(stub, vectors: np.ndarray, first: int) -> int:
    """Enrol through the router in batches; how many batches had to be sent again (UNAVAILABLE: safe to resend)."""
    resent = 0
    for start in range(0, len(vectors), ENROL_BATCH):
        request = matcher_pb2.EnrolBatchRequest(gallery="bench", items=[
            matcher_pb2.EnrolRequest(subject_id=f"P{first + start + i}", template=common_pb2.FaceTemplate(
                vector=v.tolist(), model=MODEL, model_version=VERSION))
            for i, v in enumerate(vectors[start:start + ENROL_BATCH])])
        for attempt in range(3):
            try:
                stub.EnrolBatch(request, timeout=300)
                break
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or attempt == 2:
                    raise
                resent += 1
    return resent


def search_once(stub, probe: np.ndarray, want: str) -> tuple[bool, bool]:
    """(found `want` first in a complete answer, the answer was partial)."""
    answer = stub.Search(matcher_pb2.SearchRequest(gallery="bench", top_k=1, template=common_pb2.FaceTemplate(
        vector=probe.tolist(), model=MODEL, model_version=VERSION)), timeout=10)
    return (bool(answer.candidates) and answer.candidates[0].subject_id == want and not answer.partial,
            answer.partial)


def recall(stub, probes: np.ndarray, expected: list[str]) -> dict:
    """Recall@1 against exact search (a partial answer counts as a miss), and how many answers were partial."""
    hits = partial = 0
    for probe, want in zip(probes, expected):
        hit, was_partial = search_once(stub, probe, want)
        hits, partial = hits + hit, partial + was_partial
    return {"recall_at_1": round(hits / len(probes), 4), "partial": partial}


def recall_while(stub, probes: np.ndarray, expected: list[str], work):
    """Run `work()` while one client searches the probes over and over; (its result, recall@1 of those
    searches with how many were partial). A rebalance's handover is what this watches."""
    done = threading.Event()
    counts = {"searches": 0, "hits": 0, "partial": 0}

    def search() -> None:
        while not done.is_set():
            for probe, want in zip(probes, expected):
                if done.is_set():
                    break
                hit, was_partial = search_once(stub, probe, want)
                counts["searches"] += 1
                counts["partial"] += was_partial
                counts["hits"] += hit
    searcher = threading.Thread(target=search, daemon=True)
    searcher.start()
    try:
        outcome = work()
    finally:
        done.set()
        searcher.join(30)
    return outcome, {"searches": counts["searches"], "partial": counts["partial"],
                     "recall_at_1": round(counts["hits"] / max(counts["searches"], 1), 4)}


def run(gallery_size: int, queries: int, concurrency: int, sets: int = 2, replicas: int = 2, index_factory: str = "",
        seed: int = 0, late: int = 10_000) -> dict:
    set_names = [chr(ord("A") + i) for i in range(sets)]
    factory = index_factory or default_factory(gallery_size // sets)
    vectors = gallery_templates(seed, gallery_size)
    rng = np.random.default_rng([seed, 9])
    which = np.sort(rng.choice(gallery_size, size=queries, replace=False))
    probes = mated_probes(seed, gallery_size, which)
    exact = faiss.IndexFlatL2(synthetic.DIMENSION)
    exact.add(vectors)
    _, nearest = exact.search(probes, 1)
    expected = [f"P{row}" for row in nearest[:, 0]]
    del exact
    result: dict = {"gallery": gallery_size, "sets": sets, "replicas": replicas, "index_factory": factory,
                    "queries": queries, "nats_copies": 3, "vshards": 1024, "nats_transport": "mutual TLS",
                    "grpc_transport": "mutual TLS",
                    "member_snapshots": "sealed (AES-256-GCM, common.sealing)",
                    "load_average_at_start": load_average()}
    with tempfile.TemporaryDirectory(prefix="limes-bench-cluster-") as root, Stand(Path(root)) as stand:
        stand.start_nats()
        members = {f"{s}{r + 1}": s for s in set_names for r in range(replicas)}
        for name, set_name in members.items():
            stand.start_member(name, set_name)
        stand.rebalance(set_names)
        router_port = stand.start_router(timeout=5)
        link = stand.link("bench", "router")
        link.call(link.ensure())
        channel = stand.channel(router_port, "admin", options=[("grpc.max_send_message_length", 64 << 20)])
        stub = matcher_pb2_grpc.MatcherStub(channel)  # the administrator: creates the gallery, enrols
        search_channel = stand.channel(router_port, "search")
        searcher = matcher_pb2_grpc.MatcherStub(search_channel)  # a station's rights: search only
        try:
            stub.CreateGallery(matcher_pb2.CreateGalleryRequest(
                gallery="bench", model=MODEL, model_version=VERSION, dimension=synthetic.DIMENSION,
                index_factory=factory), timeout=30)
            began = time.monotonic()
            load_into_stream(link, vectors, 0)
            result["load"] = {"how": f"published straight to the stream in batches of {LOAD_BATCH}, change id "
                                     "bench-load-<subject> (idempotent), router role; not through gRPC",
                              "seconds": round(time.monotonic() - began, 1)}
            result["load"]["per_s"] = round(gallery_size / max(result["load"]["seconds"], 0.1))
            result["members_caught_up_after_load_s"] = round(wait_caught_up(link, set(members), 3600), 1)
            ports = {n: stand.member_ports[n] for n in members}
            result["index_built_after_s"] = round(wait_indexed(stand, ports, factory, 3600), 1)
            result["index_builds"] = index_builds(Path(root), members)
            result["search"] = recall(searcher, probes, expected)
            single, concurrent = over_grpc(f"127.0.0.1:{router_port}", probes, concurrency, stand.grpc_tls["search"])
            result["one_client_ms"], result["concurrent"] = single, concurrent
            # one shard on its own (no router hop): the per-shard search time of the 100M plan
            first = f"{set_names[0]}1"
            result["one_member_one_client_ms"] = {
                "member": first, "templates": stats_of(stand, stand.member_ports[first]).size,
                **summary(shared.client(f"127.0.0.1:{stand.member_ports[first]}", probes.tolist(),
                                        tls=stand.grpc_tls["search"])["latencies"])}
            result["member_memory_mb_after_searches"] = stand.member_memory_mb()

            # a replica killed while enrolments go on, then restarted: snapshot (or the stream from 0) + replay
            victim = f"{set_names[0]}2" if replicas > 1 else f"{set_names[0]}1"
            stand.kill_member(victim, signal.SIGKILL)
            extra = gallery_templates(seed + 1, late)
            began = time.monotonic()
            result["late_enrol_batches_resent"] = enrol(stub, extra, gallery_size)
            result["late_enrol_through_router_per_s"] = round(late / (time.monotonic() - began))
            restarted = time.monotonic()
            stand.start_member(victim, members[victim], wait=False)
            wait_caught_up(link, {victim}, 3600)
            result["replica_restart"] = {"enrolled_while_down": late,
                                         "catch_up_s": round(time.monotonic() - restarted, 1)}
            result["search_after_restart"] = recall(searcher, probes, expected)

            # one more set of one process; the rebalance moves a third of the vshards to it
            newcomer = chr(ord("A") + sets)
            stand.start_member(f"{newcomer}1", newcomer)
            stream_length = link.call(link.last_sequence())
            outcome, result["search_during_rebalance"] = recall_while(
                stub, probes, expected, lambda: stand.rebalance([*set_names, newcomer], timeout=3600))
            # seconds: until every member has taken the final table (the old owners' drops, one replica of
            # a set after the other, matcher.handover); flip_seconds: until the table flipped
            result["rebalance"] = {"added_set": newcomer, "vshards_moved": outcome["moved"],
                                   "seconds": round(outcome["seconds"], 1),
                                   "flip_seconds": round(outcome["flip_seconds"], 1)}
            # the newcomer reads the whole stream (nats-server 2.9: one filter subject per consumer), applying a third
            result["rebalance"]["stream_length"] = stream_length
            result["rebalance"]["stream_changes_per_s"] = round(stream_length / max(outcome["seconds"], 0.1))
            result["search_after_rebalance"] = recall(searcher, probes, expected)
            time.sleep(30)  # the old owners' indexes rebuilt without what they gave away, the newcomer's built
            result["search_30s_after_rebalance"] = recall(searcher, probes, expected)
            result["member_memory_mb"] = stand.member_memory_mb()
        finally:
            channel.close()
            search_channel.close()
            link.close()
    result["load_average_at_end"] = load_average()
    result["machine"] = machine_and_libraries()  # how busy it was: the load averages above
    return result


def render(result: dict) -> str:
    r = result
    return "\n".join([
        f"cluster: {r['gallery']} templates over {r['sets']} sets x {r['replicas']} replicas ({r['index_factory']})",
        f"loaded straight into the stream: {r['load']['per_s']}/s; members caught up "
        f"{r['members_caught_up_after_load_s']} s later; indexes built {r['index_built_after_s']} s after that",
        f"recall@1 {r['search']['recall_at_1']} (after replica restart {r['search_after_restart']['recall_at_1']}, "
        f"after rebalance {r['search_after_rebalance']['recall_at_1']}, 30 s later "
        f"{r['search_30s_after_rebalance']['recall_at_1']})",
        f"one client: p50 {r['one_client_ms']['p50']} ms p99 {r['one_client_ms']['p99']} ms; "
        f"{r['concurrent']['clients']} clients: {r['concurrent']['qps']}/s p99 {r['concurrent']['ms']['p99']} ms",
        f"replica catch-up after restart ({r['replica_restart']['enrolled_while_down']} enrolled while down): "
        f"{r['replica_restart']['catch_up_s']} s",
        f"searches during the rebalance: {r['search_during_rebalance']['searches']}, "
        f"{r['search_during_rebalance']['partial']} partial, recall@1 {r['search_during_rebalance']['recall_at_1']}",
        f"rebalance to add set {r['rebalance']['added_set']}: {r['rebalance']['vshards_moved']} vshards in "
        f"{r['rebalance']['seconds']} s (table flipped after {r['rebalance']['flip_seconds']} s)",
        f"load average {r['load_average_at_start']} at start, {r['load_average_at_end']} at end",
    ])
