"""`limes bench central`: crossings recorded per second with 16 concurrent gates.

What one simulated gate does per traveller is what an e-gate does at central
(edge.gate): CheckDocument (the document alert list) and CheckPerson (the
person alert list, fuzzy) at once, then RecordCrossing (stored with the risk
rules applied and the traveller's stays kept, central.records.stays), over its own
channel, under its own station certificate (mutual TLS, unless --plaintext); with
--check-stay an entry also asks CheckStay beside the two checks, as an entry gate does.
The gates run as asyncio tasks in a few client processes, so
that they do not share the server's interpreter; on a small machine they
share its cores, which the report says (load average, cores).

The server runs in this process (and `server_processes - 1` more on the same
port, central.rpc.processes) over a fresh database (a temporary SQLite file, or
an EMPTY scratch database given by URL) holding synthetic alerts.
Some travellers carry an alerted document or are on the person list; every
answer is checked (`expected_results`, 1.0 = every planted alert found, no
planted alert reported for a clean traveller).

Reported: crossings per second over the measured window (after a warm-up),
and p50/p95/p99 latency of the whole gate transaction and of each call.
"""
from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import string
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from common import machine
from common.output import add_json_flag, emit
from limes.bench.summary import summary

CALLS = ("check_document", "check_person", "record_crossing")
BORDER_POINT = "BENCH-PORT"
# What a gate reports with every crossing: the checks of a full e-gate transaction.
CHECK_NAMES = ("mrz.valid", "document.expiry", "chip.read", "sod.signature", "dsc.chain", "dg1.hash", "dg2.hash",
               "dg1.matches_mrz", "face.capture", "face.liveness", "face.verification", "alerts.document",
               "alerts.person", "watchlist.face")


class BenchError(RuntimeError):
    """A gate's call failed: the run measured nothing trustworthy."""


@dataclass(frozen=True)
class Traveller:
    number: str
    surname: str
    given_names: str
    birth_date: str
    nationality: str
    sex: str
    expiry: str
    document_alert: bool  # the document is on the alert list
    person_alert: bool    # the holder is on the person list


def _person(rng: random.Random, first_letters: str) -> Traveller:
    def name(low: int, high: int) -> str:
        return "".join(rng.choices(string.ascii_uppercase, k=rng.randint(low, high)))
    birth = dt.date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
    return Traveller(rng.choice(first_letters) + "".join(rng.choices(string.ascii_uppercase + string.digits, k=8)),
                     name(4, 10), name(3, 8), birth.isoformat(), rng.choice(("UTO", "DEU", "FRA")), rng.choice("MF"),
                     f"{rng.randint(2027, 2034)}-{rng.randint(1, 12):02d}-15", False, False)


def population(seed: int, alerts: int, travellers: int) -> tuple[list[Traveller], list[Traveller]]:
    """(the people and documents on the alert lists, the travellers): the same in every process.

    Every 20th traveller travels on an alerted document (issuing state and
    number of a document alert), every 25th is a person on the alert list
    (names, birth date, nationality); the others are clean. Alerted numbers
    start with A-H, clean ones with Q or W, which no OCR folding turns into
    one another, so a clean document cannot hit by a near miss.
    """
    rng = random.Random(seed)
    alerted = [_person(rng, "ABCDEFGH") for _ in range(alerts)]
    crowd = []
    for i in range(travellers):
        traveller = _person(rng, "QW")
        if i % 20 == 0:
            on_list = rng.choice(alerted)
            traveller = replace(traveller, number=on_list.number, nationality=on_list.nationality,
                                document_alert=True)
        elif i % 25 == 0:
            on_list = rng.choice(alerted)
            traveller = replace(traveller, surname=on_list.surname, given_names=on_list.given_names,
                                birth_date=on_list.birth_date, nationality=on_list.nationality, person_alert=True)
        crowd.append(traveller)
    return alerted, crowd


