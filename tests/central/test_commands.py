"""`limes central ...`: migrate, add-alert (document, person), serve."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from limes.cli import main
from proto.limes.v1 import central_pb2 as pb
from proto.tls import open_channel

from .conftest import GATE_METADATA, TEST_ACCESS, serve_central


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_migrate_reports_the_revision(capsys, database_url):
    from alembic.script import ScriptDirectory

    from central.database.engine import alembic_config

    result = run_json(capsys, "central", "migrate", "--database", database_url, "--json")
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert result == {"database": database_url, "revision": head}


def test_add_alerts_then_they_hit(capsys, database_url, dev_pki):
    document = run_json(capsys, "central", "add-alert", "document", "--number", "C01X00T47", "--state", "D",
                        "--type", "P", "--reason", "STOLEN", "--instruction", "Seize", "--agency", "BKA",
                        "--database", database_url, "--json")
    assert (document["issuing_state"], document["reason"], document["version"]) == ("DEU", "STOLEN", "1")
    person = run_json(capsys, "central", "add-alert", "person", "--surname", "Müller", "--given-names", "Hans",
                      "--birth-date", "1980-03-04", "--reason", "ENTRY_BAN", "--database", database_url, "--json")
    assert (person["surname"], person["version"]) == ("Müller", "2")

    server, central = serve_central(database_url, dev_pki, access=TEST_ACCESS)
    stub = central.stub()
    [hit] = stub.CheckDocument(pb.CheckDocumentRequest(document_number="C01X00T47"), metadata=GATE_METADATA).hits
    assert hit.alert_id == document["alert_id"]
    [person_hit] = stub.CheckPerson(pb.CheckPersonRequest(surname="MUELLER", given_names="HANS",
                                                          birth_date="1980-03-04"), metadata=GATE_METADATA).hits
    assert person_hit.alert_id == person["alert_id"]
    central.close()
    server.stop(None)


def test_add_alert_with_a_notice_and_a_category(capsys, database_url):
    person = run_json(capsys, "central", "add-alert", "person", "--surname", "Гагарин", "--reason", "ARREST",
                      "--notice", "RED", "--notice-kind", "DIFFUSION", "--database", database_url, "--json")
    assert (person["notice"], person["notice_kind"]) == ("NOTICE_RED", "NOTICE_KIND_DIFFUSION")
    document = run_json(capsys, "central", "add-alert", "document", "--number", "B1", "--reason", "STOLEN",
                        "--category", "STOLEN_BLANK", "--database", database_url, "--json")
    assert document["category"] == "CATEGORY_STOLEN_BLANK"


def test_add_alert_text_output(capsys, database_url):
    assert main(["central", "add-alert", "document", "--number", "X1", "--reason", "LOST",
                 "--database", database_url]) == 0
    assert "LOST at version 1" in capsys.readouterr().out


def test_a_bad_alert_is_refused_with_the_field(capsys, database_url):
    assert main(["central", "add-alert", "person", "--surname", "X", "--birth-date", "1980-13-01",
                 "--reason", "ARREST", "--database", database_url]) == 2
    assert "birth_date" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["central", "--help"], ["central", "serve", "--help"],
                                  ["central", "add-alert", "document", "--help"],
                                  ["central", "add-alert", "person", "--help"]])
def test_help(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    assert "usage:" in capsys.readouterr().out


def _children(pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2:].split()[1]) == pid:  # the parent's pid
            children.add(int(stat.parent.name))
    return children


@pytest.mark.parametrize("processes", [1, 2])
def test_serve_runs_until_terminated(database_url, dev_pki, processes):
    tls = dev_pki.server()
    process = subprocess.Popen(
        [sys.executable, "-m", "limes", "central", "serve", "--listen", "127.0.0.1:0", "--database", database_url,
         "--tls-ca", str(tls.ca), "--tls-cert", str(tls.certificate), "--tls-key", str(tls.key),
         "--processes", str(processes), "--json"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = []
        while not lines or lines[-1].strip() != "}":
            line = process.stdout.readline()
            assert line, "serve exited before printing its address"
            lines.append(line)
        served = json.loads("".join(lines))
        address = served["address"]
        assert (served["transport"], served["processes"]) == ("mutual TLS", processes)
        with open_channel(address, dev_pki.user("tester")) as channel:
            status = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="limes.v1.Central"), timeout=10).status
        assert status == health_pb2.HealthCheckResponse.SERVING
        children = _children(process.pid)
        if processes > 1:
            assert children  # the further server process (and multiprocessing's resource tracker)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        deadline = time.monotonic() + 10
        while children and time.monotonic() < deadline:
            children = {pid for pid in children if Path(f"/proc/{pid}").exists()}
            time.sleep(0.1)
        assert not children
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_bench_gates_find_every_planted_alert(capsys):
    result = run_json(capsys, "bench", "central", "--gates", "3", "--seconds", "2", "--warmup", "0.5",
                      "--alerts", "200", "--travellers", "300", "--client-processes", "2", "--grpc-floor", "--json")
    assert (result["gates"], result["transport"], result["database"]) == (3, "mutual TLS", "sqlite")
    assert result["crossings"] > 0
    assert result["crossings_per_second"] == round(result["crossings"] / 2, 1)
    assert result["expected_results"] == 1.0
    timings = [result["transaction_ms"], *result["calls_ms"].values()]
    assert all(0 < t["p50"] <= t["p95"] <= t["p99"] for t in timings)
    assert result["transaction_ms"]["p50"] >= result["calls_ms"]["record_crossing"]["p50"]
    assert result["cpu_ms_per_crossing"]["server"] > 0 and result["cpu_ms_per_crossing"]["gates"] > 0
    assert 0 < result["machine_busy"] <= 1
    floor = result["empty_calls"]  # --grpc-floor: empty calls over the same channels first
    assert floor["calls_per_second"] > result["crossings_per_second"] and floor["cpu_ms_per_call"]["server"] > 0


def test_bench_population_plants_alerts_on_some_travellers():
    from limes.bench.central import population

    alerted, crowd = population(seed=3, alerts=50, travellers=100)
    assert population(seed=3, alerts=50, travellers=100) == (alerted, crowd)  # the same in every process
    numbers = {(p.nationality, p.number) for p in alerted}
    people = {(p.surname, p.given_names, p.birth_date) for p in alerted}
    assert sum(t.document_alert for t in crowd) == 5 and sum(t.person_alert for t in crowd) == 3  # 25, 50, 75
    for t in crowd:
        assert ((t.nationality, t.number) in numbers) == t.document_alert
        assert ((t.surname, t.given_names, t.birth_date) in people) == t.person_alert


def test_bench_refuses_nonsense(capsys):
    assert main(["bench", "central", "--gates", "0"]) == 2
    assert "--gates must be at least 1" in capsys.readouterr().err
    assert main(["bench", "central", "--server-processes", "0"]) == 2
    assert "--server-processes must be at least 1" in capsys.readouterr().err


def test_bench_reports_gates_that_fail():
    """Gates whose calls fail (nothing listens) stop, and the run fails naming them instead of measuring."""
    import socket

    from limes.bench.central import BenchError, GatePlan, _phase

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    plan = GatePlan(f"127.0.0.1:{port}", ("G1", "G2"), None, 0, 10, 10, 0.1, 0.5)
    with pytest.raises(BenchError, match=r"(?s)2 gate\(s\) failed: G[12]: AioRpcError.*UNAVAILABLE"):
        _phase([plan], lambda: 0.0)


def test_bench_runs_several_server_processes(capsys):
    result = run_json(capsys, "bench", "central", "--gates", "4", "--seconds", "2", "--warmup", "0.5",
                      "--alerts", "200", "--travellers", "300", "--server-processes", "2", "--json")
    assert (result["server_processes"], result["expected_results"]) == (2, 1.0)
    assert result["crossings"] > 0 and result["cpu_ms_per_crossing"]["server"] > 0
