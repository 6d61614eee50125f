"""`limes bench stay`: the authorised-stay rule for one traveller with a long record of crossings.

With --central, the same traveller's crossings are recorded at central (central.records.gate_calls, on a
temporary SQLite file, the stays table kept by each) and what CheckStay does for them is timed: find every
traveller row holding the document (central.records.national_stay; one here, as at a post) and authorise the
next entry from the stays table.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time

from central.stays.rule import Stay, authorise
from common import machine
from common.output import add_json_flag, emit
from limes.bench.summary import summary

TARGET_MS_P95 = 2.0  # a gate or a desk asks at every crossing; well under a frame of the officer's screen
ON = dt.date(2026, 12, 1)


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = (f"Time central.stays.rule.authorise for one traveller with 500 past crossings "
                         f"(250 stays); the target is p95 <= {TARGET_MS_P95:.0f} ms.")
    bench.add_argument("--stays", type=int, default=250, help="stays of the traveller (default 250)")
    bench.add_argument("--repeat", type=int, default=2000, help="computations timed (default 2000)")
    bench.add_argument("--central", action="store_true",
                       help="also record the crossings at central (temporary SQLite) and time CheckStay's work")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def history(count: int, seed: int = 180) -> list[Stay]:
    """`count` stays of a frequent traveller, oldest first, the last ending three weeks before ON: trips of
    1-60 days with 1-120 days outside between them, so that the window holds several stays and some of
    them broke the rule."""
    rng = random.Random(seed)
    trips = [(rng.randint(1, 120), rng.randint(1, 60)) for _ in range(count)]  # (days outside before, days in)
    day = ON - dt.timedelta(days=21 + sum(outside + inside for outside, inside in trips))
    stays = []
    for outside, inside in trips:
        entry = day + dt.timedelta(days=outside + 1)
        day = entry + dt.timedelta(days=inside - 1)
        stays.append(Stay(entry, day))
    return stays


def _bench(args: argparse.Namespace) -> int:
    if args.stays < 1 or args.repeat < 1:
        print("limes bench stay: --stays and --repeat must be at least 1", file=sys.stderr)
        return 2
    stays = history(args.stays)
    answer = authorise(stays, ON)
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        authorise(stays, ON)
        timings.append((time.perf_counter() - started) * 1000)
    result = {"stays": len(stays), "crossings": 2 * len(stays), "on": ON.isoformat(), "repeat": args.repeat,
              "answer": answer.as_dict(), "authorise_ms": summary(timings), "target_ms_p95": TARGET_MS_P95,
              "machine": machine.describe(), "load_average": machine.load_average()}
    result["meets_target"] = result["authorise_ms"]["p95"] <= TARGET_MS_P95
    if args.central:
        result["central"] = _central(stays, args.repeat)
        result["meets_target"] = result["meets_target"] and result["central"]["check_stay_ms"]["p95"] <= TARGET_MS_P95
    emit(result, args.json, _render)
    return 0


def _central(stays: list[Stay], repeat: int) -> dict:
    """Record the stays' crossings at central, each timed, then time CheckStay's work `repeat` times."""
    import tempfile
    import uuid
    from pathlib import Path

    from central.access.audit import Caller
    from central.database import models as m
    from central.database.engine import Database
    from central.records import gate_calls, national_stay
    from central.records import stays as stay_records
    from central.risk.rules import RiskRules
    from central.stays.regime import StayRules
    from drivers.alertmatch.normalize import name_key

    rules, stay_rules, caller = RiskRules.load(), StayRules(), Caller(station="BENCH-G01")
    born = dt.date(1980, 1, 1)

    def crossing(direction: m.Direction, day: dt.date) -> gate_calls.NewCrossing:
        return gate_calls.NewCrossing(
            crossing_id=str(uuid.uuid4()), station="BENCH-G01", border_point="BENCH-PORT", direction=direction,
            occurred_at=dt.datetime.combine(day, dt.time(10), dt.timezone.utc),
            document=gate_calls.DocumentData("B1234567", "P", "UTO", None),
            traveller=gate_calls.TravellerData("FREQUENT", "FLYER", "UTO", "F", born),
            decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=None)
    with tempfile.TemporaryDirectory(prefix="limes-stay-bench-") as scratch:
        database = Database(f"sqlite:///{Path(scratch) / 'central.sqlite'}")
        database.migrate()
        recording = []
        for stay in stays:
            for direction, day in ((m.Direction.ENTRY, stay.entry), (m.Direction.EXIT, stay.exit)):
                new = crossing(direction, day)
                started = time.perf_counter()
                database.write(lambda c, new=new: gate_calls.record_crossing(c, caller, new, rules,
                                                                             stay_rules=stay_rules))
                recording.append((time.perf_counter() - started) * 1000)
        key = name_key("FREQUENT", "FLYER")

        question = stay_records.StayQuestion("UTO", "B1234567", "P", key, born, "UTO")

        def check_stay(connection):
            return national_stay.authorised_nationally(connection, stay_rules, question, ON).allowance
        answer = database.read(check_stay)
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            database.read(check_stay)
            timings.append((time.perf_counter() - started) * 1000)
        database.dispose()
    return {"database": "sqlite (temporary file)", "record_crossing_ms": summary(recording),
            "check_stay_ms": summary(timings), "answer": answer.as_dict()}


def _render(result: dict) -> str:
    timings = result["authorise_ms"]
    central = result.get("central")
    if central:
        return (f"{result['stays']} stays ({result['crossings']} crossings) checked on {result['on']}: the rule p95 "
                f"{timings['p95']} ms; at central, recording each crossing p50 {central['record_crossing_ms']['p50']}"
                f" ms, p95 {central['record_crossing_ms']['p95']} ms; CheckStay's work p50 "
                f"{central['check_stay_ms']['p50']} ms, p95 {central['check_stay_ms']['p95']} ms (target p95 <= "
                f"{result['target_ms_p95']} ms: {'met' if result['meets_target'] else 'NOT met'})")
    return (f"{result['stays']} stays ({result['crossings']} crossings) checked on {result['on']}, "
            f"{result['repeat']} times: p50 {timings['p50']} ms, p95 {timings['p95']} ms, p99 {timings['p99']} ms "
            f"(target p95 <= {result['target_ms_p95']} ms: {'met' if result['meets_target'] else 'NOT met'})")
