"""Issue 7: the gate keeps working while central is down and loses no record.

A border post whose gate has an outbox and an alert cache (edge.sqlite in
its state folder). Central is stopped mid-run, travellers keep coming, central
comes back on the same port and database, and every crossing decided offline
is at central exactly once, with its referral.
"""
from __future__ import annotations

import dataclasses
import time

import pytest

from edge.gate import GateStation
from edge.outbox import Backoff
from edge.policy import Policy
from edge.runtime import GateConfig, RunningGate, start_gate
from hardware_sim.travellers import SimulatedTraveller, demo_travellers
from limes.stack import restart_central
from proto.clients import CentralClient, central_pb2
from tests.e2e.conftest import border_post_or_skip

pytestmark = pytest.mark.slow

DELIVERY_TIMEOUT_S = 120  # gRPC's reconnect backoff after an outage, on a shared machine


def travellers() -> dict[str, SimulatedTraveller]:
    demo = {t.label: t for t in demo_travellers()}
    holland = demo["genuine traveller"]
    return {
        "holland": holland,
        "martin": demo["genuine traveller (French)"],
        "holland2": dataclasses.replace(holland, label="genuine traveller, another passport",
                                        document_number="X7731B05"),
        "stolen": demo["passport reported stolen"],
    }


@pytest.fixture
def post(faces_dir, tmp_path):
    with border_post_or_skip(tmp_path, faces_dir, travellers=[]) as post:
        yield post


@pytest.fixture
def gate_with_outbox(post):
    """Replaces the post's gate by one with its own state folder, policy and fast refresh and backoff."""
    started: list[RunningGate] = []

    def start(state_dir, policy: Policy) -> RunningGate:
        post.running.close()  # it holds the reader's pty and the camera
        running = start_gate(GateConfig(
            station=GateStation(), reader_url=post.devices.reader_port, camera_source=post.devices.camera_url,
            chip_reader=post.devices.chip_reader, csca_paths=(post.devices.csca_dir,),
            central_address=post.services.central_address, matcher_address=post.services.matcher_address,
            tls=post.services.station_tls(GateStation().station_id),
            policy=policy, state_dir=state_dir, alert_refresh_s=0.2,
            outbox_backoff=Backoff(first_s=0.1, most_s=1.0)))
        started.append(running)
        post.running = running
        return running

    yield start
    for running in started:  # the post closes only the gate it started
        running.close()


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def report_stolen(post, traveller: SimulatedTraveller) -> None:
    client = CentralClient(post.services.central_address, timeout=10, tls=post.services.user_tls("demo-admin"))
    try:
        client.call("AddDocumentAlert", central_pb2.AddDocumentAlertRequest(
            document_number=traveller.document_number, document_type="P", issuing_state=traveller.nationality,
            reason=central_pb2.DocumentAlert.STOLEN))
    finally:
        client.close()


def history(post, traveller: SimulatedTraveller) -> central_pb2.TravellerHistory:
    client = CentralClient(post.services.central_address, timeout=10, tls=post.services.user_tls("test"))
    try:
        return client.call("GetTravellerHistory", central_pb2.GetTravellerHistoryRequest(
            document=central_pb2.TravelDocument(number=traveller.document_number,
                                                issuing_state=traveller.nationality)))
    finally:
        client.close()