def _plant(url: str, alerted: list[Traveller]) -> float:
    """Alerts straight into the database (as many rows as a national list), in one transaction; seconds taken."""
    from sqlalchemy import insert, update

    from central.database import models as m
    from central.database.engine import Database
    from drivers.alertmatch.normalize import document_number, ocr_key

    started = time.perf_counter()
    now = m.utcnow()
    database = Database(url)
    try:
        def load(session) -> None:
            documents = [dict(alert_id=str(uuid.uuid4()), number=p.number, number_norm=document_number(p.number),
                              number_ocr_key=ocr_key(p.number), doc_type="P", issuing_state=p.nationality,
                              reason=m.DocumentAlertReason.STOLEN, handling_instruction="", issuing_agency="bench",
                              valid_from=None, valid_to=None, version=i + 1, withdrawn=False, created_at=now)
                         for i, p in enumerate(alerted)]
            persons = [dict(alert_id=str(uuid.uuid4()), surname=p.surname, given_names=p.given_names,
                            birth_date=dt.date.fromisoformat(p.birth_date), nationality=p.nationality,
                            reason=m.PersonAlertReason.DISCREET_CHECK, handling_instruction="", issuing_agency="bench",
                            valid_from=None, valid_to=None, matcher_subject_id="", version=len(alerted) + i + 1,
                            withdrawn=False, created_at=now) for i, p in enumerate(alerted)]
            session.execute(insert(m.DocumentAlert), documents)
            session.execute(insert(m.PersonAlert), persons)
            session.execute(update(m.AlertVersion).where(m.AlertVersion.id == 1).values(value=2 * len(alerted)))
        database.migrate()
        database.run(load)
    finally:
        database.dispose()
    return time.perf_counter() - started


# ---------------------------------------------------------------- the gates (client processes)

@dataclass(frozen=True)
class GatePlan:
    address: str
    stations: tuple[str, ...]
    tls_dir: str | None  # dev-certs folder; None: plaintext
    seed: int
    alerts: int
    travellers: int
    warmup_s: float
    seconds: float
    # Instead of travellers: empty calls (Health.Check) over the same channels, to show what gRPC
    # and TLS alone cost per call on this machine.
    empty_calls: bool = False
    # Ask CheckStay before an entry, beside the two alert checks, as an entry gate does (edge.gate).
    check_stay: bool = False


