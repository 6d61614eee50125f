"""`limes bench matcher`: recall, false matches, latency, throughput, memory and start-up time.

The gallery is enrolled through the real Gallery (fsync'd log, the index switch
from exact to the approximate kind at `exact_until`), then probed with mated
probes (a second "photo" of an enrolled identity) and non-mated ones (people
never enrolled). Recall@1 is against exact brute-force FAISS search over the
same float32 templates; for the non-mated probes, whose candidates are all
strangers, so is the top-k agreement (the share of the index's top k that are
among the exact top k). The exact search's time is a batched figure: all probes
in one FAISS call per block of rows, not one probe per call. Latency is measured in-process, then over gRPC against
a separate `limes matcher serve` process started on the gallery's files: its
start-up time is the recovery time (snapshot load + log replay), and its memory
is the matcher's own, apart from this process's synthetic data.

It holds little besides the gallery: the synthetic population is made block by
block (matcher.synthetic), and the exact ground truth is kept up to date block by
block as the gallery is enrolled (ExactNearest), so ten million templates fit.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from common import machine
from common.output import add_json_flag, emit
from common.sealing import open_or_create
from drivers.face_score import score
from limes.bench.matcher_shared import MODEL, VERSION, default_factory, machine_and_libraries, mated_probes, over_grpc
from limes.bench.summary import summary
from matcher import synthetic
from matcher.config import GalleryConfig
from matcher.registry import Registry

BATCH = 10_000
WAL_TAIL = 100_000  # enrolments left in the log after the last snapshot: the default --snapshot-every
TOP_K = 5  # for the non-mated top-k agreement: the candidates a gate's watchlist search asks for
START_TIMEOUT_S = 3600


class ExactNearest:
    """The exact k nearest gallery rows of each probe, nearest first, for a gallery seen one block
    of rows at a time (one batched FAISS search of every probe per block)."""

    def __init__(self, probes: np.ndarray, k: int = 1):
        self.probes = np.ascontiguousarray(probes, dtype=np.float32)
        self.top_squared = np.full((len(probes), k), np.inf, dtype=np.float32)
        self.top_rows = np.full((len(probes), k), -1, dtype=np.int64)

    @property
    def squared(self) -> np.ndarray:
        return self.top_squared[:, 0]

    @property
    def rows(self) -> np.ndarray:
        return self.top_rows[:, 0]

    def add(self, vectors: np.ndarray, first_row: int) -> None:
        block = faiss.IndexFlatL2(self.probes.shape[1])
        block.add(np.ascontiguousarray(vectors, dtype=np.float32))
        squared, rows = block.search(self.probes, min(self.top_rows.shape[1], len(vectors)))
        rows = np.where(rows >= 0, rows + first_row, -1)
        # The rows seen so far first: a stable sort keeps the earlier row on a tie.
        merged_squared = np.concatenate([self.top_squared, squared], axis=1)
        merged_rows = np.concatenate([self.top_rows, rows], axis=1)
        order = np.argsort(merged_squared, axis=1, kind="stable")[:, :self.top_rows.shape[1]]
        self.top_squared = np.take_along_axis(merged_squared, order, axis=1)
        self.top_rows = np.take_along_axis(merged_rows, order, axis=1)


def top_k_agreement(found: list[list[str]], exact_rows: np.ndarray) -> float:
    """Mean over probes of the share of the index's top k ids (`found`, "id{row}") that are among the
    exact search's top k rows; k is the exact list's width (fewer only when the gallery is smaller)."""
    shares = []
    for ids, rows in zip(found, exact_rows):
        exact = {f"id{row}" for row in rows if row >= 0}
        shares.append(len(set(ids) & exact) / len(exact) if exact else 1.0)
    return mean(shares)


def run(gallery_size: int, queries: int, concurrency: int = 8, index_factory: str = "",
        exact_until: int = 20_000, search_breadth: int = 0, seed: int = 0, vector_storage: str = "float32",
        wal_tail: int = WAL_TAIL, rerank_shortlist: int = 0, top_k: int = TOP_K, at_rest: str = "sealed") -> dict:
    index_factory = index_factory or default_factory(gallery_size)
    rng = np.random.default_rng(seed)
    mated_ids = np.sort(rng.choice(gallery_size, size=min(queries, gallery_size), replace=False))
    mated = mated_probes(seed, gallery_size, mated_ids)
    strangers = synthetic.photos(rng, synthetic.population(rng, queries), np.arange(queries))
    probes = np.concatenate([mated, strangers])
    top_k = min(top_k, gallery_size)
    nearest = ExactNearest(probes, top_k)
    wal_tail = min(wal_tail, gallery_size // 2)
    snapshot_at = gallery_size - wal_tail

    with tempfile.TemporaryDirectory(prefix="limes-bench-matcher-") as data_dir, \
            tempfile.TemporaryDirectory(prefix="limes-bench-keys-") as key_dir:
        # Sealed at rest as a deployed matcher is (log and snapshot), unless --at-rest clear.
        key_file = Path(key_dir) / "matcher.key" if at_rest == "sealed" else None
        sealer = open_or_create(key_file) if key_file else None
        rss_before = current_rss()
        # One snapshot, timed on its own, where the last `wal_tail` enrolments are left to the log.
        registry = Registry(Path(data_dir), background=False, snapshot_every=2 ** 62, sealer=sealer)
        config = GalleryConfig.checked("bench", MODEL, VERSION, synthetic.DIMENSION, 0, index_factory, exact_until,
                                       search_breadth, vector_storage, rerank_shortlist)
        gallery, _ = registry.create(config)
        build_s = exact_s = snapshot_s = 0.0
        for block, first, end in synthetic.blocks(gallery_size):
            enrolled = synthetic.enrolment_photos(seed, block, synthetic.population_block(seed, block, end - first))
            started = time.perf_counter()
            nearest.add(enrolled, first)
            exact_s += time.perf_counter() - started
            for start, stop in batches(first, end, snapshot_at):
                started = time.perf_counter()
                gallery.enrol([(f"id{i}", enrolled[i - first]) for i in range(start, stop)])
                build_s += time.perf_counter() - started
                if stop == snapshot_at:
                    started = time.perf_counter()
                    gallery.snapshot()
                    snapshot_s = time.perf_counter() - started
            del enrolled
            if end % 1_000_000 == 0:  # big runs take a while: say how far they are
                print(f"bench matcher: {end} enrolled, {build_s:.0f} s", file=sys.stderr, flush=True)
        memory = gallery.memory_bytes()
        rss_after = current_rss()

        latencies, top1 = [], []
        for probe in probes:
            started = time.perf_counter()
            (hits,) = gallery.search(probe[None, :], 1)
            latencies.append((time.perf_counter() - started) * 1000)
            top1.append(hits[0] if hits else None)
        # The non-mated probes' top k again, untimed (the latencies above are of top-1 searches).
        non_mated_found = [[hit.subject_id for hit in hits] for hits in gallery.search(strangers, top_k)]
        non_mated_agreement = top_k_agreement(non_mated_found, nearest.top_rows[len(mated):])
        threshold = config.threshold
        same = [hit is not None and hit.subject_id == f"id{row}" for hit, row in zip(top1, nearest.rows)]
        mated_hits = [hit is not None and hit.subject_id == f"id{i}" and score(hit.distance) >= threshold
                      for hit, i in zip(top1[:len(mated)], mated_ids)]
        exact_mated_hits = [row == i and score(float(np.sqrt(max(d, 0)))) >= threshold
                            for row, d, i in zip(nearest.rows[:len(mated)], nearest.squared[:len(mated)], mated_ids)]
        false_matches = sum(hit is not None and score(hit.distance) >= threshold for hit in top1[len(mated):])
        exact_distances = np.sqrt(np.maximum(nearest.squared, 0))
        distance_error = max((abs(hit.distance - float(d)) for hit, d, ok in zip(top1, exact_distances, same) if ok),
                             default=0.0)
        stats = gallery.stats()
        registry.close()
        del registry, gallery, top1
        gc.collect()

        with MatcherProcess(Path(data_dir), key_file) as matcher:
            grpc_single, grpc_concurrent = over_grpc(matcher.address, probes, concurrency)
            matcher_memory = matcher.memory()
            startup_s = matcher.startup_s

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_and_libraries(),
        "command": "limes bench matcher " + " ".join(sys.argv[3:]) if sys.argv[1:3] == ["bench", "matcher"] else None,
        "gallery": gallery_size, "mated_probes": len(mated), "non_mated_probes": len(strangers),
        "index_factory": index_factory, "at_rest": at_rest, "index_kind": stats.index_kind, "exact_until": exact_until,
        "search_breadth": search_breadth, "vector_storage": vector_storage,
        "rerank_shortlist": config.rerank_shortlist,
        "threshold": threshold,
        "recall_at_1_vs_exact": {"mated": mean(same[:len(mated)]), "non_mated": mean(same[len(mated):]),
                                 "all": mean(same)},
        "non_mated_top_k_agreement_vs_exact": {"k": top_k, "mean": non_mated_agreement},
        "max_distance_error_vs_exact": float(f"{distance_error:.3g}"),
        "mated_identified_at_threshold": mean(mated_hits),
        "mated_identified_at_threshold_exact": mean(exact_mated_hits),
        "false_matches_at_threshold": {"count": false_matches, "rate": false_matches / len(strangers)},
        "build_s": round(build_s, 2), "snapshot_s": round(snapshot_s, 2),
        # All probes in one FAISS call per block of rows: a batched figure, not one probe per call.
        "exact_bruteforce_ms_per_query_batched": round(exact_s * 1000 / len(probes), 3),
        "in_process_ms": summary(latencies),
        "grpc_ms_one_client": grpc_single,
        "grpc_concurrent": grpc_concurrent,
        "startup": {"s": round(startup_s, 2), "snapshot_rows": snapshot_at, "log_records_replayed": wal_tail},
        "gallery_memory_mb": {part: round(size / 2 ** 20, 1) for part, size in memory.items()},
        "gallery_memory_bytes_per_template": round(memory["total"] / gallery_size, 1),
        "matcher_process_memory_mb": matcher_memory,
        "bench_rss_growth_mb": round((rss_after - rss_before) / 2 ** 20, 1),
        "load_average": machine.load_average(),
    }


def batches(first: int, end: int, split_at: int) -> list[tuple[int, int]]:
    """[start, stop) enrolment batches of at most BATCH covering first..end, one of them ending at split_at."""
    bounds = sorted({*range(first, end, BATCH), end} | ({split_at} if first < split_at < end else set()))
    return list(zip(bounds[:-1], bounds[1:]))


class MatcherProcess:
    """`limes matcher serve` on a data directory in its own process: start-up time and memory."""

    def __init__(self, data_dir: Path, key_file: Path | None = None):
        self.data_dir = data_dir
        self.key_file = key_file

    def __enter__(self) -> "MatcherProcess":
        started = time.perf_counter()
        # The benchmark's snapshot is already taken: none at start-up while the latency is measured.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "limes.cli", "matcher", "serve", "--listen", "127.0.0.1:0",
             "--data", str(self.data_dir), "--snapshot-every", str(2 ** 62),
             *(["--key-file", str(self.key_file)] if self.key_file else []),
             "--plaintext"],  # plaintext on loopback: this bench is about FAISS and gRPC, not TLS
            stdout=subprocess.PIPE, text=True)
        # "matcher (plaintext) listening on HOST:PORT", once every gallery is loaded
        line = self.process.stdout.readline()
        self.startup_s = time.perf_counter() - started
        if " listening on " not in line:
            self.process.kill()
            raise RuntimeError(f"limes matcher serve did not start: {line!r}, exit {self.process.wait()}")
        self.address = line.split()[-1]
        self.after_start = self.status()
        return self

    def status(self) -> dict:
        """VmRSS (resident now) and VmHWM (peak resident) of the matcher process, in MB."""
        fields = {}
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    fields[name] = round(int(value.split()[0]) / 1024, 1)
        return fields

    def memory(self) -> dict:
        now = self.status()
        return {"rss_after_start": self.after_start["VmRSS"], "rss_after_queries": now["VmRSS"],
                "peak_rss": now["VmHWM"]}

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def mean(values) -> float:
    return round(float(np.mean(values)), 4) if len(values) else 0.0


def current_rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def render(result: dict) -> str:
    r = result
    lines = [
        f"gallery {r['gallery']} ({r['index_kind']}), {r['mated_probes']} mated + {r['non_mated_probes']} "
        "non-mated probes",
        f"recall@1 vs exact: mated {r['recall_at_1_vs_exact']['mated']}, all {r['recall_at_1_vs_exact']['all']}",
        f"non-mated top-{r['non_mated_top_k_agreement_vs_exact']['k']} agreement with exact: "
        f"{r['non_mated_top_k_agreement_vs_exact']['mean']}",
        f"exact brute force, batched: {r['exact_bruteforce_ms_per_query_batched']} ms a probe",
        f"false matches at threshold {r['threshold']}: {r['false_matches_at_threshold']['count']}",
        f"build {r['build_s']} s, snapshot {r['snapshot_s']} s, start-up {r['startup']['s']} s "
        f"(snapshot of {r['startup']['snapshot_rows']} + {r['startup']['log_records_replayed']} log records)",
        f"gallery memory MB {r['gallery_memory_mb']}; matcher process MB {r['matcher_process_memory_mb']}",
        f"in-process ms: {r['in_process_ms']}",
        f"gRPC one client ms: {r['grpc_ms_one_client']}",
        f"gRPC {r['grpc_concurrent']['clients']} clients: {r['grpc_concurrent']['qps']} q/s, "
        f"ms {r['grpc_concurrent']['ms']}",
        f"load average {r['load_average']}",
    ]
    return "\n".join(lines)


# -- limes bench matcher ----------------------------------------------------------------------

def register(bench: argparse.ArgumentParser) -> None:
    """`limes bench matcher`."""
    bench.add_argument("--gallery", type=int, default=100_000, help="templates enrolled (default 100000)")
    bench.add_argument("--queries", type=int, default=1000, help="mated and as many non-mated probes (default 1000)")
    bench.add_argument("--concurrency", type=int, default=8, help="concurrent gRPC clients (default 8)")
    bench.add_argument("--index-factory", default="",
                       help="approximate index (default: IVFn,PQ32x4fs with n ~ 4 x sqrt(gallery), a power of "
                            "two, at most 8192: IVF1024 at 100k, IVF4096 at 1M, IVF8192 at 10M)")
    bench.add_argument("--exact-until", type=int, default=20_000, help="size up to which search stays exact")
    bench.add_argument("--search-breadth", type=int, default=0, help="nprobe (IVF) or efSearch (HNSW); 0: default")
    bench.add_argument("--rerank-shortlist", type=int, default=0, metavar="N",
                       help="candidates the approximate index proposes for exact re-ranking (0: 64)")
    bench.add_argument("--vector-storage", choices=("float32", "float16"), default="float32",
                       help="how the gallery keeps templates for exact re-ranking (default float32)")
    bench.add_argument("--wal-tail", type=int, default=100_000, metavar="N",
                       help="enrolments left in the log after the snapshot, replayed at the timed start-up "
                            "(default 100000, the most --snapshot-every leaves; at most half the gallery)")
    bench.add_argument("--top-k", type=int, default=5, metavar="K",
                       help="k of the non-mated top-k agreement with exact search (default 5, as a gate's "
                            "watchlist search)")
    bench.add_argument("--at-rest", choices=("sealed", "clear"), default="sealed",
                       help="the log and snapshot sealed under a key file, as deployed (default), or in clear")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--cluster", default=None, metavar="SETSxREPLICAS",
                       help="e.g. 2x2: run a loopback cluster stand (3 nats-server, SETS x REPLICAS members, a "
                            "router) and measure it instead (limes.bench.matcher_cluster)")
    add_json_flag(bench)
    bench.set_defaults(func=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    if args.cluster:
        from limes.bench import matcher_cluster
        try:
            sets, replicas = (int(n) for n in args.cluster.lower().split("x"))
        except ValueError:
            print(f"limes bench matcher: --cluster {args.cluster!r} is not SETSxREPLICAS (e.g. 2x2)", file=sys.stderr)
            return 2
        emit(matcher_cluster.run(args.gallery, args.queries, args.concurrency, sets, replicas, args.index_factory,
                                 args.seed), args.json, matcher_cluster.render)
        return 0
    result = run(gallery_size=args.gallery, queries=args.queries, concurrency=args.concurrency,
                 index_factory=args.index_factory, exact_until=args.exact_until,
                 search_breadth=args.search_breadth, seed=args.seed, vector_storage=args.vector_storage,
                 rerank_shortlist=args.rerank_shortlist, wal_tail=args.wal_tail, top_k=args.top_k,
                 at_rest=args.at_rest)
    emit(result, args.json, render)
    return 0
