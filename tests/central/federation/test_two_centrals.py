"""Two central processes with separate CAs on loopback: hit/no-hit, the owner's notice, subscriptions with
incremental deltas, and refusals of an untrusted partner and of a list not granted."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import grpc
import pytest

from central.access.audit import Caller
from central.alerts import lists as alert_lists
from central.database import models as m
from central.federation import trust
from central.federation.service import PartnerClient
from limes.cli import main
from proto.limes.v1 import federation_pb2 as fpb

from .conftest import make_side, wait_for


@pytest.fixture
def federation(sides, running):
    """A and B running; B grants A its documents list (P alerts only), A subscribes to it."""
    a, b = sides
    a.write_trust(b, lists=("documents",), subscribe=("documents",))
    b.write_trust(a, lists=("documents",), subscribe=())
    shared = b.issue(number="B7000001", instruction="seize the document, call B police")
    withheld = b.issue(number="B7000002", handling="C")
    running(b, a)
    return a, b, shared, withheld


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
    notice = wait_for(lambda: b.rows(m.HitNotice, m.HitNotice.alert_id == shared), 60, "the owner's notice")[0]
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
    held = wait_for(lambda: a.rows(m.FederatedAlert), 20, "the first delta at A")
    assert [r["alert_id"] for r in held] == [shared]  # the C alert stays at B
    assert held[0]["content"]["document_number"] == "B7000001" and held[0]["match_key"] == "B7000001"
    later = b.issue(number="B7000003")
    database = b.database()
    database.run(lambda s: alert_lists.withdraw_alert(s, Caller("cli", "b-admin"), shared, "found again"))
    database.dispose()
    wait_for(lambda: [r["alert_id"] for r in a.rows(m.FederatedAlert)] == [later], 20, "the next delta at A")
    takes = [r["outcome"] for r in a.rows(m.AuditEntry, m.AuditEntry.action == "FederationTakeDelta")]
    assert any(outcome.startswith("2 change(s) by subscription") for outcome in takes), takes
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
    [row, _] = b.rows(m.AuditEntry, m.AuditEntry.action.in_(["FederationListDelta", "FederationQueryHit"]),
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
    assert not b.rows(m.HitNotice)