def _gate_process(plan: GatePlan, ready, results) -> None:
    """One client process: an asyncio task per station, each a gate sending one traveller after another.

    The gates share the process's event loop (grpc.aio, a channel each): the
    same calls, checked the same way, for about a fifth less client CPU per
    call than a thread per gate with the blocking stubs. Every gate connects
    and sends a first traveller; then all processes start the clock together
    (`ready`), and each gate counts the transactions that begin after the
    warm-up and end within the measured window. A failed call stops its gate
    and is reported.
    """
    import asyncio

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from proto.limes.v1 import central_pb2 as pb
    from proto.limes.v1 import central_pb2_grpc, common_pb2
    from proto.tls import TlsFiles

    _, crowd = population(plan.seed, plan.alerts, plan.travellers)
    window: list[float] = []
    errors: list[str] = []
    checks = [common_pb2.Check(name=name, status=common_pb2.Check.PASS) for name in CHECK_NAMES]

    def channel_of(station: str) -> grpc.aio.Channel:
        if plan.tls_dir is None:
            return grpc.aio.insecure_channel(plan.address)
        folder = Path(plan.tls_dir)
        tls = TlsFiles(folder / "ca.pem", folder / f"station-{station}.pem", folder / f"station-{station}.key")
        return grpc.aio.secure_channel(plan.address, tls.channel_credentials())

    async def gate(station: str, out: list, connected: asyncio.Queue, started: asyncio.Event) -> None:
        rng = random.Random(f"{plan.seed}-{station}")
        metadata = (("x-limes-station", station),)  # repeats the certificate; the identity in plaintext

        async def empty_call(_: Traveller) -> tuple[list[float], float, float, bool]:
            began = time.perf_counter()
            await health.Check(health_pb2.HealthCheckRequest(), timeout=30)
            ended = time.perf_counter()
            return [1000 * (ended - began)], began, ended, True

        async def answer(call, name: str, answered: dict):
            response = await call
            answered[name] = time.perf_counter()
            return response

        async def transaction(t: Traveller) -> tuple[list[float], float, float, bool]:
            """([document check, person check, record, whole] in ms, start, end, answered as planted)."""
            began = time.perf_counter()
            answered: dict[str, float] = {}
            direction = rng.choice((pb.Crossing.ENTRY, pb.Crossing.EXIT))
            stay = None
            if plan.check_stay and direction == pb.Crossing.ENTRY:
                stay = asyncio.ensure_future(stub.CheckStay(pb.CheckStayRequest(
                    document=pb.TravelDocument(number=t.number, type="P", issuing_state=t.nationality),
                    traveller=pb.Traveller(surname=t.surname, given_names=t.given_names, nationality=t.nationality,
                                           birth_date=t.birth_date)), metadata=metadata, timeout=30))
            # Both checks at once (and the stay's, at an entry), as edge.gate asks them, then the record.
            document, person = await asyncio.gather(
                answer(stub.CheckDocument(pb.CheckDocumentRequest(
                    document_number=t.number, document_type="P", issuing_state=t.nationality),
                    metadata=metadata, timeout=30), "document", answered),
                answer(stub.CheckPerson(pb.CheckPersonRequest(
                    surname=t.surname, given_names=t.given_names, birth_date=t.birth_date, nationality=t.nationality),
                    metadata=metadata, timeout=30), "person", answered))
            if stay is not None:
                await stay
            checked = time.perf_counter()
            hit = bool(document.hits or person.hits)
            crossing = await stub.RecordCrossing(pb.RecordCrossingRequest(
                crossing_id=str(uuid.uuid4()), station_id=station, border_point=BORDER_POINT,
                direction=direction,
                occurred_at=dt.datetime.now(dt.timezone.utc).isoformat(),
                document=pb.TravelDocument(number=t.number, type="P", issuing_state=t.nationality,
                                           expiry_date=t.expiry),
                traveller=pb.Traveller(surname=t.surname, given_names=t.given_names, nationality=t.nationality,
                                       sex=t.sex, birth_date=t.birth_date),
                decision=pb.Crossing.REFER if hit else pb.Crossing.OPEN,
                reasons=["alert hit"] if hit else ["all checks passed"], checks=checks, face_score=0.91),
                metadata=metadata, timeout=30)
            ended = time.perf_counter()
            found_document = any(h.document_number == t.number for h in document.hits)
            found_person = any((h.surname, h.birth_date) == (t.surname, t.birth_date) for h in person.hits)
            as_planted = (found_document == t.document_alert and found_person == t.person_alert
                          and not crossing.already_recorded)
            spans = [answered["document"] - began, answered["person"] - began, ended - checked, ended - began]
            return [1000 * span for span in spans], began, ended, as_planted

        channel = None
        try:
            channel = channel_of(station)
            stub, health = central_pb2_grpc.CentralStub(channel), health_pb2_grpc.HealthStub(channel)
            one = empty_call if plan.empty_calls else transaction
            try:
                await one(rng.choice(crowd))  # the handshake and a first call, before the clock runs
            finally:
                connected.put_nowait(station)
            await started.wait()
            begin, end = window
            while True:
                spans, began, ended, ok = await one(rng.choice(crowd))
                if began >= end:
                    break
                if began >= begin and ended <= end:
                    out.append((spans, ok))
        except Exception as exc:  # reported to the parent, which fails the run
            errors.append(f"{station}: {type(exc).__name__}: {exc}")
            if channel is None:
                connected.put_nowait(station)
        finally:
            if channel is not None:
                await channel.close()

    async def gates() -> tuple[list, float]:
        loop = asyncio.get_running_loop()
        connected, started = asyncio.Queue(), asyncio.Event()
        outputs: list[list] = [[] for _ in plan.stations]
        tasks = [asyncio.create_task(gate(station, out, connected, started))
                 for station, out in zip(plan.stations, outputs)]
        for _ in plan.stations:
            await connected.get()
        await loop.run_in_executor(None, ready.wait)  # every gate of every process has connected
        now = time.perf_counter()
        window[:] = [now + plan.warmup_s, now + plan.warmup_s + plan.seconds]
        started.set()
        cpu = loop.run_in_executor(None, _cpu_in_window, window, time.process_time)
        await asyncio.gather(*tasks)
        return [row for out in outputs for row in out], await cpu

    rows, cpu = asyncio.run(gates())
    results.put((rows, errors, cpu))


# ---------------------------------------------------------------- the run

