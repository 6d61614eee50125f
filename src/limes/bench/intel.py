"""`limes bench intel`: co-travel groups found among N synthetic crossings with planted rings (recall,
precision, time to build), one person's network query and the trend dashboard's queries (p95)."""
from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import event

from central.access.audit import Caller
from central.database.bulk import indexes_deferred
from central.database.engine import Database
from central.intelligence import clearance, cotravel, trends, weekly_counts
from central.intelligence.network import CoTravelQuery, person_network
from common import machine
from common.output import add_json_flag, emit
from limes.bench.summary import summary
from limes.synthetic_crossings import DIRECTIONS, POINTS, Loaded, load, world

TARGETS = {"group_recall": 0.95, "group_precision": 0.95, "groups_built_s": 60.0, "network_ms_p95": 200.0,
           "dashboard_ms_p95": 1000.0}
WINDOW, MIN_TOGETHER = dt.timedelta(minutes=10), 3
CALLER = Caller("bench", "bench")
BULK_TABLES = ("crossings", "travel_documents", "travellers")
DASHBOARD_ROUNDS = 5  # each of the four dashboard queries (by border point, route, nationality, document type)


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = ("Plant co-travelling rings among N synthetic crossings; time building the co-travel groups "
                         "and report their recall and precision; time one person's network query and the trend "
                         "dashboard's queries on a SQLite file holding them. Targets (at 10M crossings): "
                         + ", ".join(f"{k} {v}" for k, v in TARGETS.items()))
    bench.add_argument("--crossings", type=int, default=100_000, help="synthetic crossings (default 100,000)")
    bench.add_argument("--groups", type=int, default=50, help="planted rings (default 50)")
    bench.add_argument("--queries", type=int, default=50, help="network queries timed (default 50)")
    bench.add_argument("--groups-only", action="store_true",
                       help="only build the co-travel groups (no database: what fits when loading N would not)")
    bench.add_argument("--database", metavar="URL", default=None,
                       help="where to load them (default: a temporary SQLite file, removed after)")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def score(found: list[set[int]], planted: list[set[int]]) -> tuple[float, float]:
    """(recall, precision): a planted ring is found when a found group has at least 80% of it and is at
    most a quarter bigger (a ring merged with strangers is not the ring)."""
    def same(group: set[int], ring: set[int]) -> bool:
        return len(group & ring) >= 0.8 * len(ring) and len(group) <= 1.25 * len(ring)
    recall = sum(any(same(g, ring) for g in found) for ring in planted) / len(planted) if planted else 1.0
    precision = sum(any(same(g, ring) for ring in planted) for g in found) / len(found) if found else 1.0
    return round(recall, 4), round(precision, 4)


def _bench(args: argparse.Namespace) -> int:
    if args.crossings < 1000 or args.groups < 1 or args.queries < 1:
        print("limes bench intel: --crossings at least 1000, --groups and --queries at least 1", file=sys.stderr)
        return 2
    data = world(args.crossings, args.groups)
    labels = [f"{point} {direction.value}" for point in POINTS for direction in DIRECTIONS]
    passages = cotravel.Passages(np.arange(len(data)), data.traveller, data.point.astype(np.int64) * len(DIRECTIONS)
                                 + data.direction, data.at, labels)
    started, cpu_started = time.perf_counter(), time.process_time()
    found = cotravel.groups(cotravel.co_travellers_columns(passages, WINDOW, MIN_TOGETHER))
    built_s, built_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    del passages
    recall, precision = score(found, data.groups)
    result = {"crossings": len(data), "planted_groups": len(data.groups), "found_groups": len(found),
              "group_recall": recall, "group_precision": precision, "groups_built_s": round(built_s, 3),
              # CPU seconds too: on a shared machine the wall clock also counts the waits for a core.
              "groups_built_cpu_s": round(built_cpu_s, 3)}
    if not args.groups_only:
        result.update(_database_part(args, data))
    result.update({"max_rss_mb": peak_memory_mb(), "window_min": WINDOW.total_seconds() / 60,
                   "min_together": MIN_TOGETHER, "targets": TARGETS, "machine": machine.describe(),
                   "load_average": machine.load_average()})
    result["meets_targets"] = (recall >= TARGETS["group_recall"] and precision >= TARGETS["group_precision"]
                               and built_s <= TARGETS["groups_built_s"] and not args.groups_only
                               and result["network_ms"]["p95"] <= TARGETS["network_ms_p95"]
                               and result["dashboard_ms"]["p95"] <= TARGETS["dashboard_ms_p95"])
    emit(result, args.json, _render)
    return 0


