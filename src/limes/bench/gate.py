"""`limes bench gate`: the whole gate transaction on simulated devices, timed.

Genuine travellers step up with no settle time (the camera already sees them,
standing still, when the document lands) and every device answers as fast as
it can: what remains is the gate's own work. They cycle through several people
(hardware_sim.travellers.GENUINE_FACES: other faces, other real photos), each
with a document of their own and a modern passport chip (PACE, Chip and Active
Authentication), as the demo's. Reported: p50/p95 from document presented (the
MRZ frame written to the reader's line) to the gate opening: the decision made
and the crossing record committed (to the gate's outbox, and delivered to
central when it answers; Phase.CLOSED, after which the gate opens or shows the
way to the officer). Also the time to the decision alone, as measured before
2026-12-06, and each step's time from Outcome.timings_ms (`record` among them).

The capture loop cannot finish before it has seen `min_frames` frames with a
face at the camera's frame rate: that floor is reported beside the figures.

It needs the whole simulated border post (limes.borderpost), as `limes demo` does.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import inspect
import math
import sys
import time
from pathlib import Path

from common import machine
from common.output import add_json_flag, emit
from drivers.devices.pcsc import wait_for_removal
from edge.capture import REDETECT_EVERY, capture_face
from hardware_sim.camera import FPS
from hardware_sim.travellers import GENUINE_FACES, genuine_travellers
from limes.bench.stand import faces_folder, fresh_state
from limes.bench.summary import percentile, summary
from limes.borderpost import demo_border_post

TARGET_P95_MS = 1000.0
DOCUMENT_WAIT_S = 5.0


def register(parser: argparse.ArgumentParser) -> None:
    parser.description, parser.formatter_class = __doc__, argparse.RawDescriptionHelpFormatter
    parser.add_argument("--travellers", type=int, default=20, help="travellers timed (default 20; one more warms up)")
    parser.add_argument("--settle", type=float, default=0.0, metavar="SECONDS",
                        help="chip on the reader this long before the MRZ frame (default 0: both at once)")
    parser.add_argument("--faces", type=Path, default=None,
                        help="folder of real face photos (default: LIMES_FACES_DIR or ../shared/faces)")
    parser.add_argument("--state", type=Path, default=None,
                        help="folder for the border post's state (default: var/bench-gate, wiped first)")
    add_json_flag(parser)
    parser.set_defaults(func=_run)


def capture_floor_ms(fps: float) -> float:
    """The shortest capture: min_frames frames with a face at the camera's frame rate, the first of
    them already waiting in the camera driver when the capture starts. Frames between two face
    searches count once the second search confirms them, so the capture ends on a searched frame."""
    min_frames = inspect.signature(capture_face).parameters["min_frames"].default
    frames = 1 + REDETECT_EVERY * math.ceil((min_frames - 1) / REDETECT_EVERY)
    return round(1000.0 * (frames - 1) / fps, 1)


@dataclasses.dataclass
class Timed:
    to_gate_open: list[float] = dataclasses.field(default_factory=list)  # presented to Phase.CLOSED, ms
    to_decision: list[float] = dataclasses.field(default_factory=list)   # presented to Phase.DECIDED, ms
    live_faces: list[str] = dataclasses.field(default_factory=list)      # each traveller's, in order
    steps: list[dict[str, float]] = dataclasses.field(default_factory=list)
    decisions: dict[str, int] = dataclasses.field(default_factory=dict)
    recorded: int = 0  # crossings central had before the gate opened
    referrals: list[dict] = dataclasses.field(default_factory=list)  # the live face and the gate's reasons


def time_travellers(post, travellers) -> Timed:
    """Each traveller through the post's gate: presented-to-gate-open and presented-to-decision ms,
    step timings, decisions, crossings recorded at central, and the reasons of every referral (all
    travellers are genuine: a referral is a false rejection)."""
    timed = Timed()
    for traveller in travellers:
        post.devices.step_up(traveller)
        presented = time.perf_counter()  # step_up's last act is writing the MRZ frame to the line
        try:
            mrz_text = post.running.reader.wait_for_document(DOCUMENT_WAIT_S)
            if mrz_text is None:
                raise RuntimeError("the gate received no document from the reader")
            received = time.perf_counter()
            outcome = post.running.gate.process(mrz_text)
        finally:
            post.devices.take_back()
            # The next traveller steps up once the reader has seen this document leave, as at a real gate;
            # a card inserted before pcscd noticed the removal finds the reader in a stale state.
            wait_for_removal(post.devices.chip_reader, DOCUMENT_WAIT_S)
        waited_ms = (received - presented) * 1000.0
        # The transaction's own clock: decided, then closed once the record is kept; the gate opens then.
        timed.to_gate_open.append(waited_ms + outcome.phases_ms["closed"])
        timed.to_decision.append(waited_ms + outcome.phases_ms["decided"])
        timed.live_faces.append(traveller.live_face)
        timed.steps.append(outcome.timings_ms)
        timed.decisions[outcome.decision.value] = timed.decisions.get(outcome.decision.value, 0) + 1
        timed.recorded += outcome.recorded
        if outcome.reasons:
            timed.referrals.append({"live_face": traveller.live_face, "reasons": outcome.reasons})
    return timed


def _run(args) -> int:
    if args.travellers < 1 or args.settle < 0:
        print("error: --travellers must be at least 1 and --settle not negative", file=sys.stderr)
        return 2
    faces = faces_folder(args.faces)
    if faces is None:
        return 2
    state = fresh_state(args.state, "bench-gate")
    # Standing in view already (no walk-up); several people, each their own document, as in a queue.
    # The warm-up traveller is the last of the cycle, so the timed ones start with the first face.
    queue = genuine_travellers(args.travellers + 1, scene="portrait")
    travellers = [queue[-1], *queue[:-1]]
    with demo_border_post(state, faces, travellers=travellers, settle_s=args.settle) as post:
        time_travellers(post, travellers[:1])  # loads the face models and opens every connection
        timed = time_travellers(post, travellers[1:])
    names = list(dict.fromkeys(name for steps in timed.steps for name in steps))
    result = {
        "benchmark": "gate",
        "travellers": len(timed.to_gate_open),
        "people": min(len(GENUINE_FACES), len(timed.to_gate_open)),
        # Each live face's travellers, presented to gate open: the photos are not equally easy to capture.
        "presented_to_gate_open_ms_by_live_face": {
            face: summary([ms for ms, f in zip(timed.to_gate_open, timed.live_faces) if f == face])
            for face in sorted(set(timed.live_faces))},
        "decisions": timed.decisions,
        "recorded_at_central": timed.recorded,
        "referral_reasons": timed.referrals,
        "presented_to_gate_open_ms": summary(timed.to_gate_open),
        "presented_to_decision_ms": summary(timed.to_decision),
        "steps_ms": {name: summary([s[name] for s in timed.steps if name in s]) for name in names},
        "capture_floor_ms": capture_floor_ms(FPS),
        "camera_fps": FPS,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": percentile(timed.to_gate_open, 95) <= TARGET_P95_MS,
        "settle_s": args.settle,
        "scene": "portrait",
        "date": dt.date.today().isoformat(),
        "machine": machine.describe(),
        "load_average": machine.load_average(),
    }
    emit(result, args.json, _render)
    return 0


def _render(result: dict) -> str:
    total, decided = result["presented_to_gate_open_ms"], result["presented_to_decision_ms"]
    lines = [f"{result['travellers']} travellers ({result['people']} people) {result['decisions']}, "
             f"{result['recorded_at_central']} recorded at central: document presented to gate open "
             f"p50 {total['p50']:.0f} ms, p95 {total['p95']:.0f} ms (target p95 <= {result['target_p95_ms']:.0f} ms: "
             f"{'met' if result['meets_target'] else 'NOT met'}); to decision p50 {decided['p50']:.0f} ms, "
             f"p95 {decided['p95']:.0f} ms; capture floor {result['capture_floor_ms']:.0f} ms "
             f"at {result['camera_fps']:.0f} fps"]
    for name, figures in result["steps_ms"].items():
        lines.append(f"  {name:<18} p50 {figures['p50']:>7.1f} ms  p95 {figures['p95']:>7.1f} ms")
    return "\n".join(lines)