def run(gates: int = 16, seconds: float = 20.0, warmup_s: float = 3.0, alerts: int = 10_000,
        travellers: int = 20_000, client_processes: int = 2, database_url: str | None = None,
        plaintext: bool = False, server_workers: int | None = None, server_processes: int = 1, seed: int = 0,
        grpc_floor: bool = False, check_stay: bool = False) -> dict:
    """Run the benchmark and return its report (see render).

    With `grpc_floor`, a first phase of empty calls (Health.Check) over the same
    channels measures what gRPC and TLS alone cost per call on this machine.
    """
    from central.access.roles import AccessPolicy, Kind, Role
    from central.rpc.processes import serve_processes
    from proto.dev_pki import dev_certs

    stations = tuple(f"BENCH-G{i:02d}" for i in range(1, gates + 1))
    client_processes = max(1, min(client_processes, gates))
    with tempfile.TemporaryDirectory(prefix="limes-central-bench-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'central.sqlite'}"
        alerted, _ = population(seed, alerts, travellers)
        load_s = _plant(url, alerted)
        tls_dir = None if plaintext else Path(scratch) / "pki"
        tls = None if plaintext else dev_certs(tls_dir, stations=stations, users=()).server
        workers = server_workers or gates
        server, port = serve_processes(
            server_processes, "127.0.0.1:0", url, tls=tls, plaintext=plaintext, max_workers=workers,
            access=AccessPolicy(bootstrap={(Kind.STATION, s): (Role.GATE,) for s in stations}))
        read_server_cpu = _server_cpu(server.pids)

        def plans(phase_seconds: float, phase_warmup_s: float, empty_calls: bool) -> list[GatePlan]:
            return [GatePlan(f"127.0.0.1:{port}", stations[i::client_processes],
                             None if tls_dir is None else str(tls_dir), seed, alerts, travellers, phase_warmup_s,
                             phase_seconds, empty_calls, check_stay) for i in range(client_processes)]
        try:
            floor = None
            if grpc_floor:
                floor = _phase(plans(min(5.0, seconds), 1.0, True), read_server_cpu)
            load_before = machine.load_average()
            commits_before = (_sample("limes_central_group_commits_total"),
                              _sample("limes_central_group_commit_writes_total"))
            rows, server_cpu, gates_cpu = _phase(plans(seconds, warmup_s, False), read_server_cpu)
            commits = _sample("limes_central_group_commits_total") - commits_before[0]
            writes = _sample("limes_central_group_commit_writes_total") - commits_before[1]
            load_after = machine.load_average()
        finally:
            server.stop(None).wait()

    totals = [spans[-1] for spans, _ in rows]
    server_s, database_s, (machine_busy_s, machine_all_s) = server_cpu

    def per(count: int, cpu_s: float) -> float:
        return round(1000 * cpu_s / count, 3) if count else 0.0
    result = {
        "target": "crossings per second, each = CheckDocument + CheckPerson + RecordCrossing (risk rules, the "
                  "traveller's stays kept)" + (" + CheckStay at entries" if check_stay else ""),
        "check_stay": check_stay,
        "database": "sqlite" if url.startswith("sqlite") else url.split(":", 1)[0],
        "transport": "plaintext" if plaintext else "mutual TLS",
        "gates": gates, "client_processes": client_processes, "server_processes": server_processes,
        "server_workers": workers,
        "alerts": alerts, "travellers": travellers, "alert_load_s": round(load_s, 2),
        "seconds": seconds, "warmup_s": warmup_s,
        "crossings": len(rows),
        "crossings_per_second": round(len(rows) / seconds, 1),
        "expected_results": round(sum(ok for _, ok in rows) / len(rows), 4) if rows else 0.0,
        "transaction_ms": summary(totals),
        "calls_ms": {name: summary([calls[i] for calls, _ in rows]) for i, name in enumerate(CALLS)},
        # How many writes (audit rows, crossings) shared a commit, over the whole run (central.database.group_commit).
        "writes_per_commit": round(writes / commits, 2) if commits else 0.0,
        # CPU milliseconds per crossing in the window: the server's processes (each one's Python runs one thread
        # at a time), the gate processes, PostgreSQL's processes; and how busy the machine's cores were (all users).
        "cpu_ms_per_crossing": {"server": round(per(len(rows), server_s), 2),
                                "gates": round(per(len(rows), gates_cpu), 2),
                                "database_server": round(per(len(rows), database_s), 2)},
        "machine_busy": round(machine_busy_s / machine_all_s, 3) if machine_all_s else 0.0,
        "machine": {**machine.describe(), "load_average_before": load_before, "load_average_after": load_after},
        "date": dt.date.today().isoformat(),
    }
    if floor is not None:
        calls, (floor_server_s, _, _), floor_gates_s = floor
        window = min(5.0, seconds)
        result["empty_calls"] = {"calls_per_second": round(len(calls) / window, 1),
                                 "cpu_ms_per_call": {"server": per(len(calls), floor_server_s),
                                                     "gates": per(len(calls), floor_gates_s)},
                                 "ms": summary([spans[0] for spans, _ in calls])}
    return result


def _phase(plans: list[GatePlan], read_server_cpu):
    """Run the gate processes of `plans` once: (rows, server/PostgreSQL/machine CPU in the window, gates' CPU).

    `read_server_cpu()`: CPU seconds used so far by the server's processes."""
    context = multiprocessing.get_context("spawn")  # never fork a process running gRPC threads
    ready, results = context.Barrier(len(plans) + 1), context.Queue()
    processes = [context.Process(target=_gate_process, daemon=True, args=(plan, ready, results)) for plan in plans]
    warmup_s, seconds = plans[0].warmup_s, plans[0].seconds
    try:
        for process in processes:
            process.start()
        ready.wait(timeout=300)
        now = time.perf_counter()
        window = [now + warmup_s, now + warmup_s + seconds]
        # CPU seconds spent in the window: by the server's processes, by PostgreSQL, by the machine.
        server_cpu = _cpu_in_window(window, lambda: (read_server_cpu(), _postgres_cpu(), _machine_cpu()))
        rows, errors, gates_cpu = [], [], 0.0
        for _ in processes:
            got, failed, cpu = results.get(timeout=seconds + warmup_s + 300)
            rows += got
            errors += failed
            gates_cpu += cpu
        for process in processes:
            process.join(timeout=60)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    if errors:
        raise BenchError(f"{len(errors)} gate(s) failed: " + "; ".join(errors[:3]))
    return rows, server_cpu, gates_cpu


def _cpu_in_window(window: list[float], read):
    """read() at the window's start and end (sleeping till then): the difference, element by element."""
    def until(moment: float) -> None:
        time.sleep(max(0.0, moment - time.perf_counter()))
    until(window[0])
    first = read()
    until(window[1])
    last = read()
    if isinstance(first, tuple):
        return tuple(_minus(b, a) for a, b in zip(first, last))
    return last - first


def _minus(later, earlier):
    return tuple(b - a for a, b in zip(earlier, later)) if isinstance(later, tuple) else later - earlier


def _server_cpu(children: list[int]):
    """A reader of the CPU seconds used so far by this process (the first server) and its server `children`."""
    def read() -> float:
        return time.process_time() + sum(_process_cpu(Path(f"/proc/{pid}/stat")) or 0.0 for pid in children)
    return read


def _process_cpu(stat: Path, name: str | None = None) -> float | None:
    """CPU seconds (user + system) of the process whose /proc stat file this is; None if it is gone, or
    not named `name`."""
    try:
        text = stat.read_text()
    except OSError:
        return None
    if name is not None and text[text.index("(") + 1:text.rindex(")")] != name:
        return None
    rest = text[text.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _postgres_cpu() -> float:
    """CPU seconds used so far by processes named postgres (a database on this machine), 0 where none."""
    return sum(_process_cpu(stat, "postgres") or 0.0 for stat in Path("/proc").glob("[0-9]*/stat"))


def _machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of every core since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:9]]
    except OSError:
        return 0.0, 0.0
    idle = values[3] + values[4]  # idle, iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def _sample(name: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name) or 0.0


