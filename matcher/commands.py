"""`limes matcher ...` and `limes bench matcher` (argparse only here; heavy imports in the handlers)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.output import add_json_flag
from common.signals import StopSignals
from proto.tls import add_tls_arguments


def register(sub) -> None:
    matcher = sub.add_parser("matcher", help="FAISS 1:N face search service (see docs/MATCHER.md)")
    matcher_sub = matcher.add_subparsers(dest="matcher_command", metavar="ACTION", required=True)

    serve = matcher_sub.add_parser("serve", help="serve the galleries under --data over gRPC (blocks)")
    serve.add_argument("--listen", default="127.0.0.1:50061", help="HOST:PORT (port 0: any free port)")
    serve.add_argument("--data", type=Path, default=None, help="data directory (default: var/matcher)")
    serve.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    serve.add_argument("--snapshot-every", type=int, default=100_000, metavar="N",
                       help="write a gallery snapshot after N logged changes (default 100000)")
    serve.add_argument("--threads", type=int, default=None, metavar="N",
                       help="threads serving calls (default: two per core)")
    add_tls_arguments(serve, "the matcher's own")
    serve.set_defaults(func=run_serve)

    router = matcher_sub.add_parser("router", help="serve the Matcher API over several shard servers (blocks)")
    router.add_argument("--listen", default="127.0.0.1:50060", help="HOST:PORT (port 0: any free port)")
    router.add_argument("--shard", action="append", required=True, metavar="HOST:PORT",
                        help="a shard's address; repeat once per shard, always in the same order")
    router.add_argument("--timeout", type=float, default=2.0, help="seconds a shard gets to answer")
    router.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    add_tls_arguments(router, "the router's own (also presented to the shards)")
    router.set_defaults(func=run_router)


def register_bench(bench_sub) -> None:
    bench = bench_sub.add_parser("matcher", help="recall, latency and throughput on a synthetic gallery")
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
    bench.add_argument("--seed", type=int, default=0)
    add_json_flag(bench)
    bench.set_defaults(func=run_bench)


def _tls(args: argparse.Namespace, who: str):
    """(TlsFiles or None, ok): the TLS flags resolved, or an error printed."""
    from proto.tls import TlsError, tls_from_arguments
    try:
        return tls_from_arguments(args, who), True
    except TlsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None, False


def _transport(tls) -> str:
    return "plaintext" if tls is None else "mutual TLS"


def run_serve(args: argparse.Namespace) -> int:
    from matcher.server import serve
    tls, ok = _tls(args, "limes matcher serve")
    if not ok:
        return 2
    if args.threads is not None and args.threads < 1:
        print("limes matcher serve: --threads must be at least 1", file=sys.stderr)
        return 2
    server, port = serve(args.listen, args.data, tls=tls, plaintext=args.plaintext, metrics_port=args.metrics_port,
                         max_workers=args.threads, snapshot_every=args.snapshot_every)
    host = args.listen.rsplit(":", 1)[0]
    with StopSignals() as stop:  # before saying where it listens: a stop right after must not be lost
        print(f"matcher ({_transport(tls)}) listening on {host}:{port}", flush=True)
        stop_when_signalled(server, stop)
    server.registry.close()
    return 0


def run_router(args: argparse.Namespace) -> int:
    from matcher.router import Router
    from matcher.server import start
    tls, ok = _tls(args, "limes matcher router")
    if not ok:
        return 2
    router = Router(args.shard, timeout=args.timeout, tls=tls, plaintext=args.plaintext)
    server, port = start(router, args.listen, tls=tls, plaintext=args.plaintext, metrics_port=args.metrics_port)
    host = args.listen.rsplit(":", 1)[0]
    with StopSignals() as stop:
        print(f"matcher router ({_transport(tls)}) listening on {host}:{port} over {len(args.shard)} shards",
              flush=True)
        stop_when_signalled(server, stop)
    router.close()
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from common.output import emit
    from matcher.bench import render, run
    result = run(gallery_size=args.gallery, queries=args.queries, concurrency=args.concurrency,
                 index_factory=args.index_factory, exact_until=args.exact_until,
                 search_breadth=args.search_breadth, seed=args.seed, vector_storage=args.vector_storage,
                 rerank_shortlist=args.rerank_shortlist, wal_tail=args.wal_tail, top_k=args.top_k)
    emit(result, args.json, render)
    return 0


def stop_when_signalled(server, stop) -> None:
    """Block until SIGTERM or Ctrl-C, then stop taking calls and let running ones finish."""
    stop.wait()
    server.stop(grace=5).wait()
