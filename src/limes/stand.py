"""A local clustered-matcher stand on loopback: three nats-server processes in a JetStream cluster,
matcher members, a router. Used by `limes deploy matcher`, the fault tests and `limes bench matcher --cluster`.

NATS is mutual TLS throughout (matcher.nats_security): the stand makes a development CA under
`root/pki` (proto.dev_pki, as `limes pki dev-certs`), the servers' certificate, and one client
certificate per role (member, router, admin); each server's configuration file maps those
certificates' subjects to the roles' permissions, and the routes between servers are TLS too.
gRPC is mutual TLS too, from the same CA, each process holding only what it needs (matcher.access):
the members serve with a server-only certificate (`listener-matcher-member`: it cannot be presented
as a client); the router serves with `listener-matcher-router`, which it also presents to the members
as the service it is (a service may make every call there, the template reads it passes on too);
callers of the router and the members hold `user-stand-admin` (named `--administrator` of each: gallery
administration, enrolment, template reads) or `station-stand-search` (a station: search and verify
only). A caller without a certificate of the stand's CA gets no connection. The stand never uses
`--plaintext`.

Every process is started here with Popen and stopped here by its own pid; nothing else is touched.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from matcher import nats_security
from proto.dev_pki import DevPki
from proto.tls import TlsFiles, open_channel

NATS_SERVER = "nats-server"  # Debian's package of that name (./limes installs it)
MEMBER_READY = "listening on"  # `limes matcher serve --cluster` prints it once the member has joined
ADMINISTRATOR = "stand-admin"  # the user named --administrator of the router and the members
SEARCHER = "stand-search"  # a station: what a gate may do, search and verify


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args[:3]} exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def wait_for_line(path: Path, offset: int, text: str, timeout: float, process: subprocess.Popen) -> None:
    """Until `text` is in the file at `path` after `offset`; RuntimeError if `process` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, "rb") as handle:
            handle.seek(offset)
            if text.encode() in handle.read():
                return
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args[:5]} exited with {process.returncode}; see {path}")
        time.sleep(0.05)
    raise TimeoutError(f"{text!r} not in {path} after {timeout} s")


@dataclass
class NatsNode:
    index: int
    client_port: int
    cluster_port: int
    store: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"


