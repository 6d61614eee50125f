"""`limes bench stay`: the authorised-stay rule for one traveller with a long record of crossings."""
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
    emit(result, args.json, _render)
    return 0


def _render(result: dict) -> str:
    timings = result["authorise_ms"]
    return (f"{result['stays']} stays ({result['crossings']} crossings) checked on {result['on']}, "
            f"{result['repeat']} times: p50 {timings['p50']} ms, p95 {timings['p95']} ms, p99 {timings['p99']} ms "
            f"(target p95 <= {result['target_ms_p95']} ms: {'met' if result['meets_target'] else 'NOT met'})")
