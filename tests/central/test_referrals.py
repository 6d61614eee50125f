"""OpenReferral and RecordDecision: idempotency, the decision flow, refused transitions."""
from __future__ import annotations

import uuid

import grpc
import pytest

from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request


@pytest.fixture
def crossing(stub) -> pb.RecordCrossingRequest:
    request = crossing_request(decision=pb.Crossing.REFER, reasons=["face score below threshold"])
    stub.RecordCrossing(request, metadata=GATE_METADATA)
    return request


def open_referral(stub, crossing, referral_id: str | None = None) -> pb.Referral:
    return stub.OpenReferral(pb.OpenReferralRequest(
        referral_id=referral_id or str(uuid.uuid4()), crossing_id=crossing.crossing_id,
        station_id=crossing.station_id, reasons=["face score below threshold"]), metadata=GATE_METADATA)


def decide(stub, referral_id: str, decision, reason: str = "", officer: str = "officer-17") -> pb.Referral:
    return stub.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, officer=officer, decision=decision,
                                                        reason=reason, note="interviewed"))


def test_open_referral_is_idempotent(stub, crossing):
    referral_id = str(uuid.uuid4())
    first = open_referral(stub, crossing, referral_id)
    again = open_referral(stub, crossing, referral_id)
    assert first == again
    assert (first.status, first.crossing_id, list(first.reasons)) == (
        pb.Referral.OPEN, crossing.crossing_id, ["face score below threshold"])
    assert first.opened_at.endswith("Z")


def test_referral_of_an_unknown_crossing_is_not_found(stub):
    with pytest.raises(grpc.RpcError) as error:
        stub.OpenReferral(pb.OpenReferralRequest(referral_id=str(uuid.uuid4()), crossing_id=str(uuid.uuid4()),
                                                 station_id="FRA-T1-G03"))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_referral_id_cannot_move_to_another_crossing(stub, crossing):
    referral = open_referral(stub, crossing)
    other = crossing_request()
    stub.RecordCrossing(other)
    with pytest.raises(grpc.RpcError) as error:
        open_referral(stub, other, referral.referral_id)
    assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS


def test_escalation_then_admission(stub, crossing):
    referral = open_referral(stub, crossing)
    escalated = decide(stub, referral.referral_id, pb.Referral.ESCALATED, "second opinion")
    assert escalated.status == pb.Referral.ESCALATED
    admitted = decide(stub, referral.referral_id, pb.Referral.ADMITTED, officer="chief-2")
    assert admitted.status == pb.Referral.ADMITTED
    assert [(d.officer, d.decision) for d in admitted.decisions] == [
        ("officer-17", pb.Referral.ESCALATED), ("chief-2", pb.Referral.ADMITTED)]


def test_a_final_decision_is_final_but_its_retry_is_harmless(stub, crossing):
    referral = open_referral(stub, crossing)
    refused = decide(stub, referral.referral_id, pb.Referral.REFUSED, "Art. 6(1)(e) SBC")
    assert decide(stub, referral.referral_id, pb.Referral.REFUSED, "Art. 6(1)(e) SBC") == refused
    with pytest.raises(grpc.RpcError) as error:
        decide(stub, referral.referral_id, pb.Referral.ADMITTED)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize("decision, reason, field", [
    (pb.Referral.REFUSED, "", "reason"),
    (pb.Referral.OPEN, "", "decision"),
    (pb.Referral.STATUS_UNSPECIFIED, "", "decision"),
    (12, "", "decision"),
])
def test_bad_decisions_are_invalid(stub, crossing, decision, reason, field):
    referral = open_referral(stub, crossing)
    with pytest.raises(grpc.RpcError) as error:
        decide(stub, referral.referral_id, decision, reason)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith(field)


def test_decision_on_unknown_referral_is_not_found(stub):
    with pytest.raises(grpc.RpcError) as error:
        decide(stub, str(uuid.uuid4()), pb.Referral.ADMITTED)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_refusal_raises_the_risk_of_the_next_crossing(stub, crossing):
    referral = open_referral(stub, crossing)
    decide(stub, referral.referral_id, pb.Referral.REFUSED, "Art. 6(1)(e) SBC")
    later = stub.RecordCrossing(crossing_request(occurred_at="2026-12-01T09:00:00Z"))
    assert "previous_refusal" in later.risk_rules_fired
    assert later.risk_score >= 0.5
