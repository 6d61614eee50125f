"""`limes deploy stand up|status|down`: the whole local multi-site stand of issue 23 in one command.

It composes the two stands there are, and adds nothing of its own: headquarters and border posts, each a
PostgreSQL cluster on loopback replicating to each other (central.sites.clusters, as `limes central sites
stand`), and three NATS servers with matcher members and a router (limes.stand, as `limes deploy matcher`).
`up` blocks, like `limes deploy matcher`, and takes everything down on Ctrl-C or SIGTERM; `down`, from
another shell, sends that SIGTERM to the `up` process recorded in the stand's folder. Every process is
stopped by its own pid, and a pid is signalled only while its command line still names the stand's folder
or ports (it may have been reused). The matcher's gRPC is mutual TLS (limes.stand): `status` says so only
after a call over it with the stand's search-only certificate was answered and one in plaintext was not.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import string
import sys
import time
from pathlib import Path

from central.sites.clusters import ClusterError, build_stand, load_stand
from central.sites.replication import Post
from common.output import add_json_flag, emit
from common.signals import StopSignals
from limes.commands.central_sites import replication_state
from limes.stand import Stand
from proto.tls import TlsError, TlsFiles, open_channel

STATE_FILE = "deploy.json"
SITES, MATCHER = "sites", "matcher"
UP_COMMAND = "deploy stand up"  # in the command line of the process `up` runs as


def register(sub) -> None:
    stand = sub.add_parser("stand", help="the local multi-site stand: 3 NATS servers, matcher processes, and "
                                         "headquarters and posts on PostgreSQL (docs/SITES.md)")
    actions = stand.add_subparsers(dest="stand_command", metavar="ACTION", required=True)
    up = actions.add_parser(
        "up", help="start it all and block until Ctrl-C, SIGTERM or `limes deploy stand down DIR`",
        description="Headquarters and --posts border posts as PostgreSQL clusters replicating to each other "
                    "(migrated subscribers first, published and subscribed), then three NATS servers, "
                    "--sets x --replicas matcher members and a router, all on 127.0.0.1. Prints where each "
                    "listens once all are up, records it in DIR/deploy.json, and blocks; on stop, stops "
                    "every process it started and removes the clusters.")
    up.add_argument("directory", type=Path, metavar="DIR", help="a new or empty folder for everything")
    up.add_argument("--posts", type=int, default=2, help="border posts (default 2)")
    up.add_argument("--sets", type=int, default=2, help="matcher vshard sets (default 2)")
    up.add_argument("--replicas", type=int, default=2, help="matcher processes per set (default 2)")
    up.add_argument("--no-fsync", action="store_true", help="PostgreSQL without fsync (tests; loses data on a crash)")
    add_json_flag(up)
    up.set_defaults(func=run_up)
    for name, func, text in (("status", run_status, "is each process and cluster up, and each site replicating"),
                             ("down", run_down, "stop a stand started with `up` (SIGTERM to its process) and "
                                                "remove what it left")):
        parser = actions.add_parser(name, help=text, description=text)
        parser.add_argument("directory", type=Path, metavar="DIR", help="the stand's folder")
        add_json_flag(parser)
        parser.set_defaults(func=func)


def _fail(message: str) -> int:
    print(f"limes deploy stand: {message}", file=sys.stderr)
    return 1


def run_up(args: argparse.Namespace) -> int:
    if not 1 <= args.posts <= 26 or not 1 <= args.sets <= 26 or args.replicas < 1:
        return _fail("--posts and --sets must be 1..26, --replicas at least 1")
    root = args.directory.resolve()
    if root.exists() and any(root.iterdir()):
        return _fail(f"{root} is not empty: a stand is made in a new folder")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # run as root, the clusters run as postgres, who must reach their folders
    state = {"directory": str(root), "pid": os.getpid(), "state": "starting"}
    _save(root, state)
    sites = None
    with StopSignals() as stop, Stand(root / MATCHER) as matcher:
        try:
            posts = [Post(f"post_{string.ascii_lowercase[i]}") for i in range(args.posts)]
            sites = build_stand(root / SITES, posts, fsync=not args.no_fsync)
            (root / MATCHER).mkdir()
            matcher.start_nats()
            names = list(string.ascii_uppercase[:args.sets])
            for set_name in names:
                for replica in range(1, args.replicas + 1):
                    matcher.start_member(f"{set_name}{replica}", set_name)
            matcher.rebalance(names)
            matcher.start_router()
        except Exception as error:  # noqa: BLE001 - whatever failed, stop what started and say why
            matcher.stop()
            if sites is not None:
                sites.remove()
            (root / STATE_FILE).unlink(missing_ok=True)
            return _fail(f"{error} (what started was stopped; its logs are in {root})")
        state.update(state="running", sites=sites.describe(), matcher={
            "nats": [{"url": node.url, "pid": node.process.pid} for node in matcher.nats],
            "members": {name: {"address": f"127.0.0.1:{port}", "pid": matcher.members[name].pid}
                        for name, port in matcher.member_ports.items()},
            "router": {"address": f"127.0.0.1:{matcher.router_port}", "pid": matcher.router.pid,
                       "transport": "mutual TLS"},
            "grpc_tls": {"ca": str(matcher.grpc_tls["admin"].ca),
                         **{holder: {"certificate": str(matcher.grpc_tls[holder].certificate),
                                     "key": str(matcher.grpc_tls[holder].key)} for holder in ("admin", "search")}}})
        _save(root, state)
        emit(state, args.json, _render)
        sys.stdout.flush()
        try:
            stop.wait()
        finally:
            matcher.stop()
            sites.remove()
            shutil.rmtree(root, ignore_errors=True)
    return 0


def _save(root: Path, state: dict) -> None:
    temporary = root / f".{STATE_FILE}.tmp"
    temporary.write_text(json.dumps(state, indent=2))
    temporary.replace(root / STATE_FILE)


def _render(state: dict) -> str:
    lines = [f"multi-site stand in {state['directory']} (process {state['pid']}, {state['state']})"]
    sites = state.get("sites")
    if sites:
        lines.append(f"  headquarters  {sites['hq']['url']}")
        lines += [f"  {post['name']:<13} {post['url']}" for post in sites["posts"]]
    matcher = state.get("matcher")
    if matcher:
        lines.append("  NATS          " + ",".join(node["url"] for node in matcher["nats"]))
        tls = matcher["grpc_tls"]
        lines.append(f"  router        {matcher['router']['address']} (gRPC mutual TLS, CA {tls['ca']}; "
                     f"administrator {tls['admin']['certificate']})")
        lines += [f"  member {name:<6} {m['address']}" for name, m in matcher["members"].items()]
    return "\n".join(lines)


def _load(directory: Path) -> dict | None:
    path = directory.resolve() / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else None


def _alive(pid: int, *marks: str) -> bool:
    """Whether `pid` runs and is still ours: its command line names one of `marks`."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return any(mark in command for mark in marks)


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _transport(address: str, tls: TlsFiles | None) -> str:
    """How the router at `address` answers: "mutual TLS" (a call with `tls` answered, one in plaintext not),
    "plaintext" (answered without TLS), or "not answering"."""
    import grpc

    from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc

    def answers(channel: grpc.Channel) -> bool:
        with channel:
            try:
                matcher_pb2_grpc.MatcherStub(channel).ListGalleries(matcher_pb2.ListGalleriesRequest(), timeout=3)
                return True
            except grpc.RpcError:
                return False
    if answers(open_channel(address, plaintext=True)):
        return "plaintext"
    try:
        return "mutual TLS" if tls is not None and answers(open_channel(address, tls)) else "not answering"
    except TlsError:  # the stand's certificates are gone or unreadable
        return "not answering"


