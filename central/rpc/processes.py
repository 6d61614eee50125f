"""Several central server processes on one port, so that calls are not bound by one interpreter.

One server process runs Python one thread at a time (the GIL): on a machine
with more than one core it cannot use them all, however many threads serve.
Here the calling process serves as usual (central.rpc.server.serve: migrations,
identities, its own server) and starts `count - 1` further processes that
listen on the same port (SO_REUSEPORT): the kernel hands each new connection
to one of them, so a gate's channel stays with one process.

Every process has its own connections, group commit and caches:
- writes are shared through the database only. On PostgreSQL the processes
  commit side by side; on SQLite their commits take the one write lock in
  turn (each process still gathers its own calls' writes into one commit);
- a caller's roles are cached per process: GrantRole/RevokeRole through one
  process clears its cache at once, the others within `role_cache_s`
  seconds, as for a change made by `limes central identity`;
- stations are remembered per process (they never move);
- metrics are per process: process i serves them on metrics_port + i.

A child stops when asked (ServerGroup.stop), and on its own when the parent
dies (its end of the pipe closes); it ignores SIGINT, which a terminal sends
to the whole process group: the parent decides when children stop.
"""
from __future__ import annotations

import multiprocessing
import signal
import threading
from typing import Any, Callable

import grpc

from central.alerts.face_matcher import FaceMatcher
from central.rpc.server import serve

STARTUP_TIMEOUT_S = 60.0


class ServerGroup:
    """The server of this process and the processes serving beside it on the same port."""

    def __init__(self, server: grpc.Server, children: list, pipes: list) -> None:
        self.server = server
        self._children = children
        self._pipes = pipes

    @property
    def pids(self) -> list[int]:
        """The process ids of the further server processes (not this one)."""
        return [child.pid for child in self._children]

    def stop(self, grace: float | None = None) -> threading.Event:
        """Stop every process (each lets calls under way finish for `grace` seconds); set when all are down."""
        for pipe in self._pipes:
            try:
                pipe.send(grace)
            except OSError:  # that child is gone already
                pass
        stopped = self.server.stop(grace)
        done = threading.Event()

        def join() -> None:
            stopped.wait()
            for child in self._children:
                child.join(timeout=(grace or 0) + 10)
                if child.is_alive():
                    child.kill()
                    child.join()
            done.set()
        threading.Thread(target=join, name="central-group-stop", daemon=True).start()
        return done


def serve_processes(count: int, address: str = "127.0.0.1:0", database_url: str | None = None, *,
                    face_matcher_factory: Callable[[], FaceMatcher] | None = None,
                    traveller_gallery_factory: Callable[[], Any] | None = None,
                    finger_gallery_factory: Callable[[], Any] | None = None,
                    metrics_port: int | None = None, **options: Any) -> tuple[ServerGroup, int]:
    """`count` central server processes on one port: (the group, the port). Returns once all serve.

    `options` are serve()'s and must pickle (TLS files, risk rule path,
    access policy, ...): each child process receives them. A face matcher
    holds a channel, which does not: give `face_matcher_factory` (picklable,
    e.g. functools.partial(GrpcFaceMatcher, address, gallery, tls=...)) and
    each process makes its own; so with `traveller_gallery_factory` (the travellers gallery) and
    `finger_gallery_factory` (the traveller files' finger gallery).
    """
    if count < 1:
        raise ValueError("count: at least one server process")
    server, port = serve(address, database_url, reuse_port=count > 1, metrics_port=metrics_port,
                         face_matcher=face_matcher_factory() if face_matcher_factory else None,
                         traveller_gallery=traveller_gallery_factory() if traveller_gallery_factory else None,
                         finger_gallery=finger_gallery_factory() if finger_gallery_factory else None,
                         **options)
    host = address.rsplit(":", 1)[0]
    context = multiprocessing.get_context("spawn")  # never fork a process running gRPC threads
    children, pipes = [], []
    try:
        for index in range(1, count):
            ours, theirs = context.Pipe()
            child_metrics = None if metrics_port is None else (metrics_port + index if metrics_port else 0)
            child = context.Process(target=_child, name=f"central-{index}", daemon=True, args=(
                theirs, f"{host}:{port}", database_url, face_matcher_factory, traveller_gallery_factory,
                finger_gallery_factory, child_metrics, options))
            child.start()
            theirs.close()
            children.append(child)
            pipes.append(ours)
        for child, pipe in zip(children, pipes):
            if not pipe.poll(STARTUP_TIMEOUT_S):
                raise RuntimeError(f"central server process {child.name} did not start within {STARTUP_TIMEOUT_S} s")
            state, detail = pipe.recv()
            if state != "serving":
                raise RuntimeError(f"central server process {child.name} failed to start: {detail}")
    except BaseException:
        ServerGroup(server, children, pipes).stop(None).wait()
        raise
    return ServerGroup(server, children, pipes), port


def _child(pipe, address: str, database_url: str | None, face_matcher_factory, traveller_gallery_factory,
           finger_gallery_factory, metrics_port: int | None, options: dict) -> None:
    """One further server process: serve on `address` until the parent says stop or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        server, _ = serve(address, database_url, reuse_port=True, database_ready=True, metrics_port=metrics_port,
                          face_matcher=face_matcher_factory() if face_matcher_factory else None,
                          traveller_gallery=traveller_gallery_factory() if traveller_gallery_factory else None,
                          finger_gallery=finger_gallery_factory() if finger_gallery_factory else None,
                          **options)
    except Exception as exc:  # reported to the parent, which fails serve_processes with it
        pipe.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    pipe.send(("serving", None))
    try:
        grace = pipe.recv()
    except EOFError:  # the parent died without stopping us
        grace = None
    server.stop(grace).wait()
