"""`limes bench matcher`: recall, false matches, latency and throughput on a synthetic gallery.

The gallery is enrolled through the real Gallery (fsync'd log, the index switch
from exact to the approximate kind at `exact_until`), then probed with mated
probes (a second "photo" of an enrolled identity) and non-mated ones (people
never enrolled). Recall@1 is against exact brute-force FAISS search over the
same templates; latency is measured in-process and over gRPC on loopback, with
`concurrency` client processes for the throughput figure.
"""
from __future__ import annotations

import datetime
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from matcher import synthetic
from drivers.face_score import score
from matcher.config import GalleryConfig
from matcher.registry import Registry

MODEL, VERSION = "synthetic-dlib-128", "1"
BATCH = 10_000


def run(gallery_size: int, queries: int, concurrency: int = 8, index_factory: str = "IVF1024,PQ32x4fs",
        exact_until: int = 20_000, search_breadth: int = 0, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    people = synthetic.population(rng, gallery_size)
    enrolled = synthetic.photos(rng, people, np.arange(gallery_size))
    mated_ids = rng.choice(gallery_size, size=min(queries, gallery_size), replace=False)
    mated = synthetic.photos(rng, people, mated_ids)
    strangers = synthetic.photos(rng, synthetic.population(rng, queries), np.arange(queries))
    probes = np.concatenate([mated, strangers])

    with tempfile.TemporaryDirectory(prefix="limes-bench-matcher-") as data_dir:
        rss_before = current_rss()
        # Snapshots are left to the end (timed on their own) instead of every 100k changes.
        registry = Registry(Path(data_dir), background=False, snapshot_every=2 ** 62)
        config = GalleryConfig.checked("bench", MODEL, VERSION, synthetic.DIMENSION, 0, index_factory, exact_until,
                                       search_breadth)
        gallery, _ = registry.create(config)
        started = time.perf_counter()
        for first in range(0, gallery_size, BATCH):
            last = min(first + BATCH, gallery_size)
            gallery.enrol([(f"id{i}", enrolled[i]) for i in range(first, last)])
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        gallery.snapshot()
        snapshot_s = time.perf_counter() - started
        rss_after = current_rss()
        index_bytes = len(faiss.serialize_index(gallery._index))

        exact = faiss.IndexFlatL2(synthetic.DIMENSION)
        exact.add(enrolled)
        started = time.perf_counter()
        exact_squared, exact_rows = exact.search(probes, 1)
        exact_batch_ms = (time.perf_counter() - started) * 1000 / len(probes)

        latencies, top1 = [], []
        for probe in probes:
            started = time.perf_counter()
            (hits,) = gallery.search(probe[None, :], 1)
            latencies.append((time.perf_counter() - started) * 1000)
            top1.append(hits[0] if hits else None)
        threshold = config.threshold
        same = [hit is not None and hit.subject_id == f"id{row}" for hit, row in zip(top1, exact_rows[:, 0])]
        mated_hits = [hit is not None and hit.subject_id == f"id{i}" and score(hit.distance) >= threshold
                      for hit, i in zip(top1[:len(mated)], mated_ids)]
        exact_mated_hits = [row == i and score(float(np.sqrt(max(d, 0)))) >= threshold
                            for row, d, i in zip(exact_rows[:len(mated), 0], exact_squared[:len(mated), 0], mated_ids)]
        false_matches = sum(hit is not None and score(hit.distance) >= threshold for hit in top1[len(mated):])

        grpc_single, grpc_concurrent = over_grpc(registry, probes, concurrency)
        stats = gallery.stats()
        registry.close()

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": "limes bench matcher " + " ".join(sys.argv[3:]) if sys.argv[1:3] == ["bench", "matcher"] else None,
        "gallery": gallery_size, "mated_probes": len(mated), "non_mated_probes": len(strangers),
        "index_factory": index_factory, "index_kind": stats.index_kind, "exact_until": exact_until,
        "search_breadth": search_breadth,
        "threshold": threshold,
        "recall_at_1_vs_exact": {"mated": mean(same[:len(mated)]), "non_mated": mean(same[len(mated):]),
                                 "all": mean(same)},
        "mated_identified_at_threshold": mean(mated_hits),
        "mated_identified_at_threshold_exact": mean(exact_mated_hits),
        "false_matches_at_threshold": {"count": false_matches, "rate": false_matches / len(strangers)},
        "build_s": round(build_s, 2), "snapshot_s": round(snapshot_s, 2),
        "exact_bruteforce_ms_per_query_batched": round(exact_batch_ms, 3),
        "in_process_ms": percentiles(latencies),
        "grpc_ms_one_client": grpc_single,
        "grpc_concurrent": grpc_concurrent,
        "rss_mb": round(rss_after / 2 ** 20, 1),
        "rss_growth_bytes_per_template": round((rss_after - rss_before) / gallery_size, 1),
        "index_bytes_per_template": round(index_bytes / gallery_size, 1),
        "stored_vector_bytes_per_template": 4 * synthetic.DIMENSION,
    }


