"""`limes sim run`: the scenario library (hardware_sim.scenarios) through one simulated border post.

Starts the border post once (central, matcher, simulated devices, one e-gate),
walks each chosen scenario's traveller through the gate and prints the
decision beside the expected one, with the gate's reasons. Scenarios that
take a service down run last, so that the others see a whole border post.
Exits 0 when every scenario passes or is pending as declared, 1 otherwise.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Callable

from common.output import add_json_flag, emit
from common.settings import faces_dir, var_dir

# After central comes back: gRPC's reconnect backoff plus the outbox's, on a shared machine.
REPLAY_TIMEOUT_S = 120.0


def register(sub) -> None:
    sim = sub.add_parser("sim", help="scenarios on simulated devices: every gate decision, proven")
    sim_sub = sim.add_subparsers(dest="sim", metavar="WHAT", required=True)
    parser = sim_sub.add_parser("run", help="run scenarios through a simulated border post",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", metavar="NAME",
                        help="run this scenario (repeatable; default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--faces", type=Path, default=None,
                        help="folder of real face photos (default: LIMES_FACES_DIR or ../shared/faces)")
    parser.add_argument("--state", type=Path, default=None,
                        help="folder for the border post's databases and PKI (default: var/sim, wiped first)")
    add_json_flag(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from hardware_sim.scenarios import select

    try:
        chosen = select(args.scenario)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        listing = [{"scenario": s.name, "title": s.title, "expected": s.expected, "because": list(s.because),
                    "because_status": s.because_status, "stops": s.stops, "pending": s.pending} for s in chosen]
        emit(listing, args.json, _render_list)
        return 0
    faces = args.faces or faces_dir()
    if not (faces / "obama").is_dir():
        print(f"error: face photos not found in {faces}; set LIMES_FACES_DIR or pass --faces", file=sys.stderr)
        return 2
    state = args.state or var_dir() / "sim"
    shutil.rmtree(state, ignore_errors=True)

    from limes.borderpost import demo_border_post

    with demo_border_post(state, faces, travellers=[s.traveller for s in chosen]) as post:
        results = run_scenarios(post, chosen, progress=None if args.json else _print_line)
    summary = {status: sum(r["status"] == status for r in results) for status in ("pass", "pending", "fixed", "fail")}
    summary["scenarios"] = len(results)
    emit({"scenarios": results, "summary": summary}, args.json, lambda _: _render_summary(summary))
    return 0 if all(r["ok"] for r in results) else 1


def run_scenarios(post, chosen, progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Each scenario's traveller through the post's gate; results in library order.

    Scenarios that stop a service go last: a stopped matcher stays down for the rest of the
    run; a stopped central is started again after its traveller, and the crossing the gate
    decided offline must then reach it exactly once.
    """
    ordered = sorted(chosen, key=lambda s: (s.stops is not None, s.stops == "matcher"))
    results = {}
    for scenario in ordered:
        if scenario.stops == "central":
            post.wait_for_alert_cache()  # a post that has run a while has loaded it long before
        if scenario.stops is not None:
            stop_service(post, scenario.stops)
        result = run_scenario(post, scenario)
        if scenario.stops == "central":
            post.restart_central()
            if result["ok"]:
                result = _replayed_once(post, result)
        results[scenario.name] = result
        if progress:
            progress(result)
    return [results[s.name] for s in chosen]


def _replayed_once(post, result: dict, timeout_s: float = REPLAY_TIMEOUT_S) -> dict:
    """The result, failed unless central holds the offline crossing exactly once once it is back."""
    delivered = post.running.outbox.wait_until_delivered(timeout=timeout_s)
    copies = post.crossings_at_central(result["crossing_id"], result["document_number"], result["issuing_state"])
    if delivered and copies == 1:
        return {**result, "note": "central back: the crossing replayed from the gate's outbox, recorded once"}
    return {**result, "status": "fail", "ok": False,
            "note": f"central back: outbox {'drained' if delivered else 'not drained'} after {timeout_s:.0f} s, "
                    f"the crossing recorded {copies} time(s) at central (expected once)"}


def run_scenario(post, scenario) -> dict:
    """One scenario: the traveller through the gate, judged; a run that breaks is a failed scenario."""
    from hardware_sim.scenarios import judge

    try:
        passed = post.pass_through(scenario.traveller)
    except Exception as exc:  # the simulator or the post broke: report it as this scenario's failure
        return {"scenario": scenario.name, "title": scenario.title, "status": "fail", "ok": False,
                "expected": scenario.expected, "decision": None, "because": list(scenario.because),
                "because_status": scenario.because_status,
                "not_passed": [], "reasons": [], "note": f"the run broke: {type(exc).__name__}: {exc}",
                "seconds": None, "timings_ms": {}}
    outcome = passed["outcome"]
    verdict = judge(scenario, outcome)
    return {"title": scenario.title, **verdict.to_dict(), "ok": verdict.ok, "seconds": passed["seconds"],
            "timings_ms": outcome["timings_ms"], "offline": outcome["offline"], "crossing_id": outcome["crossing_id"],
            "document_number": outcome["traveller"].get("document_number", ""),
            "issuing_state": outcome["traveller"].get("issuing_state", "")}


def stop_service(post, service: str) -> None:
    if service == "matcher":
        post.services.matcher_server.stop(grace=0).wait()
    elif service == "central":
        post.services.central_server.stop(grace=0).wait()
    else:
        raise ValueError(f"cannot stop {service!r}")


_MARKS = {"pass": "ok ", "pending": ".. ", "fixed": "!! ", "fail": "XX "}


def _print_line(result: dict) -> None:
    decision = (result["decision"] or "none").upper()
    seconds = f"{result['seconds']:.1f}s" if result["seconds"] is not None else ""
    print(f"{_MARKS[result['status']]}{result['scenario']:<20} {result['title']:<46} {decision:<5} "
          f"(expected {result['expected']}"
          + (f" because {_because(result)}" if result["because"] else "") + f") {seconds}", flush=True)
    for reason in result["reasons"]:
        print(f"        - {reason}", flush=True)
    if result["note"]:
        print(f"        {result['status']}: {result['note']}", flush=True)


def _because(item: dict) -> str:
    """The deciding checks, with how they must end when that is not failing."""
    status = item["because_status"]
    return ", ".join(item["because"]) + ("" if status == "fail" else f" {status}")


def _render_list(listing: list[dict]) -> str:
    lines = []
    for item in listing:
        line = f"{item['scenario']:<20} {item['expected']:<5} {item['title']}"
        if item["because"]:
            line += f" ({_because(item)})"
        if item["stops"]:
            line += f" [stops the {item['stops']}]"
        if item["pending"]:
            line += f" [pending: {item['pending']}]"
        lines.append(line)
    return "\n".join(lines)


def _render_summary(summary: dict) -> str:
    return (f"\n{summary['scenarios']} scenarios: {summary['pass']} passed, {summary['pending']} pending, "
            f"{summary['fixed']} pending but passing (remove the mark), {summary['fail']} failed")
