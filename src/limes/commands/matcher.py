"""`limes matcher serve|router`: the FAISS 1:N face search service (docs/MATCHER.md)."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from common.sealing import SealError, open_or_create
from common.settings import add_key_file_flag, key_file_of, var_dir
from common.signals import StopSignals
from matcher.router import Router
from matcher.server import serve, serve_member, start
from proto.tls import TlsError, TlsFiles, add_tls_arguments, tls_from_arguments


def register(matcher: argparse.ArgumentParser) -> None:
    matcher_sub = matcher.add_subparsers(dest="matcher_command", metavar="ACTION", required=True)

    serve = matcher_sub.add_parser("serve", help="serve the galleries under --data over gRPC (blocks)")
    serve.add_argument("--listen", default="127.0.0.1:50061", help="HOST:PORT (port 0: any free port)")
    serve.add_argument("--data", type=Path, default=None, help="data directory (default: var/matcher)")
    serve.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    serve.add_argument("--snapshot-every", type=int, default=100_000, metavar="N",
                       help="write a gallery snapshot after N logged changes (default 100000)")
    serve.add_argument("--threads", type=int, default=None, metavar="N",
                       help="threads serving calls (default: two per core)")
    serve.add_argument("--cluster", default=None, metavar="NATS_URLS",
                       help="comma-separated nats:// URLs: serve as a cluster member fed from the gallery stream "
                            "(docs/MATCHER.md, Cluster mode) instead of the local galleries")
    serve.add_argument("--set", dest="vshard_set", default=None,
                       help="cluster mode: the vshard set this process serves")
    serve.add_argument("--name", default=None, help="cluster mode: this process's name, unique in the cluster")
    _add_nats_flags(serve, "matcher-member")
    add_key_file_flag(serve, "templates (the log and snapshots)")
    add_tls_arguments(serve, "the matcher's own")
    _add_administrator_flag(serve)
    serve.set_defaults(func=run_serve)

    router = matcher_sub.add_parser("router", help="serve the Matcher API over several shard servers (blocks)")
    router.add_argument("--listen", default="127.0.0.1:50060", help="HOST:PORT (port 0: any free port)")
    router.add_argument("--shard", action="append", default=[], metavar="HOST:PORT",
                        help="a shard's address; repeat once per shard, always in the same order")
    router.add_argument("--cluster", default=None, metavar="NATS_URLS",
                        help="comma-separated nats:// URLs: route over the cluster's members instead of --shard")
    router.add_argument("--timeout", type=float, default=2.0, help="seconds a shard gets to answer")
    _add_nats_flags(router, "matcher-router")
    router.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    add_tls_arguments(router, "the router's own (also presented to the shards)")
    _add_administrator_flag(router)
    router.set_defaults(func=run_router)

    rebalance = matcher_sub.add_parser("rebalance", help="give the cluster's vshards to these sets (the first call "
                                                         "writes the assignment; later ones move vshards)")
    rebalance.add_argument("--cluster", required=True, metavar="NATS_URLS", help="comma-separated nats:// URLs")
    rebalance.add_argument("--sets", required=True, help="comma-separated vshard set names, e.g. A,B,C")
    rebalance.add_argument("--timeout", type=float, default=600.0, help="seconds the new owners get to load")
    rebalance.add_argument("--json", action="store_true", help="print what happened as JSON")
    _add_nats_flags(rebalance, "matcher-admin")
    rebalance.set_defaults(func=run_rebalance)


def _add_nats_flags(parser: argparse.ArgumentParser, role: str) -> None:
    group = parser.add_argument_group("cluster mode: mutual TLS to NATS (matcher/nats_security.py)")
    group.add_argument("--nats-tls-ca", metavar="PEM", help="the CA that certifies the NATS servers and clients")
    group.add_argument("--nats-tls-cert", metavar="PEM", help=f"this process's client certificate (CN {role})")
    group.add_argument("--nats-tls-key", metavar="PEM", help="its private key")
    group.add_argument("--nats-plaintext", action="store_true",
                       help="NATS without TLS (development only: anyone on the network reads the templates)")


def _nats_tls(args: argparse.Namespace, who: str):
    """(TlsFiles or None, ok) for the NATS connection of a cluster command, or an error printed."""
    try:
        return TlsFiles.from_options(args.nats_tls_ca, args.nats_tls_cert, args.nats_tls_key, args.nats_plaintext,
                                     f"{who} (NATS)"), True
    except TlsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None, False


def _add_administrator_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--administrator", action="append", default=[], metavar="NAME",
                        help="a user certificate (CN) allowed every call: enrolment, removal, template reads, "
                             "gallery administration; repeat per user. Other user certificates get nothing")


def _tls(args: argparse.Namespace, who: str):
    """(TlsFiles or None, ok): the TLS flags resolved, or an error printed."""
    try:
        return tls_from_arguments(args, who), True
    except TlsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None, False


def _transport(tls) -> str:
    return "plaintext" if tls is None else "mutual TLS"


def run_serve(args: argparse.Namespace) -> int:
    tls, ok = _tls(args, "limes matcher serve")
    if not ok:
        return 2
    if args.threads is not None and args.threads < 1:
        print("limes matcher serve: --threads must be at least 1", file=sys.stderr)
        return 2
    try:
        sealer = open_or_create(key_file_of(args))
    except SealError as exc:
        print(f"limes matcher serve: {exc}", file=sys.stderr)
        return 2
    if args.cluster:
        if not (args.vshard_set and args.name):
            print("limes matcher serve: --cluster needs --set and --name", file=sys.stderr)
            return 2
        nats_tls, ok = _nats_tls(args, "limes matcher serve")
        if not ok:
            return 2
        # a member's life is in its log: joined, caught up, assignments followed, replays and index builds timed
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        data = args.data or var_dir() / "matcher-member" / args.name
        server, port = serve_member(args.listen, data, urls(args.cluster), args.vshard_set, args.name, tls=tls,
                                    plaintext=args.plaintext, metrics_port=args.metrics_port, max_workers=args.threads,
                                    snapshot_every=args.snapshot_every, administrators=args.administrator,
                                    nats_tls=nats_tls, sealer=sealer)
        host = args.listen.rsplit(":", 1)[0]
        with StopSignals() as stop:
            print(f"matcher member {args.name} of set {args.vshard_set} ({_transport(tls)}) listening on "
                  f"{host}:{port}", flush=True)
            stop_when_signalled(server, stop)
        server.member.stop()
        server.member.close()
        server.member.link.close()
        return 0
    server, port = serve(args.listen, args.data, tls=tls, plaintext=args.plaintext, metrics_port=args.metrics_port,
                         max_workers=args.threads, snapshot_every=args.snapshot_every, sealer=sealer,
                         administrators=args.administrator)
    host = args.listen.rsplit(":", 1)[0]
    with StopSignals() as stop:  # before saying where it listens: a stop right after must not be lost
        print(f"matcher ({_transport(tls)}) listening on {host}:{port}", flush=True)
        stop_when_signalled(server, stop)
    server.registry.close()
    return 0


def run_router(args: argparse.Namespace) -> int:
    tls, ok = _tls(args, "limes matcher router")
    if not ok:
        return 2
    if args.cluster:
        return run_cluster_router(args, tls)
    if not args.shard:
        print("limes matcher router: give --shard (one per shard) or --cluster", file=sys.stderr)
        return 2
    router = Router(args.shard, timeout=args.timeout, tls=tls, plaintext=args.plaintext)
    server, port = start(router, args.listen, tls=tls, plaintext=args.plaintext, metrics_port=args.metrics_port,
                         administrators=args.administrator)
    host = args.listen.rsplit(":", 1)[0]
    with StopSignals() as stop:
        print(f"matcher router ({_transport(tls)}) listening on {host}:{port} over {len(args.shard)} shards",
              flush=True)
        stop_when_signalled(server, stop)
    router.close()
    return 0


def stop_when_signalled(server, stop) -> None:
    """Block until SIGTERM or Ctrl-C, then stop taking calls and let running ones finish."""
    stop.wait()
    server.stop(grace=5).wait()


def urls(text: str) -> list[str]:
    return [u.strip() for u in text.split(",") if u.strip()]


def run_cluster_router(args: argparse.Namespace, tls) -> int:
    from matcher.cluster_router import ClusterRouter
    from matcher.stream import NatsLink

    nats_tls, ok = _nats_tls(args, "limes matcher router")
    if not ok:
        return 2
    link = NatsLink(urls(args.cluster), name="limes-matcher-router", tls=nats_tls)
    router = ClusterRouter(link, timeout=args.timeout, tls=tls, plaintext=args.plaintext)
    server, port = start(router, args.listen, tls=tls, plaintext=args.plaintext, metrics_port=args.metrics_port,
                         administrators=args.administrator)
    host = args.listen.rsplit(":", 1)[0]
    with StopSignals() as stop:
        print(f"matcher router ({_transport(tls)}) listening on {host}:{port} over the cluster", flush=True)
        stop_when_signalled(server, stop)
    router.close()
    link.close()
    return 0


def run_rebalance(args: argparse.Namespace) -> int:
    import json

    from matcher.rebalance import RebalanceError, rebalance
    from matcher.stream import NatsLink

    nats_tls, ok = _nats_tls(args, "limes matcher rebalance")
    if not ok:
        return 2
    link = NatsLink(urls(args.cluster), name="limes-matcher-rebalance", tls=nats_tls)
    try:
        outcome = rebalance(link, urls(args.sets), timeout=args.timeout)
    except (RebalanceError, ValueError) as exc:
        print(f"limes matcher rebalance: {exc}", file=sys.stderr)
        return 1
    finally:
        link.close()
    if args.json:
        print(json.dumps(outcome))
    else:
        print(f"assignment version {outcome['version']}: {outcome['moved']} vshards moved in "
              f"{outcome['seconds']:.1f} s")
    return 0