def _database_part(args: argparse.Namespace, data) -> dict:
    """Load the crossings, count the trends, time the queries (wall and CPU milliseconds)."""
    with tempfile.TemporaryDirectory() as folder:
        database = Database(args.database or f"sqlite:///{Path(folder) / 'central.sqlite'}")
        database.migrate()
        started, cpu_started = time.perf_counter(), time.process_time()
        ids = _load(database, data)
        load_s, load_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
        until = dt.datetime.fromtimestamp(int(data.at[-1]), dt.timezone.utc) + dt.timedelta(minutes=1)
        started, cpu_started = time.perf_counter(), time.process_time()
        database.run(lambda s: weekly_counts.refresh(s, CALLER, until))
        counted_s, counted_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
        timings = _queries(database, data, ids, args.queries, until)
        database.dispose()
    return {"load_s": round(load_s, 1), "load_cpu_s": round(load_cpu_s, 1), "trend_counts_s": round(counted_s, 1),
            "trend_counts_cpu_s": round(counted_cpu_s, 1),
            **{name: summary(values) for name, values in timings.items()}}


def _load(database: Database, data) -> dict[int, int]:
    """The world into central's tables in one transaction, the tables' secondary indexes built after the
    rows (central.database.bulk: the path a real import takes); SQLite told to keep up to 1 GB of pages
    in memory (the load is one transaction: the product's synchronous=FULL costs a few fsyncs at commit)."""
    if database.engine.dialect.name == "sqlite":
        @event.listens_for(database.engine, "connect")
        def _bigger_cache(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA cache_size=-1000000")
        database.engine.dispose()  # the pooled connections were made without

    def bulk_load(session) -> Loaded:
        with indexes_deferred(session.connection(), BULK_TABLES):
            return load(session, data)
    return database.run(bulk_load, attempts=1).travellers


def peak_memory_mb() -> float:
    """This process's peak resident memory."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _queries(database: Database, data, ids: dict[int, int], count: int, until: dt.datetime
             ) -> dict[str, list[float]]:
    rng = random.Random(7)
    members = [ids[t] for ring in data.groups for t in ring] or list(ids.values())
    timings: dict[str, list[float]] = {"network_ms": [], "network_cpu_ms": [], "dashboard_ms": [],
                                       "dashboard_cpu_ms": []}

    def timed(name: str, work) -> None:
        started, cpu_started = time.perf_counter(), time.process_time()
        database.run(work)
        timings[f"{name}_ms"].append((time.perf_counter() - started) * 1000)
        timings[f"{name}_cpu_ms"].append((time.process_time() - cpu_started) * 1000)
    for _ in range(count):
        person = rng.choice(members + rng.sample(list(ids.values()), min(len(ids), len(members))))
        timed("network", lambda s: person_network(s, CALLER, clearance.Reader("bench", None), person,
                                                  CoTravelQuery(min_together=MIN_TOGETHER), until))
    for dimension in [*trends.DIMENSIONS] * DASHBOARD_ROUNDS:
        timed("dashboard", lambda s: trends.weekly(s, CALLER, dimension, until.date(), 26, until.date()))
    return timings


def _render(r: dict) -> str:
    lines = [f"{r['crossings']:,} crossings, {r['planted_groups']} planted rings: {r['found_groups']} groups found "
             f"in {r['groups_built_s']} s ({r['groups_built_cpu_s']} s of CPU), recall {r['group_recall']}, "
             f"precision {r['group_precision']}; peak memory {r['max_rss_mb']} MB"]
    if "network_ms" in r:
        lines.append(f"network query p95 {r['network_ms']['p95']} ms ({r['network_cpu_ms']['p95']} ms of CPU); "
                     f"trend dashboard p95 {r['dashboard_ms']['p95']} ms ({r['dashboard_cpu_ms']['p95']} ms of CPU); "
                     f"loaded in {r['load_s']} s ({r['load_cpu_s']} s of CPU), weekly trend counts in "
                     f"{r['trend_counts_s']} s ({r['trend_counts_cpu_s']} s of CPU)")
    lines.append(f"targets {'met' if r['meets_targets'] else 'NOT met'} (targets are for 10M crossings)")
    return "\n".join(lines)
