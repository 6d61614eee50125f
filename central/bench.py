"""`limes bench central`: latency and throughput of the gate-facing calls over gRPC.

A server on loopback over a fresh database holds synthetic alerts; concurrent
clients then send CheckDocument (half on alerted numbers, some misread),
CheckPerson and RecordCrossing, as gates do. Reported per call: p50/p95/p99
latency, calls per second, and whether every planted alert was found.
"""
from __future__ import annotations

import datetime as dt
import random
import statistics
import string
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import grpc

from central import models as m
from central.db import Database
from central.service import Caller, NewDocumentAlert, NewPersonAlert, add_document_alert, add_person_alert
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc

_OCR_MISREAD = str.maketrans("0125", "OIZS")


@dataclass(frozen=True)
class Planted:
    number: str
    surname: str
    given_names: str
    birth_date: str


def _plant_alerts(database: Database, count: int, rng: random.Random) -> list[Planted]:
    planted = []
    for i in range(count):
        number = "".join(rng.choices(string.ascii_uppercase + string.digits, k=9))
        surname = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(4, 10)))
        given = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 8)))
        birth = f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        planted.append(Planted(number, surname, given, birth))
    caller = Caller(station="bench", user="bench", purpose="benchmark")

    def load(session) -> None:
        for p in planted:
            add_document_alert(session, caller, NewDocumentAlert(
                "", p.number, "P", "UTO", m.DocumentAlertReason.STOLEN, "", "bench", None, None))
            add_person_alert(session, caller, NewPersonAlert(
                "", p.surname, p.given_names, dt.date.fromisoformat(p.birth_date), "UTO",
                m.PersonAlertReason.DISCREET_CHECK, "", "bench", None, None, ""))
    database.run(load)
    return planted


def _timed(calls: list[Callable[[], bool]], concurrency: int) -> dict:
    latencies: list[float] = []

    def run(call: Callable[[], bool]) -> bool:
        start = time.perf_counter()
        ok = call()
        latencies.append((time.perf_counter() - start) * 1000)
        return ok

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(run, calls))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"calls": len(calls), "expected_results": sum(results) / len(results) if results else 1.0,
            "p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2), "p99_ms": round(cuts[98], 2),
            "per_second": round(len(calls) / elapsed, 1)}


def run(alerts: int, queries: int, concurrency: int, seed: int = 0, database_url: str | None = None) -> dict:
    """Run the benchmark; `expected_results` is the share of calls that answered as planted (1.0 = all)."""
    from central.server import serve

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="limes-central-bench-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'central.sqlite'}"
        from central.access import AccessPolicy, Kind, Role

        # The bench station is a registered gate: the role check is part of what is measured.
        server, port = serve("127.0.0.1:0", url, plaintext=True, max_workers=max(8, concurrency),
                             access=AccessPolicy(bootstrap={(Kind.STATION, "BENCH-G1"): (Role.GATE,)}))
        database = Database(url)
        try:
            load_start = time.perf_counter()
            planted = _plant_alerts(database, alerts, rng)
            load_s = time.perf_counter() - load_start
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            stub = central_pb2_grpc.CentralStub(channel)
            metadata = (("x-limes-station", "BENCH-G1"), ("x-limes-user", "bench"))
            samples = [rng.choice(planted) for _ in range(queries)]

            def document_call(p: Planted, alerted: bool, misread: bool) -> Callable[[], bool]:
                # Not alerted: another first letter (Q and W fold onto nothing in the OCR key).
                number = p.number if alerted else ("W" if p.number[0] == "Q" else "Q") + p.number[1:]
                number = number.translate(_OCR_MISREAD) if misread else number

                def call() -> bool:
                    hits = stub.CheckDocument(pb.CheckDocumentRequest(document_number=number, issuing_state="UTO"),
                                              metadata=metadata, timeout=10).hits
                    # A never-alerted number may still fold onto some alert: only planted hits are asserted.
                    return any(h.document_number == p.number for h in hits) == alerted
                return call

            def person_call(p: Planted) -> Callable[[], bool]:
                def call() -> bool:
                    hits = stub.CheckPerson(pb.CheckPersonRequest(
                        surname=p.given_names, given_names=p.surname, birth_date=p.birth_date),  # order swapped
                        metadata=metadata, timeout=10).hits
                    return any(h.surname == p.surname for h in hits)
                return call

            def crossing_call(p: Planted) -> Callable[[], bool]:
                request = pb.RecordCrossingRequest(
                    crossing_id=str(uuid.uuid4()), station_id="BENCH-G1", border_point="BENCH",
                    direction=pb.Crossing.ENTRY, occurred_at="2026-11-25T08:00:00Z",
                    document=pb.TravelDocument(number=p.number, type="P", issuing_state="UTO"),
                    traveller=pb.Traveller(surname=p.surname, given_names=p.given_names, birth_date=p.birth_date),
                    decision=pb.Crossing.OPEN)

                def call() -> bool:
                    return not stub.RecordCrossing(request, metadata=metadata, timeout=10).already_recorded
                return call

            result = {
                "alerts": alerts, "queries": queries, "concurrency": concurrency,
                "database": "sqlite" if url.startswith("sqlite") else url.split(":", 1)[0],
                "alert_load_s": round(load_s, 2),
                "check_document": _timed([document_call(p, i % 2 == 0, i % 4 == 0) for i, p in enumerate(samples)],
                                         concurrency),
                "check_person": _timed([person_call(p) for p in samples], concurrency),
                "record_crossing": _timed([crossing_call(p) for p in samples], concurrency),
            }
            channel.close()
            return result
        finally:
            database.dispose()
            server.stop(None)


def render(result: dict) -> str:
    lines = [f"central: {result['alerts']} document + {result['alerts']} person alerts "
             f"(loaded in {result['alert_load_s']} s), {result['queries']} calls each, "
             f"{result['concurrency']} clients, {result['database']}"]
    for name in ("check_document", "check_person", "record_crossing"):
        r = result[name]
        lines.append(f"  {name:16} p50 {r['p50_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                     f"{r['per_second']:7.1f}/s  as planted {r['expected_results']:.3f}")
    return "\n".join(lines)
