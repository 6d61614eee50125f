"""`limes demo`: one border post on this machine, end to end.

Starts the central and matcher gRPC servers, the hardware simulator (document
reader on a pseudo-terminal, ePassport chips behind pcscd via vpcd, a camera
streaming MJPEG over HTTP) and one e-gate wired to them through those device
interfaces, then walks a short stream of travellers through the gate and
prints each decision beside the expected one. Exits 0 when every decision is
as expected, 1 otherwise.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from common.output import add_json_flag, emit
from common.settings import faces_dir, var_dir
from hardware_sim.pcscd import PcscdUnavailable
from limes.borderpost import demo_border_post, seed_analyst_world, seed_web_users
from limes.counterdesk import demo_desk

# The counter desk's screen with `limes demo --serve` (the web desk is on 8080).
DEMO_DESK_PORT = 8090


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--serve", action="store_true",
                        help="keep the services, the simulator and the officers' web desk running after the "
                             "travellers, with one web user per role (passwords printed; Ctrl-C stops)")
    parser.add_argument("--faces", type=Path, default=None,
                        help="folder of real face photos (default: LIMES_FACES_DIR or ../shared/faces)")
    parser.add_argument("--state", type=Path, default=None,
                        help="folder for the demo's databases, logs and PKI (default: var/demo, wiped first)")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    faces = args.faces or faces_dir()
    if not (faces / "obama").is_dir():
        print(f"error: face photos not found in {faces}; set LIMES_FACES_DIR or pass --faces", file=sys.stderr)
        return 2
    state = args.state or var_dir() / "demo"
    shutil.rmtree(state, ignore_errors=True)
    try:
        return _run(args, state, faces, demo_border_post)
    except Stopped as exc:
        print(f"stopped by {exc}", file=sys.stderr)
        return 130
    except PcscdUnavailable as exc:
        print(f"error: the simulated chip reader needs its own pcscd: {exc}", file=sys.stderr)
        return 2


def _run(args, state: Path, faces: Path, demo_border_post, demo_desk=demo_desk) -> int:
    progress = None if args.json else _print_line

    # SIGINT and SIGTERM unwind the border post (its pcscd and that one's temporary folder, the services),
    # whenever they come; while --serve waits they are its ordinary stop.
    with stop_unwinds(), demo_border_post(state, faces, fixed_ports=args.serve, web=args.serve) as post:
        if not args.json:
            print(f"central {post.services.central_address}  matcher {post.services.matcher_address}  "
                  f"reader {post.reader_port}  camera {post.camera_url}", flush=True)
            print(f"mutual TLS: CA and certificates in {post.services.pki_dir}", flush=True)
        results = post.run_travellers(progress=progress)
        summary = _summary(results)
        web = None
        if args.serve:
            users = seed_web_users(post.services.database_url)
            seed_analyst_world(post.services.database_url)
            web = {"url": post.services.web_url,
                   "users": [{"role": role, "user": user, "password": password}
                             for role, (user, password) in users.items()]}
        emit({"travellers": results, "summary": summary, **({"web": web} if web else {})}, args.json,
             lambda _: _render_summary(summary) + (_render_web(web) if web else ""))
        if args.serve:
            pki = post.services.pki_dir
            # One officer's counter too, with devices of its own, at the gate's border point.
            with demo_desk(post, state, faces, screen=f"127.0.0.1:{DEMO_DESK_PORT}",
                           nationalities=tuple({t.nationality for t in post.travellers}), sign_in=False) as desk:
                desk_users = [("officer", *desk.officer)] + [(role, *users[role]) for role in ("officer", "supervisor")]
                print(_render_desk(desk.url, desk_users), flush=True, file=sys.stderr if args.json else sys.stdout)
                serve_until_stopped(lambda: print(
                    f"services are up; press Ctrl-C to stop. They speak mutual TLS: a client needs {pki}/ca.pem "
                    f"and a certificate of its own, e.g. {pki}/user-demo-admin.pem and .key "
                    f"(`limes pki dev-certs --out {pki} --user NAME` issues more)", flush=True))
    return 0 if summary["as_expected"] == summary["travellers"] else 1


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived while the demo was busy: unwind (the `with` blocks clean up) and exit."""


@contextmanager
def stop_unwinds() -> Iterator[None]:
    """SIGINT and SIGTERM raise Stopped inside the block, so that its `with` blocks clean up.

    Both handlers are installed explicitly: started in the background by a
    non-interactive shell, the demo inherits SIGINT as ignored, and SIGTERM's
    default ends the process without running any clean-up (pcscd's temporary
    folder was left in /tmp).
    """
    def raise_stopped(signum, frame):
        raise Stopped(signal.Signals(signum).name)
    previous = {sig: signal.signal(sig, raise_stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_until_stopped(announce: Callable[[], None]) -> None:
    """Wait for SIGINT or SIGTERM (common.signals.StopSignals), having said so with `announce` first."""
    from common.signals import StopSignals

    with StopSignals() as stop:  # before announcing: a stop sent right after must not be lost
        announce()
        stop.wait()


def _print_line(index: int, total: int, result: dict) -> None:
    mark = "ok " if result["as_expected"] else "XX "
    name = result["traveller"] or "(unreadable document)"
    print(f"{mark}[{index}/{total}] {result['label']:<38} {name:<34} {result['decision'].upper():<5} "
          f"(expected {result['expected']}) {result['seconds']:.1f}s", flush=True)
    for reason in result["reasons"]:
        print(f"        - {reason}", flush=True)
    for name, ended in result["because_unmet"].items():
        print(f"        not as declared: {name} {ended}, expected {result['because_status']}", flush=True)
    print(f"        gate shows: {result['message']}", flush=True)


def _summary(results: list[dict]) -> dict:
    return {
        "travellers": len(results),
        "opened": sum(r["decision"] == "open" for r in results),
        "referred": sum(r["decision"] == "refer" for r in results),
        "as_expected": sum(r["as_expected"] for r in results),
        "recorded": sum(r["recorded"] for r in results),
        "date": dt.date.today().isoformat(),
    }


def _render_web(web: dict) -> str:
    lines = [f"\nofficers' web desk: {web['url']}  (the referred travellers above are in its queue)"]
    lines += [f"  {u['role']:<14} user {u['user']:<16} password {u['password']}" for u in web["users"]]
    return "\n".join(lines)


def _render_desk(url: str, users: list[tuple[str, str, str]]) -> str:
    lines = [f"\ncounter desk: {url}  (type or correct an MRZ with Alt+M; capture the face again with Alt+C; "
             "decide with Alt+A, Alt+R, Alt+S)"]
    lines += [f"  {role:<14} user {user:<16} password {password}" for role, user, password in users]
    return "\n".join(lines)


def _render_summary(summary: dict) -> str:
    return (f"\n{summary['travellers']} travellers: {summary['opened']} opened, {summary['referred']} referred; "
            f"{summary['recorded']} crossings recorded at central; "
            f"{summary['as_expected']}/{summary['travellers']} decisions as expected")
