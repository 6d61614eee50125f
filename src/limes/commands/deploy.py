"""`limes deploy matcher`: a clustered matcher stand on loopback (limes.stand), until Ctrl-C or SIGTERM.

Three nats-server processes (a JetStream cluster, their stores under --dir), SETS x REPLICAS
matcher members, the initial assignment, one router, on 127.0.0.1, for trying the cluster mode
and for tests (docs/MATCHER.md, Cluster mode). NATS is mutual TLS with a certificate per role
(a development CA under DIR/pki; matcher/nats_security.py); the members' and the router's gRPC
is mutual TLS from the same CA (the administrator's and a search-only station's client certificates
are printed for callers); member snapshots are sealed under DIR/at-rest.key. Stopping it stops exactly the
processes it started.
"""
from __future__ import annotations

import argparse
import string
import sys
import tempfile
from pathlib import Path

from common.output import add_json_flag, emit
from common.signals import StopSignals
from limes.commands import deploy_stand
from limes.stand import Stand


def register(deploy: argparse.ArgumentParser) -> None:
    sub = deploy.add_subparsers(dest="deploy_command", metavar="WHAT", required=True)
    matcher = sub.add_parser("matcher", help="3 NATS servers, matcher members and a router on loopback (blocks)")
    matcher.add_argument("--dir", type=Path, default=None,
                         help="where the servers keep their data and logs (default: a new temporary folder)")
    matcher.add_argument("--sets", type=int, default=2, help="vshard sets (default 2)")
    matcher.add_argument("--replicas", type=int, default=2, help="processes per set (default 2)")
    add_json_flag(matcher)
    matcher.set_defaults(func=run_matcher)
    deploy_stand.register(sub)  # `limes deploy stand`: the multi-site stand (docs/SITES.md)


def run_matcher(args: argparse.Namespace) -> int:
    if not 1 <= args.sets <= 26 or args.replicas < 1:
        print("limes deploy matcher: --sets must be 1..26 and --replicas at least 1", file=sys.stderr)
        return 2
    root = args.dir or Path(tempfile.mkdtemp(prefix="limes-stand-"))
    root.mkdir(parents=True, exist_ok=True)
    names = list(string.ascii_uppercase[:args.sets])
    with StopSignals() as stop, Stand(root) as stand:
        stand.start_nats()
        for set_name in names:
            for replica in range(1, args.replicas + 1):
                stand.start_member(f"{set_name}{replica}", set_name)
        stand.rebalance(names)
        stand.start_router()
        emit({"dir": str(root), "nats": stand.urls.split(","), "nats_tls": {
                  "ca": str(stand.server_tls.ca),
                  **{role: str(files.certificate) for role, files in stand.roles.items()}},
              "router": f"127.0.0.1:{stand.router_port}",
              "grpc_tls": {"ca": str(stand.grpc_tls["admin"].ca),
                           **{holder: {"certificate": str(stand.grpc_tls[holder].certificate),
                                       "key": str(stand.grpc_tls[holder].key)} for holder in ("admin", "search")}},
              "members": {name: f"127.0.0.1:{port}" for name, port in stand.member_ports.items()}},
             args.json, render)
        sys.stdout.flush()
        stop.wait()
    return 0


def render(stand: dict) -> str:
    members = ", ".join(f"{name} {address}" for name, address in stand["members"].items())
    return (f"matcher stand in {stand['dir']}\n  NATS (mutual TLS, CA {stand['nats_tls']['ca']}): "
            f"{','.join(stand['nats'])}\n  router: {stand['router']} (gRPC mutual TLS, same CA; administrator "
            f"{stand['grpc_tls']['admin']['certificate']}, search only {stand['grpc_tls']['search']['certificate']})"
            f"\n  members: {members}\nCtrl-C stops it.")