def render(result: dict) -> str:
    r, t = result, result["transaction_ms"]
    lines = [f"central: {r['crossings_per_second']} crossings/s ({r['crossings']} in {r['seconds']} s) from "
             f"{r['gates']} gates in {r['client_processes']} processes, {r['database']}, {r['transport']}, "
             f"{r['server_processes']} server process(es) of {r['server_workers']} threads",
             f"  gate transaction  p50 {t['p50']:7.2f} ms  p95 {t['p95']:7.2f} ms  p99 {t['p99']:7.2f} ms  "
             f"as planted {r['expected_results']:.4f}"]
    for name in CALLS:
        c = r["calls_ms"][name]
        lines.append(f"  {name:16}  p50 {c['p50']:7.2f} ms  p95 {c['p95']:7.2f} ms  p99 {c['p99']:7.2f} ms")
    host, cpu = r["machine"], r["cpu_ms_per_crossing"]
    lines.append(f"  CPU per crossing: server {cpu['server']} ms, gates {cpu['gates']} ms, database server "
                 f"{cpu['database_server']} ms; cores busy {100 * r['machine_busy']:.0f}% (all users)")
    if "empty_calls" in r:
        e = r["empty_calls"]
        lines.append(f"  empty gRPC calls (Health.Check, same channels): {e['calls_per_second']}/s, CPU per call: "
                     f"server {e['cpu_ms_per_call']['server']} ms, gates {e['cpu_ms_per_call']['gates']} ms")
    lines.append(f"  {r['writes_per_commit']} writes per commit; "
                 f"{r['alerts']} document + {r['alerts']} person alerts, {r['travellers']} travellers; "
                 f"{host['cores']} cores, load average {host['load_average_before'][0]} before, "
                 f"{host['load_average_after'][0]} after")
    return "\n".join(lines)