def test_central_down_mid_run_then_back_every_crossing_recorded_once(post, gate_with_outbox, tmp_path):
    people = travellers()
    report_stolen(post, people["stolen"])
    for traveller in people.values():
        post.devices.issuing_pki(traveller.nationality)
    running = gate_with_outbox(tmp_path / "edge", Policy())
    wait_for(lambda: running.alerts.synced_at is not None and len(running.alerts) == 1, 30, "the alert cache")

    online = post.pass_through(people["holland"])
    assert online["decision"] == "open" and online["recorded"], online["reasons"]

    post.services.central_server.stop(grace=0).wait()
    offline = {name: post.pass_through(people[name]) for name in ("martin", "holland2", "stolen", "holland")}
    for name, result in offline.items():
        assert result["decision"] == "refer" and result["outcome"]["offline"], (name, result["reasons"])
        assert not result["recorded"]
        assert result["reasons"][-1].startswith("crossing not recorded yet: kept in the gate's outbox")
    assert any("(central unreachable; offline answers do not open the gate)" in r
               for r in offline["martin"]["reasons"])
    assert any(r.startswith("alerts.document: offline: cached alert list version 1, ") and "stolen (exact, alert " in r
               for r in offline["stolen"]["reasons"]), offline["stolen"]["reasons"]
    assert not running.gate.online and running.gate.backlog == 2 * len(offline)

    post.services = restart_central(post.services)
    try:
        assert running.outbox.wait_until_delivered(DELIVERY_TIMEOUT_S), running.outbox.pending()
        assert running.gate.online and running.outbox.rejected() == []
        for name in ("holland", "martin", "holland2", "stolen"):
            expected = [r["outcome"]["crossing_id"] for r in (online, offline[name]) if
                        r["outcome"]["traveller"]["document_number"] == people[name].document_number]
            record = history(post, people[name])
            assert sorted(c.crossing_id for c in record.crossings) == sorted(expected), name
            by_id = {c.crossing_id: c for c in record.crossings}
            crossing = by_id[offline[name]["outcome"]["crossing_id"]]
            assert crossing.decision == central_pb2.Crossing.REFER
            assert list(crossing.reasons) == offline[name]["reasons"][:-1], "as decided, not the local note"
            assert [r.crossing_id for r in record.referrals] == [crossing.crossing_id]
    finally:
        post.services.central_server.stop(grace=0).wait()


def test_gate_stopped_with_a_backlog_replays_it_on_start_once(post, gate_with_outbox, tmp_path):
    """The gate stops (or dies) while central is down; the next run sends what it left, nothing twice."""
    people = travellers()
    for traveller in people.values():
        post.devices.issuing_pki(traveller.nationality)
    state = tmp_path / "edge"
    # The traveller file has no offline copy: an authority that lets offline answers open the gate lists it
    # as optional too (docs/OFFLINE.md), accepting that nobody is deduplicated or enrolled meanwhile.
    running = gate_with_outbox(state, Policy(offline_may_open=True, optional=frozenset({"traveller.file"})))
    wait_for(lambda: running.alerts.synced_at is not None, 30, "the alert cache")
    post.services.central_server.stop(grace=0).wait()
    names = ("holland", "holland2")
    results = [post.pass_through(people[name]) for name in names]
    assert [r["decision"] for r in results] == ["open", "open"], [r["reasons"] for r in results]
    assert all(r["outcome"]["offline"] and not r["recorded"] for r in results)
    pending = running.outbox.pending()
    assert [e.method for e in pending] == ["RecordCrossing", "RecordCrossing"]
    running.close()  # the outbox closes with both records unsent

    post.services = restart_central(post.services)
    try:
        # As if the first had reached central just before the gate died, unmarked in the outbox.
        from edge.remote import RemoteCentral

        client = CentralClient(post.services.central_address, timeout=10,
                               tls=post.services.station_tls(GateStation().station_id))
        RemoteCentral(client).deliver(pending[0].method, pending[0].payload)
        client.close()

        again = gate_with_outbox(state, Policy(offline_may_open=True))
        assert again.outbox.wait_until_delivered(DELIVERY_TIMEOUT_S), again.outbox.pending()
        for name, result in zip(names, results):
            record = history(post, people[name])
            assert [c.crossing_id for c in record.crossings] == [result["outcome"]["crossing_id"]]
            assert record.crossings[0].decision == central_pb2.Crossing.OPEN
    finally:
        post.services.central_server.stop(grace=0).wait()
