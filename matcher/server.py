"""Starting a matcher (or router) gRPC server with health checking and reflection.

Mutual TLS (`tls`) or, chosen explicitly, plaintext: every caller must present a
certificate from the server's CA, and its kind decides what it may call
(matcher.access: gates search and verify; enrolment, removal, template reads and
gallery administration are for services and administrators). Writes, template
reads and refusals are audited (matcher.access.Audit).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from matcher.access import AUDIT_FILE, AccessInterceptor, Audit
from matcher.registry import Registry
from matcher.servicer import MatcherServicer
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles, add_port, require_choice

# A full EnrolBatch (10000 x 128 floats) is ~5.5 MB, over gRPC's 4 MB default.
MESSAGE_LIMIT = 64 * 1024 * 1024
MESSAGE_OPTIONS = [("grpc.max_receive_message_length", MESSAGE_LIMIT), ("grpc.max_send_message_length", MESSAGE_LIMIT)]
SERVICE_NAME = matcher_pb2.DESCRIPTOR.services_by_name["Matcher"].full_name  # "limes.v1.Matcher"


def default_threads() -> int:
    """Threads serving calls: two per core. A search runs in FAISS without the interpreter lock,
    one per core, while the other thread of the pair does its call's Python (gRPC, checks, re-rank).
    More threads only contend for that lock: at 1M templates on 2 cores, 16 threads served about
    10% fewer searches a second than 4, at more CPU per search (docs/BENCHMARKS.md)."""
    return 2 * (os.cpu_count() or 1)


def start(servicer: matcher_pb2_grpc.MatcherServicer, address: str, *, tls: TlsFiles | None = None,
          plaintext: bool = False, max_workers: int = 16,
          metrics_port: int | None = None, audit: Audit | None = None,
          administrators: Iterable[str] = ()) -> tuple[grpc.Server, int]:
    """Serve `servicer` on `address` (port 0: any free port) in the background; returns the bound port.

    `tls` or `plaintext=True`, exactly one (proto.tls.TlsError otherwise).

    With `metrics_port`, Prometheus metrics are served over HTTP on 127.0.0.1 too
    (`server.metrics_http`, to shut down with the server).
    `audit`: where writes, template reads and refusals are recorded (default: the log only).
    `administrators`: the user certificates (by name) allowed every call; other users get none.
    """
    require_choice(tls, plaintext, "matcher")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers), options=MESSAGE_OPTIONS,
                         interceptors=[AccessInterceptor(audit or Audit(None), frozenset(administrators))])
    matcher_pb2_grpc.add_MatcherServicer_to_server(servicer, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = add_port(server, address, tls, plaintext)
    server.start()
    server.metrics_http = None
    if metrics_port is not None:  # port 0: any free port, then in server.metrics_http.server_port
        from prometheus_client import start_http_server
        server.metrics_http, _ = start_http_server(metrics_port, addr="127.0.0.1")
    return server, port


def serve(address: str = "127.0.0.1:0", data_dir: Path | None = None, *, tls: TlsFiles | None = None,
          plaintext: bool = False, metrics_port: int | None = None,
          max_workers: int | None = None, administrators: Iterable[str] = (),
          **gallery_options) -> tuple[grpc.Server, int]:
    """Load the galleries under `data_dir` and serve them; returns (server, bound port) without blocking.

    The server's `registry` attribute holds the galleries (close it after stopping the server);
    the audit trail is `data_dir/audit.jsonl` (matcher.access).
    `max_workers`: threads serving calls (None: default_threads()).
    `administrators`: the user certificates (by name) allowed every call (matcher.access).
    """
    if data_dir is None:
        from common.settings import var_dir
        data_dir = var_dir() / "matcher"
    require_choice(tls, plaintext, "matcher")
    registry = Registry(Path(data_dir), **gallery_options)
    try:
        server, port = start(MatcherServicer(registry), address, tls=tls, plaintext=plaintext,
                             max_workers=max_workers or default_threads(), metrics_port=metrics_port,
                             audit=Audit(Path(data_dir) / AUDIT_FILE), administrators=administrators)
    except BaseException:
        registry.close()
        raise
    server.registry = registry
    return server, port


def serve_member(address: str, data_dir: Path, servers: list[str], set_name: str, name: str, *,
                 tls: TlsFiles | None = None, plaintext: bool = False, metrics_port: int | None = None,
                 max_workers: int | None = None, administrators: Iterable[str] = (), nats_tls: TlsFiles | None = None,
                 **member_options):
    """A cluster member (matcher.member) serving set `set_name`'s vshards from the gallery stream on NATS
    `servers` (over mutual TLS with `nats_tls`, the member role's certificate: matcher.nats_security);
    returns (server, port) without blocking, `server.member` to stop after the server."""
    from matcher.member import Member, MemberServicer
    from matcher.stream import NatsLink

    require_choice(tls, plaintext, "matcher")
    link = NatsLink(servers, name=f"limes-matcher {name}", tls=nats_tls)
    member = Member(link, name, set_name, address, Path(data_dir), **member_options)
    server, port = start(MemberServicer(member), address, tls=tls, plaintext=plaintext,
                         max_workers=max_workers or default_threads(), metrics_port=metrics_port,
                         audit=Audit(Path(data_dir) / AUDIT_FILE), administrators=administrators)
    member.address = f"{address.rsplit(':', 1)[0]}:{port}"
    member.start()
    server.member = member
    return server, port
