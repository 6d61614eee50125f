"""The walking skeleton end to end: real gRPC servers, the real pty, pcscd with
vpcd, the MJPEG camera, and the demo's travellers."""
from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from hardware_sim.travellers import check_status, demo_travellers
from proto.clients import CentralClient, central_pb2
from proto.tls import open_channel
from tests.e2e.conftest import border_post_or_skip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def post(faces_dir, tmp_path_factory):
    with border_post_or_skip(tmp_path_factory.mktemp("post"), faces_dir) as post:
        yield post


@pytest.fixture(scope="module")
def results(post):
    return post.run_travellers()


def test_every_demo_decision_is_the_expected_one(results):
    travellers = demo_travellers()
    assert [r["label"] for r in results] == [t.label for t in travellers]
    for result, traveller in zip(results, travellers):
        assert result["decision"] == traveller.expected, (traveller.label, result["reasons"])
        # Each deciding check ended as declared (failed, for every demo traveller): not merely not passed.
        ended = {c["name"]: check_status(c) for c in result["outcome"]["checks"]}
        assert {name: ended.get(name) for name in traveller.because} \
            == dict.fromkeys(traveller.because, traveller.because_status), (traveller.label, result["reasons"])
        assert result["as_expected"] and not result["because_unmet"]


def test_genuine_travellers_pass_every_check(results):
    for result in results:
        if result["expected"] == "open":
            statuses = {c["name"]: c["status"] for c in result["outcome"]["checks"]}
            assert set(statuses.values()) == {"pass"}, statuses
            # The chip was read through pcscd and passed passive authentication.
            assert statuses["chip.read"] == statuses["sod.signature"] == statuses["dsc.chain"] == "pass"


def test_crossings_and_referrals_reach_central(post, results):
    client = CentralClient(post.services.central_address, tls=post.services.user_tls("test"))
    try:
        for result in results:
            outcome = result["outcome"]
            if not outcome["traveller"]:
                assert not result["recorded"]  # unreadable MRZ: the officer registers it
                continue
            assert result["recorded"]
            history = client.call("GetTravellerHistory", central_pb2.GetTravellerHistoryRequest(
                document=central_pb2.TravelDocument(number=outcome["traveller"]["document_number"],
                                                    issuing_state=outcome["traveller"]["issuing_state"])))
            assert [c.crossing_id for c in history.crossings] == [outcome["crossing_id"]]
            decision = central_pb2.Crossing.Decision.Name(history.crossings[0].decision).lower()
            assert decision == result["decision"]
            assert len(history.referrals) == (1 if result["decision"] == "refer" else 0)
    finally:
        client.close()


@pytest.mark.parametrize("which, service", [("central", "limes.v1.Central"), ("matcher", "limes.v1.Matcher")])
def test_servers_answer_health_and_reflection(post, which, service):
    address = getattr(post.services, f"{which}_address")
    with open_channel(address, post.services.user_tls("test")) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", service):
            reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                            timeout=2)
        names = {s.name for reply in replies for s in reply.list_services_response.service}
        assert {service, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


@pytest.mark.parametrize("which", ["central", "matcher"])
def test_servers_refuse_plaintext_and_strangers(post, which, tmp_path):
    from proto.dev_pki import DevPki
    from proto.tls import TlsFiles

    address = getattr(post.services, f"{which}_address")
    stranger = DevPki(tmp_path / "other-ca").station("DEMO-EGATE-01")
    for channel in (grpc.insecure_channel(address),
                    open_channel(address, TlsFiles(post.services.server_tls.ca, stranger.certificate, stranger.key))):
        with channel, pytest.raises(grpc.RpcError) as refused:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_the_gate_records_under_its_certificate(post, results):
    """Every crossing of the run is at central under the gate's station, taken from its certificate."""
    from sqlalchemy import create_engine, select

    from central.database import models as m

    engine = create_engine(post.services.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(m.AuditEntry.station, m.AuditEntry.user_name)
                                      .where(m.AuditEntry.action == "RecordCrossing")).all()
    finally:
        engine.dispose()
    assert len(rows) == sum(r["recorded"] for r in results) > 0
    assert set(rows) == {("DEMO-EGATE-01", "")}
