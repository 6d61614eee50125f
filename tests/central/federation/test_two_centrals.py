"""Two central processes with separate CAs on loopback: hit/no-hit, the owner's notice, subscriptions with
incremental deltas, and refusals of an untrusted partner and of a list not granted."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import grpc
import pytest

from central.access import roles as access
from central.access.audit import Caller
from central.alerts import lists as alert_lists
from central.database import models as m
from central.federation import trust
from central.federation.service import PartnerClient
from limes.cli import main
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.limes.v1 import federation_pb2 as fpb
from proto.tls import open_channel

from .conftest import Running, make_side, wait_for


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    """A and B running as processes, once for the module; B grants A its documents list (P alerts only),
    A subscribes to it. Tests add alerts of their own and leave the two shared here as they found them."""
    folder = tmp_path_factory.mktemp("federation")
    a, b = make_side(folder, "A"), make_side(folder, "B")
    a.write_trust(b, lists=("documents",), subscribe=("documents",))
    b.write_trust(a, lists=("documents",), subscribe=())
    shared = b.issue(number="B7000001", instruction="seize the document, call B police")
    withheld = b.issue(number="B7000002", handling="C")
    processes = [Running(b), Running(a)]
    try:
        for process in processes:
            process.wait_ready()
        yield a, b, shared, withheld
    finally:
        for process in processes:
            process.stop()


def ask(a, b, number: str = "", surname: str = "", place: str = "A-AIRPORT-T1") -> dict:
    arguments = ["central", "federation", "query", str(a.trust), b.name, "--place", place, "--database",
                 a.database_url, "--json"]
    arguments += ["--document", number] if number else ["--person", surname, "--birth-date", "1980-01-02"]
    return arguments


def test_hit_no_hit_discloses_the_fact_and_handling_and_tells_the_owner(federation, capsys):
    a, b, shared, withheld = federation
    asked_at = dt.datetime.now(dt.timezone.utc)
    assert main(ask(a, b, "B7000001")) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["hit"] is True
    [hit] = answer["hits"]
    # By default: the fact and the handling instruction, nothing else.
    assert hit == {"list": "documents", "handling_instruction": "seize the document, call B police", "alert_id": "",
                   "reason": "", "owning_agency": ""}
    # The owning agency at B has its notice, with where and when, within 60 s.
    notice = wait_for(lambda: b.rows(m.HitNotice, m.HitNotice.place == "A-AIRPORT-T1"), 60, "the owner's notice")[0]
    assert (notice["owning_agency"], notice["partner"], notice["place"]) == ("B-POLICE", a.name, "A-AIRPORT-T1")
    assert abs(notice["occurred_at"].replace(tzinfo=dt.timezone.utc) - asked_at) < dt.timedelta(seconds=60)
    assert notice["noticed_at"].replace(tzinfo=dt.timezone.utc) - asked_at < dt.timedelta(seconds=60)
    # A C alert is not shared with A: not even its fact. An unknown number: no hit.
    for number in ("B7000002", "Z9999999"):
        assert main(ask(a, b, number)) == 0
        result = json.loads(capsys.readouterr().out)
        assert (result["hit"], result["hits"]) == (False, [])
    # Both sides audit every exchange.
    asked = [r for r in a.rows(m.AuditEntry, m.AuditEntry.action == "FederationAskHit")]
    answered = [r for r in b.rows(m.AuditEntry, m.AuditEntry.action == "FederationQueryHit")]
    assert [r["outcome"] for r in asked] == ["hit (1)", "no hit (0)", "no hit (0)"]
    assert [r["station"] for r in answered] == [f"partner:{a.name}"] * 3
    assert answered[0]["outcome"] == "hit (1) at A-AIRPORT-T1"


def test_a_subscription_takes_deltas_incrementally(federation):
    a, b, shared, withheld = federation
    held = wait_for(lambda: {r["alert_id"]: r for r in a.rows(m.FederatedAlert)}, 20, "the first delta at A")
    assert shared in held and withheld not in held  # the C alert stays at B
    assert held[shared]["content"]["document_number"] == "B7000001" and held[shared]["match_key"] == "B7000001"
    later = b.issue(number="B7000003")
    wait_for(lambda: later in [r["alert_id"] for r in a.rows(m.FederatedAlert)], 20, "the next delta at A")
    database = b.database()
    database.run(lambda s: alert_lists.withdraw_alert(s, Caller("cli", "b-admin"), later, "found again"))
    database.dispose()
    wait_for(lambda: later not in [r["alert_id"] for r in a.rows(m.FederatedAlert)], 20, "the withdrawal at A")
    assert withheld not in [r["alert_id"] for r in a.rows(m.FederatedAlert)]
    takes = [r["outcome"] for r in a.rows(m.AuditEntry, m.AuditEntry.action == "FederationTakeDelta")]
    assert any(outcome.startswith("1 change(s) by subscription") for outcome in takes), takes
    served = b.rows(m.AuditEntry, m.AuditEntry.action == "FederationListDelta")
    assert served and all(r["station"] == f"partner:{a.name}" for r in served)


def test_a_list_not_granted_is_refused_and_audited(federation):
    a, b, *_ = federation
    client = PartnerClient(trust.load(a.trust), trust.load(a.trust).partner(b.name))
    try:
        with pytest.raises(grpc.RpcError) as refused:
            client.stub.ListDelta(fpb.ListDeltaRequest(list="persons"), timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert refused.value.details() == f"list 'persons' is not granted to {a.name} (granted: documents)"
        with pytest.raises(grpc.RpcError) as refused:
            client.stub.QueryHit(fpb.HitQuery(query_id=str(uuid.uuid4()), person=fpb.PersonSubject(surname="X")),
                                 timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        client.close()
    [row, *_] = b.rows(m.AuditEntry, m.AuditEntry.action.in_(["FederationListDelta", "FederationQueryHit"]),
                      m.AuditEntry.outcome.startswith("PERMISSION_DENIED"))
    assert row["station"] == f"partner:{a.name}" and "not granted" in row["outcome"]


def test_a_central_not_in_the_trust_configuration_gets_no_connection(federation, tmp_path):
    a, b, *_ = federation
    stranger = make_side(tmp_path, "C")  # its own CA, which B's trust file does not name
    stranger.write_trust(b)
    config = trust.load(stranger.trust)
    client = PartnerClient(config, config.partner(b.name))
    try:
        with pytest.raises(grpc.RpcError) as refused:
            client.stub.QueryHit(fpb.HitQuery(query_id=str(uuid.uuid4()),
                                              document=fpb.DocumentSubject(number="B7000001")), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE  # refused at the handshake
    finally:
        client.close()
    assert not b.rows(m.AuditEntry, m.AuditEntry.station == f"partner:{stranger.name}")


def test_a_hit_at_our_gate_on_a_partners_alert_is_told_to_its_owner_within_60_s(federation):
    a, b, shared, _ = federation
    wait_for(lambda: a.rows(m.FederatedAlert), 20, "the first delta at A")
    database = a.database()
    database.run(lambda s: access.grant(s, access.Kind.STATION, "A-GATE-1", access.Role.GATE))
    database.dispose()
    checked_at = dt.datetime.now(dt.timezone.utc)
    with open_channel(a.central_address, a.pki.station("A-GATE-1")) as channel:
        answer = central_pb2_grpc.CentralStub(channel).CheckDocument(
            pb.CheckDocumentRequest(document_number="B7000001"), timeout=20)
    [hit] = answer.hits
    assert (hit.alert_id, hit.owning_agency, hit.handling_instruction, hit.reason) == (
        shared, "LIMES-B/B-POLICE", "seize the document, call B police", pb.DocumentAlert.STOLEN)
    notice = wait_for(lambda: b.rows(m.HitNotice, m.HitNotice.place == "A-GATE-1"), 60, "B's notice")[0]
    assert (notice["owning_agency"], notice["partner"], notice["place"]) == ("B-POLICE", a.name, "A-GATE-1")
    assert abs(notice["occurred_at"].replace(tzinfo=dt.timezone.utc) - checked_at) < dt.timedelta(seconds=60)
    assert notice["noticed_at"].replace(tzinfo=dt.timezone.utc) - checked_at < dt.timedelta(seconds=60)
    # A marks its outbox row sent once B's answer is back, a moment after B wrote the notice.
    [sent] = wait_for(lambda: [r for r in a.rows(m.FederationOutbox) if r["sent_at"] is not None], 10,
                      "A's outbox row marked sent")
    assert sent["last_error"] == "" and len(a.rows(m.FederationOutbox)) == 1
    assert b.rows(m.AuditEntry, m.AuditEntry.action == "FederationNotifyHit")[0]["station"] == f"partner:{a.name}"