@dataclass
class Stand:
    """Processes of one stand, under `root`. Stop it with `stop()` (also on context exit)."""
    root: Path
    nats: list[NatsNode] = field(default_factory=list)
    members: dict[str, subprocess.Popen] = field(default_factory=dict)
    member_ports: dict[str, int] = field(default_factory=dict)
    router: subprocess.Popen | None = None
    router_port: int = 0
    key_file: Path | None = None  # the members' at-rest key (their snapshots are sealed)
    roles: dict[str, TlsFiles] = field(default_factory=dict)  # NATS client certificate per role
    server_tls: TlsFiles | None = None
    grpc_tls: dict[str, TlsFiles] = field(default_factory=dict)  # member, router, admin, search

    @property
    def urls(self) -> str:
        return ",".join(node.url for node in self.nats)

    @property
    def pki(self) -> DevPki:
        return DevPki(self.root / "pki")

    def nats_flags(self, role: str) -> list[str]:
        files = self.roles[role]
        return ["--nats-tls-ca", str(files.ca), "--nats-tls-cert", str(files.certificate), "--nats-tls-key",
                str(files.key)]

    def grpc_flags(self, holder: str) -> list[str]:
        files = self.grpc_tls[holder]
        return ["--tls-ca", str(files.ca), "--tls-cert", str(files.certificate), "--tls-key", str(files.key),
                "--administrator", ADMINISTRATOR]

    def channel(self, port: int, holder: str = "admin", options: list | None = None):
        """A gRPC channel to 127.0.0.1:`port` (the router or a member) holding `holder`'s certificate:
        "admin" (every call) or "search" (a station's: search and verify only)."""
        return open_channel(f"127.0.0.1:{port}", self.grpc_tls[holder], options=options)

    def link(self, name: str, role: str = "admin"):
        """A NatsLink to the stand's servers holding `role`'s certificate."""
        from matcher.stream import NatsLink
        return NatsLink(self.urls.split(","), name=name, tls=self.roles[role])

    # ---- NATS

    def start_nats(self, size: int = 3) -> None:
        if shutil.which(NATS_SERVER) is None:
            raise RuntimeError("nats-server is not installed (Debian package nats-server; ./limes setup installs it)")
        pki = self.pki
        self.server_tls = pki.server()
        self.roles = {role: pki.service(nats_security.common_name(role)) for role in nats_security.ROLES}
        self.grpc_tls = {"member": pki.listener("matcher-member"),
                         "router": pki.listener("matcher-router", client=True),
                         "admin": pki.user(ADMINISTRATOR), "search": pki.station(SEARCHER)}
        self.key_file = self.root / "at-rest.key"
        self.nats = [NatsNode(i, free_port(), free_port(), self.root / f"nats-{i}") for i in range(size)]
        for node in self.nats:
            self.start_node(node.index)
        for node in self.nats:
            wait_for_port(node.client_port, 20, node.process)

    def start_node(self, index: int) -> None:
        node = self.nats[index]
        routes = ",".join(f"nats://127.0.0.1:{other.cluster_port}" for other in self.nats if other is not node)
        node.store.mkdir(parents=True, exist_ok=True)
        configuration = self.root / f"nats-{index}.conf"
        configuration.write_text(self.server_configuration(node, routes))
        log = open(self.root / f"nats-{index}.log", "ab")
        node.process = subprocess.Popen([NATS_SERVER, "-c", str(configuration)], stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def server_configuration(self, node: NatsNode, routes: str) -> str:
        """One server's configuration: clients and routes by mutual TLS, clients' roles by certificate subject."""
        cluster = ""
        if routes:
            route_list = ", ".join(f'"{route}"' for route in routes.split(","))
            cluster = (f'cluster {{\n  name: "limes"\n  listen: "127.0.0.1:{node.cluster_port}"\n'
                       f'  routes: [{route_list}]\n  '
                       + nats_security.server_tls(self.server_tls, map_users=False).replace("\n", "\n  ").rstrip()
                       + "\n}\n")
        return (f'listen: "127.0.0.1:{node.client_port}"\nserver_name: "limes-nats-{node.index}"\n'
                f'jetstream {{ store_dir: "{node.store}" }}\n'
                + nats_security.server_tls(self.server_tls, map_users=True)
                + nats_security.authorization({role: files.certificate for role, files in self.roles.items()})
                + cluster)

    def kill_node(self, index: int) -> None:
        _kill(self.nats[index].process, signal.SIGKILL)

    # ---- matcher processes

    def start_member(self, name: str, set_name: str, *, snapshot_every: int = 100_000, wait: bool = True) -> int:
        """Start member `name`; with `wait`, until it has joined the cluster (its gRPC port opens before
        that, so a member that failed to join would otherwise look started)."""
        port = self.member_ports.get(name) or free_port()
        self.member_ports[name] = port
        log_path = self.root / f"member-{name}.log"
        logged_before = log_path.stat().st_size if log_path.exists() else 0
        log = open(log_path, "ab")
        self.members[name] = subprocess.Popen(
            limes("matcher", "serve", "--cluster", self.urls, *self.nats_flags("member"), "--set", set_name,
                  "--name", name, "--listen", f"127.0.0.1:{port}", "--data", str(self.root / f"member-{name}"),
                  *self.grpc_flags("member"), "--key-file", str(self.key_file), "--snapshot-every", str(snapshot_every),
                  "--threads", "4"),
            stdout=log, stderr=subprocess.STDOUT, env=child_environment())
        log.close()
        if wait:
            wait_for_line(log_path, logged_before, MEMBER_READY, 90, self.members[name])
        return port

    def member_memory_mb(self) -> dict[str, dict[str, float]]:
        """Each running member's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
        found = {}
        for name, process in self.members.items():
            try:
                status = dict(line.split(":", 1) for line in open(f"/proc/{process.pid}/status") if ":" in line)
            except OSError:
                continue
            found[name] = {key: round(int(status[field].split()[0]) / 1024, 1)
                           for key, field in (("rss", "VmRSS"), ("peak", "VmHWM"))}
        return found

    def kill_member(self, name: str, sig: int = signal.SIGKILL) -> None:
        _kill(self.members.pop(name), sig)

    def start_router(self, timeout: float = 2.0) -> int:
        self.router_port = free_port()
        log = open(self.root / "router.log", "ab")
        self.router = subprocess.Popen(
            limes("matcher", "router", "--cluster", self.urls, *self.nats_flags("router"),
                  "--listen", f"127.0.0.1:{self.router_port}",
                  *self.grpc_flags("router"), "--timeout", str(timeout)),
            stdout=log, stderr=subprocess.STDOUT, env=child_environment())
        log.close()
        wait_for_port(self.router_port, 60, self.router)
        return self.router_port

    def rebalance(self, sets: list[str], timeout: float = 600.0) -> dict:
        import json
        done = subprocess.run(limes("matcher", "rebalance", "--cluster", self.urls, *self.nats_flags("admin"),
                                    "--sets", ",".join(sets),
                                    "--timeout", str(timeout), "--json"),
                              capture_output=True, text=True, env=child_environment(), timeout=timeout + 30)
        if done.returncode != 0:
            raise RuntimeError(f"limes matcher rebalance failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def stop(self) -> None:
        for process in [self.router, *self.members.values()]:
            _kill(process, signal.SIGTERM)
        for node in self.nats:
            _kill(node.process, signal.SIGTERM)
        self.members.clear()
        self.router = None

    def __enter__(self) -> "Stand":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def limes(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "limes", *arguments]


def child_environment() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _kill(process: subprocess.Popen | None, sig: int) -> None:
    """Stop one process this stand started (by its own pid), and reap it."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
