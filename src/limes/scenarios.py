"""The scenario library (hardware_sim.scenarios) through one simulated border post (`limes sim run`).

Each chosen scenario's traveller through the post's gate, judged against the
expected decision; scenarios that take a service down run last, so that the
others see a whole border post.
"""
from __future__ import annotations

from typing import Callable

from hardware_sim.scenarios import judge

# After central comes back: gRPC's reconnect backoff plus the outbox's, on a shared machine.
REPLAY_TIMEOUT_S = 120.0


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
    """One scenario: the traveller through the gate, judged; a run that breaks is a failed scenario.

    A traveller whose face the capture refused on quality (a head turned too far: a simulated traveller
    cannot turn back when the gate asks, as a person would) walks up once more, unless the capture's
    refusal is what the scenario is about or a service is stopped; the result says so."""
    first = _run_once(post, scenario)
    refused = [r for r in first["reasons"] if r.startswith("face.capture: poor quality")]
    if first["ok"] or not refused or "face.capture" in scenario.because or scenario.stops is not None:
        return first
    again = _run_once(post, scenario)
    note = f"walked up again: the first capture was refused ({refused[0]})"
    return {**again, "approaches": 2, "note": f"{again['note']}; {note}" if again["note"] else note}


def _run_once(post, scenario) -> dict:
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
