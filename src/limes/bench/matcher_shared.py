"""What `limes bench matcher` and its cluster variant (limes.bench.matcher_cluster) share:
the synthetic model's name, the default index, mated probes, searches over gRPC, the machine."""
from __future__ import annotations

import multiprocessing
import resource
import time

import faiss
import numpy as np

from common import machine
from limes.bench.summary import summary
from matcher import synthetic

MODEL, VERSION = "synthetic-dlib-128", "1"


def default_factory(gallery_size: int) -> str:
    """The index the benchmark uses unless told: IVF lists over 4-bit fast-scan PQ codes, re-ranked
    exactly (docs/MATCHER.md). About 4 x sqrt(N) lists (the nearest power of two, 1024 at least),
    but at most 8192: on 2 cores, training and adding cost time in proportion to the lists, and
    8192 lists keep a 10M build within about half an hour."""
    nlist = 2 ** min(13, max(10, round(np.log2(4 * np.sqrt(max(gallery_size, 1))))))
    return f"IVF{nlist},PQ32x4fs"


def mated_probes(seed: int, gallery_size: int, which: np.ndarray) -> np.ndarray:
    """A second photo of each identity in `which` (sorted), made block by block."""
    probes = np.empty((len(which), synthetic.DIMENSION), dtype=np.float32)
    for block, first, end in synthetic.blocks(gallery_size):
        chosen = np.flatnonzero((which >= first) & (which < end))
        if len(chosen):
            people = synthetic.population_block(seed, block, end - first)
            probes[chosen] = synthetic.photos(np.random.default_rng([seed, block, 2]), people, which[chosen] - first)
    return probes


def over_grpc(address: str, probes: np.ndarray, concurrency: int, tls=None) -> tuple[dict, dict]:
    """Latency with one client, then throughput and latency with `concurrency` client processes.

    `tls`: the clients' proto.tls.TlsFiles (mutual TLS), or None for a server started in plaintext."""
    single = summary(client(address, probes.tolist(), tls=tls)["latencies"])
    context = multiprocessing.get_context("spawn")  # no fork of a process running gRPC threads
    shares = [probes[i::concurrency].tolist() for i in range(concurrency)]
    with context.Pool(concurrency) as pool:
        results = pool.starmap(client, [(address, share, True, tls) for share in shares])
    latencies = [ms for r in results for ms in r["latencies"]]
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    concurrent = {"clients": concurrency, "queries": len(latencies), "qps": round(len(latencies) / wall, 1),
                  "ms": summary(latencies)}
    return single, concurrent


def client(address: str, probes: list, wait_for_others: bool = False, tls=None) -> dict:
    """One client process: a Search per probe, one after another (over mutual TLS with `tls`, else plaintext)."""
    from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc
    from proto.tls import open_channel
    channel = open_channel(address, tls, plaintext=tls is None)
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


def machine_and_libraries() -> dict:
    return {**machine.describe(), "faiss": faiss.__version__,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