# -- limes bench central ----------------------------------------------------------------------

def register(bench: argparse.ArgumentParser) -> None:
    bench.description = ("Concurrent simulated gates (asyncio tasks in client processes, each with its own station "
                         "certificate) send one traveller after another to a central server in this process: "
                         "CheckDocument, CheckPerson, RecordCrossing (risk rules applied). Reports crossings per "
                         "second and p50/p95/p99 of the gate transaction and of each call.")
    bench.add_argument("--gates", type=int, default=16, help="concurrent gates (default 16)")
    bench.add_argument("--seconds", type=float, default=20.0, help="measured window (default 20)")
    bench.add_argument("--warmup", type=float, default=3.0, help="seconds run before the window (default 3)")
    bench.add_argument("--alerts", type=int, default=10_000, help="document and as many person alerts (default 10000)")
    bench.add_argument("--travellers", type=int, default=20_000,
                       help="distinct travellers the gates draw from (default 20000)")
    bench.add_argument("--client-processes", type=int, default=2,
                       help="processes the gates run in, as asyncio tasks (default 2)")
    bench.add_argument("--server-workers", type=int, default=None,
                       help="server threads per server process (default: one per gate)")
    bench.add_argument("--server-processes", type=int, default=1,
                       help="server processes on the one port (default 1; central.rpc.processes)")
    bench.add_argument("--plaintext", action="store_true", help="no TLS (default: mutual TLS, dev certificates)")
    bench.add_argument("--grpc-floor", action="store_true",
                       help="first measure empty calls (Health.Check) over the same channels: gRPC's own cost")
    bench.add_argument("--check-stay", action="store_true",
                       help="also ask CheckStay before each entry, beside the alert checks, as an entry gate does")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--database", metavar="URL", default=None,
                       help="an EMPTY scratch database (default: a temporary SQLite file)")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    for name in ("gates", "alerts", "travellers", "client_processes", "server_processes"):
        if getattr(args, name) < 1:
            print(f"limes bench central: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    if args.seconds <= 0 or args.warmup < 0:
        print("limes bench central: --seconds must be positive and --warmup not negative", file=sys.stderr)
        return 2
    try:
        result = run(gates=args.gates, seconds=args.seconds, warmup_s=args.warmup, alerts=args.alerts,
                           travellers=args.travellers, client_processes=args.client_processes,
                           database_url=args.database, plaintext=args.plaintext,
                           server_workers=args.server_workers, server_processes=args.server_processes,
                           seed=args.seed, grpc_floor=args.grpc_floor, check_stay=args.check_stay)
    except BenchError as exc:
        print(f"limes bench central: {exc}", file=sys.stderr)
        return 1
    emit(result, args.json, render)
    return 0