def _search_tls(matcher: dict) -> TlsFiles | None:
    """The stand's search-only certificate, as `up` recorded it (None in a record without it)."""
    files = matcher.get("grpc_tls")
    if not files:
        return None
    return TlsFiles(Path(files["ca"]), Path(files["search"]["certificate"]), Path(files["search"]["key"]))


def run_status(args: argparse.Namespace) -> int:
    state = _load(args.directory)
    if state is None:
        return _fail(f"no stand in {args.directory} (no {STATE_FILE})")
    up = state["state"] == "running" and _alive(state["pid"], UP_COMMAND)
    report = {"directory": str(args.directory.resolve()), "pid": state["pid"], "running": up}
    matcher = state.get("matcher")
    if matcher:
        report["nats"] = [{"url": n["url"], "up": _listening(n["url"].removeprefix("nats://"))}
                          for n in matcher["nats"]]
        report["members"] = {name: {"address": m["address"], "up": _listening(m["address"])}
                             for name, m in matcher["members"].items()}
        address = matcher["router"]["address"]
        report["router"] = {"address": address, "up": _listening(address)}
        report["router"]["transport"] = _transport(address, _search_tls(matcher)) if report["router"]["up"] else None
    try:
        sites = load_stand(args.directory.resolve() / SITES).describe()
        for site in [sites["hq"], *sites["posts"]]:
            site["replication"] = replication_state(site["url"]) if site["running"] else None
        report["sites"] = sites
    except ClusterError as error:
        report["sites"] = {"error": str(error)}
    sites = report["sites"]
    report["healthy"] = bool(
        up and matcher and all(n["up"] for n in report["nats"]) and all(m["up"] for m in report["members"].values())
        and report["router"]["up"] and report["router"]["transport"] == "mutual TLS" and "error" not in sites
        and all(site["running"] for site in [sites["hq"], *sites["posts"]]))
    emit(report, args.json, _render_status)
    return 0 if report["healthy"] else 1


