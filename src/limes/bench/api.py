"""`limes bench api`: advance passenger data read, stored and screened, as a carrier's push arrives.

Two cases, each timed from the bytes to the committed transaction (central.passengers.intake):
- a PAXLST of 1,000 passengers (D05B, every passenger with a passport), target <= 2 s;
- a PNRGOV of 100 PNRs of one flight (one to three travellers each, SSR DOCS, contacts, payment,
  agency, itinerary, seats, bags), target <= 2 s.
The database is a fresh SQLite file holding 1,000 document and 1,000 person alerts, a few of which
the messages hit, an earlier entry of 300 of the passengers, whom the risk rules, the profiles' travel
pattern and the 90/180 rule then look up (those in for over 90 days have no day left), and 5 active
risk profiles (route, document type, nationality, age, travel pattern) over the arrival border point.
Each case runs --repeat times; each run is a new version of the flight's list.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

from central.access.audit import Caller
from central.alerts.lists import NewDocumentAlert, NewPersonAlert, add_document_alert, add_person_alert
from central.database import models as m
from central.database.engine import Database
from central.intelligence.targeting import write_profile
from central.passengers.intake import import_message
from central.passengers.reading import read_message
from central.records.gate_calls import DocumentData, NewCrossing, TravellerData, record_crossing
from central.risk.rules import RiskRules
from common import machine
from common.output import add_json_flag, emit
from limes.bench.summary import summary

TARGET_MS = 2000.0
NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.timezone.utc)
SURNAMES = ("MUELLER", "SCHMIDT", "ROSSI", "GARCIA", "SMITH", "NOVAK", "JANSEN", "DUPONT", "KOWALSKI", "SILVA",
            "NIELSEN", "PAPADOPOULOS", "HORVATH", "MURPHY", "BERG", "COSTA")
GIVEN = ("ANNA", "JOHN", "MARIA", "LUCA", "SOFIA", "PIOTR", "EMMA", "JAN", "LEA", "OMAR", "ELENA", "TOMAS")
STATES = ("DEU", "FRA", "ITA", "ESP", "GBR", "USA", "POL", "NLD", "PRT", "DNK", "GRC", "HUN", "IRL")


def _person(rng: random.Random, i: int) -> tuple[str, str, str, str, dt.date]:
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 65))
    return (rng.choice(SURNAMES) + chr(65 + i % 26), rng.choice(GIVEN), rng.choice(STATES), f"X{i:08d}", born)


def paxlst(passengers: int, seed: int = 18) -> bytes:
    rng = random.Random(seed)
    lines = ["UNA:+.? '", "UNB+UNOA:4+BENCHAIR+LIMES+261206:0800+B1'", "UNH+1+PAXLST:D:05B:UN:IATA+BA900+01:F'",
             "BGM+745'", "TDT+20+BA900+++BA'", "LOC+125+LHR'", "DTM+189:202612061000:203'", "LOC+87+FRA'",
             "DTM+232:202612061230:203'"]
    for i in range(passengers):
        surname, given, state, number, born = _person(rng, i)
        lines += [f"NAD+FL+++{surname}:{given}'", f"ATT+2++{'MF'[i % 2]}'", f"DTM+329:{born:%y%m%d}'",
                  "LOC+178+LHR'", "LOC+179+FRA'", f"NAT+2+{state}'", f"RFF+AVF:B{i // 2:05d}'",
                  f"DOC+P:110:111+{number}'", "DTM+36:301231'", f"LOC+91+{state}'"]
    lines += [f"CNT+42:{passengers}'", f"UNT+{len(lines) - 1}+1'", "UNZ+1+B1'"]
    return "\n".join(lines).encode()


def pnrgov(pnrs: int, seed: int = 19) -> bytes:
    rng = random.Random(seed)
    lines = ["UNA:+.? '", "UNB+IATA:1+BA+LIMES+261205:2200+P1'", "UNH+1+PNRGOV:13:1:IA+BA900'", "MSG+:22'",
             "ORG+BA:LON'", "TVL+061226:1000:061226:1230+LHR+FRA+BA+900'", f"EQN+{pnrs}'"]
    person = 0
    for p in range(pnrs):
        lines += ["SRC'", f"RCI+BA:P{p:05d}::011126:1015'", f"ORG+1A:LON+{91000000 + p % 17}:LONXX{p % 17}'",
                  f"ADD++700:{p} HIGH STREET:LONDON::GB:SW1 {p % 9}AA'", f"SSR+CTCM:HK:1:BA:::::/44770090{p % 50:04d}'",
                  f"FOP+CC:::VI:41111111{p % 23:08d}:1229'"]
        for t in range(1, rng.randint(1, 3) + 1):
            surname, given, state, number, born = _person(rng, person)
            person += 1
            lines += [f"TIF+{surname}:I+{given} MR:A:{t}'",
                      f"SSR+DOCS:HK:1:BA:::::/P/{state}/{number}/{state}/{born:%d%b%y}/M/31DEC30/{surname}/{given}'"
                      .upper(), f"TKT+125{p:05d}{t:05d}:T:1'"]
        lines += ["TVL+061226:1000:061226:1230+LHR+FRA+BA+900:Y'", "RPI+1+HK'",
                  f"SSR+SEAT:HK:1:BA:::LHR:FRA+{p % 30 + 1}A::1'", "TBD++1:23:KG++HP+BA:0125123456:1:FRA'"]
    lines += [f"UNT+{len(lines) - 1}+1'", "UNZ+1+P1'"]
    return "\n".join(lines).encode()


def _alerts(database: Database, count: int) -> None:
    rng = random.Random(7)
    admin = Caller(user="bench")

    def add(session):
        for i in range(count):
            add_document_alert(session, admin, NewDocumentAlert(
                "", f"Y{i:08d}" if i % 100 else f"X{i:08d}", "P", "", m.DocumentAlertReason.STOLEN,
                "", "", None, None))
            surname, given, state, _, born = _person(rng, 100_000 + i)
            add_person_alert(session, admin, NewPersonAlert("", surname, given, born, state,
                                                            m.PersonAlertReason.ENTRY_BAN, "", "", None, None, ""))
    database.run(add)


def _crossings(database: Database, count: int) -> None:
    """Earlier entries of the first `count` passengers: central knows them, so the risk rules look them up."""
    rng = random.Random(18)  # the PAXLST's own seed: the same people
    rules = RiskRules.load()
    for i in range(count):
        surname, given, state, number, born = _person(rng, i)
        new = NewCrossing(f"bench-{i}", "BENCH-G1", "BENCH", m.Direction.ENTRY, NOW - dt.timedelta(days=30 + i % 300),
                          DocumentData(number, "P", state, None), TravellerData(surname, given, state, "", born),
                          m.GateDecision.OPEN, [], [], None)
        database.write(lambda connection: record_crossing(connection, Caller(station="BENCH-G1"), new, rules))


# Risk profiles as an analyst writes them; the flights land at FRA, whose border point FRA-T1 is known.
PROFILES = (("fra-usa-passports", {"route": ["FRA-T1 ENTRY"], "nationality": ["USA"], "document_type": ["P"]}),
            ("fra-young-gbr", {"route": ["FRA-T1"], "nationality": ["GBR"], "age_band": [18, 30],
                               "document_type": ["P"]}),
            ("frequent-entries", {"travel_pattern": {"min_crossings": 3, "within_days": 60}}),
            ("identity-cards", {"document_type": ["ID"]}),
            ("other-airport", {"route": ["MUC-T2"], "document_type": ["P"]}))


def _profiles(database: Database, count: int) -> None:
    def add(session):
        session.add(m.BorderPoint(code="FRA-T1", name="Frankfurt Terminal 1"))
        for i in range(count):
            name, conditions = PROFILES[i % len(PROFILES)]
            write_profile(session, Caller(user="bench-analyst"), f"{name}-{i}", conditions, 0.3, "bench")
    database.run(add)


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = ("Time a 1,000-passenger PAXLST and a 100-PNR PNRGOV from bytes to stored and screened "
                         f"(target <= {TARGET_MS / 1000:.0f} s each) against 1,000 document and 1,000 person alerts.")
    bench.add_argument("--passengers", type=int, default=1000, help="passengers of the PAXLST (default 1000)")
    bench.add_argument("--pnrs", type=int, default=100, help="PNRs of the PNRGOV (default 100)")
    bench.add_argument("--alerts", type=int, default=1000, help="document and person alerts each (default 1000)")
    bench.add_argument("--known", type=int, default=300,
                       help="passengers central has seen cross before, scored by the risk rules (default 300)")
    bench.add_argument("--profiles", type=int, default=5, help="active risk profiles (default 5)")
    bench.add_argument("--repeat", type=int, default=5, help="runs of each case (default 5)")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def _case(database: Database, data: bytes, repeat: int) -> dict:
    parse_ms, total_ms, cpu_ms, stored = [], [], [], None
    caller = Caller(station="BENCH-API")
    for run in range(repeat):
        # Each run a new version: the carrier's push again, changed by one byte of its interchange reference.
        message = data.replace(b"+B1'", f"+B{run + 2}'".encode()).replace(b"+P1'", f"+P{run + 2}'".encode())
        started = time.perf_counter()
        read_message(message, today=NOW.date())
        parse_ms.append((time.perf_counter() - started) * 1000)
        started, cpu = time.perf_counter(), time.process_time()
        stored = import_message(database, caller, message, NOW)
        total_ms.append((time.perf_counter() - started) * 1000)
        # CPU time of this process: on a shared machine, the wall time also counts the waits for a core.
        cpu_ms.append((time.process_time() - cpu) * 1000)
    [result] = stored.lists
    return {"bytes": len(data), "persons": result.persons, "hits": result.hits, "checks": result.checks,
            "last_version": result.version,
            "parse_ms": summary(parse_ms), "parse_store_screen_ms": summary(total_ms),
            "parse_store_screen_cpu_ms": summary(cpu_ms),
            "target_ms": TARGET_MS, "meets_target": max(total_ms) <= TARGET_MS}


def _bench(args: argparse.Namespace) -> int:
    if min(args.passengers, args.pnrs, args.repeat) < 1 or min(args.alerts, args.known, args.profiles) < 0:
        print("limes bench api: --passengers, --pnrs and --repeat must be at least 1, the others at least 0",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="limes-bench-api-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'central.sqlite'}")
        database.migrate()
        _alerts(database, args.alerts)
        _crossings(database, min(args.known, args.passengers))
        _profiles(database, args.profiles)
        try:
            result = {"paxlst": _case(database, paxlst(args.passengers), args.repeat) | {"passengers": args.passengers},
                      "pnrgov": _case(database, pnrgov(args.pnrs), args.repeat) | {"pnrs": args.pnrs},
                      "alerts": {"document": args.alerts, "person": args.alerts},
                      "known_travellers": min(args.known, args.passengers), "profiles": args.profiles,
                      "repeat": args.repeat,
                      "database": "SQLite file (fresh)", "machine": machine.describe(),
                      "load_average": machine.load_average()}
        finally:
            database.dispose()
    result["meets_target"] = result["paxlst"]["meets_target"] and result["pnrgov"]["meets_target"]
    emit(result, args.json, _render)
    return 0


def _render(result: dict) -> str:
    lines = []
    for case, what in (("paxlst", f"PAXLST of {result['paxlst']['passengers']} passengers"),
                       ("pnrgov", f"PNRGOV of {result['pnrgov']['pnrs']} PNRs ({result['pnrgov']['persons']} "
                                  "travellers)")):
        r = result[case]
        lines.append(f"{what}: parse p50 {r['parse_ms']['p50']} ms; parsed, stored and screened p50 "
                     f"{r['parse_store_screen_ms']['p50']} ms, max {r['parse_store_screen_ms']['max']} ms "
                     f"(CPU p50 {r['parse_store_screen_cpu_ms']['p50']} ms), "
                     f"{r['hits']} hit(s) (target <= {r['target_ms']:.0f} ms: "
                     f"{'met' if r['meets_target'] else 'NOT met'})")
    return "\n".join(lines)