def over_grpc(registry: Registry, probes: np.ndarray, concurrency: int) -> tuple[dict, dict]:
    """Latency with one client, then throughput and latency with `concurrency` client processes."""
    from matcher.server import start
    from matcher.service import MatcherService
    # Plaintext on loopback, as the recorded figures were measured: this bench is about FAISS and gRPC.
    server, port = start(MatcherService(registry), "127.0.0.1:0", plaintext=True, max_workers=max(16, 2 * concurrency))
    address = f"127.0.0.1:{port}"
    try:
        single = percentiles(client(address, probes.tolist())["latencies"])
        context = multiprocessing.get_context("spawn")  # no fork of a process running gRPC threads
        shares = [probes[i::concurrency].tolist() for i in range(concurrency)]
        with context.Pool(concurrency) as pool:
            results = pool.starmap(client, [(address, share, True) for share in shares])
        latencies = [ms for r in results for ms in r["latencies"]]
        wall = max(r["end"] for r in results) - min(r["start"] for r in results)
        concurrent = {"clients": concurrency, "queries": len(latencies), "qps": round(len(latencies) / wall, 1),
                      "ms": percentiles(latencies)}
    finally:
        server.stop(0).wait()
    return single, concurrent


def client(address: str, probes: list, wait_for_others: bool = False) -> dict:
    """One client process: a Search per probe, one after another."""
    import grpc
    from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc
    channel = grpc.insecure_channel(address)
    stub = matcher_pb2_grpc.MatcherStub(channel)
    requests = [matcher_pb2.SearchRequest(gallery="bench", top_k=1, template=common_pb2.FaceTemplate(
        vector=p, model=MODEL, model_version=VERSION)) for p in probes]
    for request in requests[:5]:  # warm the connection up
        stub.Search(request)
    if wait_for_others:
        time.sleep(max(0.0, 1.0 - (time.time() % 1.0)))  # start together on the next whole second
    latencies = []
    start = time.time()
    for request in requests:
        began = time.perf_counter()
        stub.Search(request, timeout=10)
        latencies.append((time.perf_counter() - began) * 1000)
    end = time.time()
    channel.close()
    return {"latencies": latencies, "start": start, "end": end}


def percentiles(values: list[float]) -> dict:
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3),
            "max": round(float(max(values)), 3)}


def mean(values) -> float:
    return round(float(np.mean(values)), 4) if len(values) else 0.0


def current_rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "faiss": faiss.__version__,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def render(result: dict) -> str:
    r = result
    lines = [
        f"gallery {r['gallery']} ({r['index_kind']}), {r['mated_probes']} mated + {r['non_mated_probes']} non-mated probes",
        f"recall@1 vs exact: mated {r['recall_at_1_vs_exact']['mated']}, all {r['recall_at_1_vs_exact']['all']}",
        f"false matches at threshold {r['threshold']}: {r['false_matches_at_threshold']['count']}",
        f"build {r['build_s']} s, snapshot {r['snapshot_s']} s, RSS {r['rss_mb']} MB, "
        f"index {r['index_bytes_per_template']} B/template",
        f"in-process ms: {r['in_process_ms']}",
        f"gRPC one client ms: {r['grpc_ms_one_client']}",
        f"gRPC {r['grpc_concurrent']['clients']} clients: {r['grpc_concurrent']['qps']} q/s, ms {r['grpc_concurrent']['ms']}",
    ]
    return "\n".join(lines)
