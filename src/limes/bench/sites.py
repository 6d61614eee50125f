"""`limes bench sites`: a border post's crossings reaching headquarters over logical replication (docs/SITES.md).

On a stand of two local PostgreSQL clusters (headquarters and one post, fsync on): N crossings recorded
at the post, each in its own transaction as its gates' are; then how long after the last commit
headquarters has them all. Then headquarters is stopped, N more are recorded, the WAL the post retains
for it is read, and the time from headquarters' restart to having them all is the catch-up time.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from common import machine
from common.output import add_json_flag, emit


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = ("Replication of crossings from a border post to headquarters on two local PostgreSQL "
                         "clusters: delay after the last commit, and catch-up after headquarters was down.")
    bench.add_argument("--crossings", type=int, default=2000, help="crossings per phase (default 2000)")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def _record(url: str, count: int, first_minute: int) -> float:
    """`count` crossings at the post, each its own transaction; returns the seconds it took."""
    from central.access.audit import Caller
    from central.database import models as m
    from central.database.engine import Database
    from central.records.gate_calls import DocumentData, NewCrossing, TravellerData, record_crossing
    from central.risk.rules import RiskRules

    database, rules, gate = Database(url), RiskRules.load(), Caller(station="bench", purpose="bench sites")
    start = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    began = time.perf_counter()
    try:
        for n in range(count):
            new = NewCrossing(
                crossing_id=str(uuid.uuid4()), station="POST_A-G1", border_point="POST_A", direction=m.Direction.ENTRY,
                occurred_at=start + dt.timedelta(minutes=first_minute + n),
                document=DocumentData(f"B{first_minute + n:08d}", "P", "D", dt.date(2031, 1, 1)),
                traveller=TravellerData("ROE", "JANE", "DEU", "F", dt.date(1980, 1, 1)),
                decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=0.9)
            database.write(lambda connection, new=new: record_crossing(connection, gate, new, rules))
    finally:
        database.dispose()
    return time.perf_counter() - began


def _until_count(url: str, expected: int, timeout_s: float = 600.0) -> float:
    engine = create_engine(url)
    began = time.perf_counter()
    try:
        while True:
            with engine.connect() as connection:
                if connection.scalar(text("SELECT count(*) FROM crossings")) >= expected:
                    return time.perf_counter() - began
            if time.perf_counter() - began > timeout_s:
                raise TimeoutError(f"headquarters did not reach {expected} crossings in {timeout_s:.0f} s")
            time.sleep(0.01)
    finally:
        engine.dispose()


def _bench(args: argparse.Namespace) -> int:
    from central.sites.clusters import ClusterError, build_stand
    from central.sites.monitoring import read_state
    from central.sites.replication import Post

    if args.crossings < 1:
        print("limes bench sites: --crossings must be at least 1", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="limes-bench-sites-"))
    folder.chmod(0o755)  # the clusters run as postgres when this runs as root
    try:
        began = time.perf_counter()
        stand = build_stand(folder / "stand", [Post("post_a")], fsync=True)
        stand_s = time.perf_counter() - began
    except ClusterError as error:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"limes bench sites: {error}", file=sys.stderr)
        return 1
    try:
        post, hq, n = stand.post("post_a"), stand.hq, args.crossings
        online_s = _record(post.url, n, 0)
        delay_s = _until_count(hq.url, n)
        hq.stop()
        offline_s = _record(post.url, n, n)
        engine = create_engine(post.url)
        slot = {s.name: s for s in read_state(engine).slots}["hq_from_post_a"]
        engine.dispose()
        began = time.perf_counter()
        hq.start()
        restart_s = time.perf_counter() - began
        catch_up_s = _until_count(hq.url, 2 * n)
    finally:
        stand.remove()
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "crossings_per_phase": n, "stand_up_s": round(stand_s, 2),
        "online": {"record_s": round(online_s, 2), "crossings_per_s": round(n / online_s, 1),
                   "at_hq_after_last_commit_s": round(delay_s, 3)},
        "offline": {"record_s": round(offline_s, 2), "retained_wal_bytes": slot.retained_wal_bytes,
                    "hq_restart_s": round(restart_s, 2), "catch_up_after_restart_s": round(catch_up_s, 3)},
        "fsync": True, "machine": machine.describe(), "load_average": machine.load_average()}
    emit(result, args.json, _render)
    return 0


def _render(result: dict) -> str:
    online, offline = result["online"], result["offline"]
    return "\n".join([
        f"{result['crossings_per_phase']} crossings per phase, stand up in {result['stand_up_s']} s",
        f"online:  recorded at {online['crossings_per_s']}/s, all at headquarters "
        f"{online['at_hq_after_last_commit_s']} s after the last commit",
        f"offline: {offline['retained_wal_bytes']} B of WAL kept for headquarters; after its restart "
        f"({offline['hq_restart_s']} s) caught up in {offline['catch_up_after_restart_s']} s"])
