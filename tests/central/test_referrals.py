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
        station_id=crossing.station_id, reasons=["face score below threshold"]))


def decide(stub, referral_id: str, decision, reason: str = "", officer: str = "officer-17") -> pb.Referral:
    """The decision of `officer`, over that user's certificate (the author is the caller, not a field)."""
    return stub.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, decision=decision,
                                                        reason=reason, note="interviewed"),
                               metadata=(("x-limes-user", officer),))


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
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="chief-2", role="supervisor")))
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


def test_the_officer_queue_lists_waiting_referrals_oldest_first(stub, crossing):
    first = open_referral(stub, crossing)
    elsewhere = crossing_request(station_id="MUC-G1", border_point="MUC-T2", decision=pb.Crossing.REFER)
    stub.RecordCrossing(elsewhere)
    second = open_referral(stub, elsewhere)
    decided = open_referral(stub, crossing)
    decide(stub, decided.referral_id, pb.Referral.ADMITTED)
    decide(stub, second.referral_id, pb.Referral.ESCALATED, "second opinion")

    waiting = stub.ListReferrals(pb.ListReferralsRequest()).referrals
    assert [r.referral_id for r in waiting] == [first.referral_id, second.referral_id]
    at_fra = stub.ListReferrals(pb.ListReferralsRequest(border_point="FRA-T1")).referrals
    assert [r.referral_id for r in at_fra] == [first.referral_id]
    admitted = stub.ListReferrals(pb.ListReferralsRequest(status=pb.Referral.ADMITTED)).referrals
    assert [r.referral_id for r in admitted] == [decided.referral_id]
    assert len(stub.ListReferrals(pb.ListReferralsRequest(limit=1)).referrals) == 1


def test_list_referrals_refuses_bad_arguments(stub):
    for request, field in (
        (pb.ListReferralsRequest(limit=1001), "limit"),
        (pb.ListReferralsRequest(status=9), "status"),
    ):
        with pytest.raises(grpc.RpcError) as error:
            stub.ListReferrals(request)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error.value.details().startswith(field)


def test_get_crossing(stub, crossing):
    found = stub.GetCrossing(pb.GetCrossingRequest(crossing_id=crossing.crossing_id))
    assert (found.crossing_id, found.decision, found.document.issuing_state) == (
        crossing.crossing_id, pb.Crossing.REFER, "DEU")
    assert list(found.checks) == list(crossing.checks)
    with pytest.raises(grpc.RpcError) as error:
        stub.GetCrossing(pb.GetCrossingRequest(crossing_id=str(uuid.uuid4())))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