def _render_status(report: dict) -> str:
    lines = [f"stand in {report['directory']}: {'healthy' if report['healthy'] else 'NOT healthy'} "
             f"(process {report['pid']} {'running' if report['running'] else 'not running'})"]
    lines += [f"  NATS {n['url']}: {'up' if n['up'] else 'DOWN'}" for n in report.get("nats", [])]
    lines += [f"  member {name} {m['address']}: {'up' if m['up'] else 'DOWN'}"
              for name, m in report.get("members", {}).items()]
    if "router" in report:
        router = report["router"]
        lines.append(f"  router {router['address']}: "
                     + (f"up, answering over {router['transport']}" if router["up"] else "DOWN"))
    sites = report["sites"]
    if "error" in sites:
        lines.append(f"  sites: {sites['error']}")
    else:
        for name, site in [("headquarters", sites["hq"]), *((p["name"], p) for p in sites["posts"])]:
            replication = site["replication"] or {}
            subscriptions = ", ".join(f"{s['name']} {'running' if s['worker_running'] else 'STOPPED'}"
                                      for s in replication.get("subscriptions", []))
            lines.append(f"  {name}: {'running' if site['running'] else 'STOPPED'}; {subscriptions}")
    return "\n".join(lines)


def run_down(args: argparse.Namespace) -> int:
    state = _load(args.directory)
    if state is None:
        return _fail(f"no stand in {args.directory} (no {STATE_FILE})")
    root = args.directory.resolve()  # what was asked, never a path read from the file
    stopped_by_up = _alive(state["pid"], UP_COMMAND)
    if stopped_by_up:
        os.kill(state["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 120
        while _alive(state["pid"], UP_COMMAND) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(state["pid"], UP_COMMAND):
            return _fail(f"process {state['pid']} did not stop within 120 s")
    # What an `up` that was killed outright left: its processes (by their pids, while they are still
    # ours) and its clusters (by their folders).
    left = []
    matcher = state.get("matcher") or {}
    processes = [*matcher.get("nats", []), *matcher.get("members", {}).values()]
    processes += [matcher["router"]] if "router" in matcher else []
    for process in processes:
        mark = process.get("address") or process["url"].removeprefix("nats://")
        if _alive(process["pid"], str(root), mark):
            os.kill(process["pid"], signal.SIGTERM)
            left.append(process["pid"])
    try:
        load_stand(root / SITES).remove()
        left.append("clusters")
    except ClusterError:
        pass
    shutil.rmtree(root, ignore_errors=True)
    emit({"removed": str(root), "stopped_up": stopped_by_up, "left_over_stopped": left}, args.json,
         lambda r: f"stopped and removed the stand in {r['removed']}")
    return 0
