"""The officer desk at central (limes.v1.Desk): sessions bound to the desk, the officer as the author of
every decision (never a name the desk sends), refusals with a ground, referrals into the web desk's queue,
and the travellers a gate hands to the counter."""
from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from sqlalchemy import func, select

from central.access.audit import Caller
from central.access.roles import AccessPolicy, Kind, Role
from central.database import models as m
from central.database.engine import Database
from central.database.models import utcnow
from central.web.accounts import set_password
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc, desk_pb2, desk_pb2_grpc

from .conftest import crossing_request, serve_central

DESK, OTHER_DESK, GATE = "FRA-T1-D01", "FRA-T1-D02", "FRA-T1-G03"
PASSWORDS = {"officer-17": "correct horse battery", "officer-18": "staple battery horse",
             "analyst-1": "numbers only please"}
ACCESS = AccessPolicy(bootstrap={
    (Kind.STATION, DESK): (Role.DESK,), (Kind.STATION, OTHER_DESK): (Role.DESK,), (Kind.STATION, GATE): (Role.GATE,),
    (Kind.USER, "officer-17"): (Role.OFFICER,), (Kind.USER, "officer-18"): (Role.OFFICER,),
    (Kind.USER, "analyst-1"): (Role.ANALYST,), (Kind.USER, "tester"): (Role.OFFICER,),
})


@pytest.fixture
def post(database_url, dev_pki):
    server, central = serve_central(database_url, dev_pki, access=ACCESS)
    database = Database(database_url)

    def accounts(session):
        for user, password in PASSWORDS.items():
            set_password(session, Caller("test", "test"), user, password, utcnow())
    database.run(accounts)
    yield central, database
    database.dispose()
    central.close()
    server.stop(None)


def desk(central, station: str = DESK):
    return desk_pb2_grpc.DeskStub(central.channel(station=station))


def sign_in(central, user: str = "officer-17", station: str = DESK) -> str:
    return desk(central, station).OpenOfficerSession(
        desk_pb2.OpenOfficerSessionRequest(user_name=user, password=PASSWORDS[user])).token


def decision(token: str, kind, station: str = DESK, **fields) -> desk_pb2.DeskDecisionRequest:
    crossing = crossing_request(station_id=station,
                                occurred_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    return desk_pb2.DeskDecisionRequest(session_token=token, crossing=crossing, decision=kind, **fields)


def referral(central, referral_id: str) -> pb.Referral:
    return central_pb2_grpc.CentralStub(central.channel()).GetReferral(pb.GetReferralRequest(referral_id=referral_id))


def test_an_admission_is_recorded_with_the_signed_in_officer_as_its_author(post):
    central, _ = post
    token = sign_in(central)
    done = desk(central).RecordDeskDecision(decision(token, desk_pb2.DeskDecisionRequest.ADMIT))
    assert (done.officer, done.status) == ("officer-17", pb.Referral.ADMITTED)
    stored = referral(central, done.referral_id)
    assert [(d.officer, d.decision) for d in stored.decisions] == [("officer-17", pb.Referral.ADMITTED)]
    crossing = central_pb2_grpc.CentralStub(central.channel()).GetCrossing(
        pb.GetCrossingRequest(crossing_id=done.crossing_id))
    assert crossing.decision == pb.Crossing.OPEN
    assert any("officer officer-17 decided admit" in line for line in crossing.reasons)


def test_a_wrong_password_opens_no_session_and_a_user_without_an_officer_role_neither(post):
    central, _ = post
    with pytest.raises(grpc.RpcError) as wrong:
        desk(central).OpenOfficerSession(desk_pb2.OpenOfficerSessionRequest(user_name="officer-17",
                                                                            password="not the password"))
    assert wrong.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as analyst:
        sign_in(central, "analyst-1")
    assert analyst.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_forged_actor_is_refused_and_nothing_is_recorded(post):
    """The desk cannot name someone else: a user header that is not the session's officer is refused (the
    certificate is the desk's own); nor can another desk use this desk's session, nor anyone decide without one."""
    central, database = post
    token = sign_in(central)
    forged = decision(token, desk_pb2.DeskDecisionRequest.ADMIT)
    with pytest.raises(grpc.RpcError) as named:  # a user header naming someone else than the certificate
        desk(central).RecordDeskDecision(forged, metadata=(("x-limes-user", "officer-18"),))
    assert named.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as stolen:  # this desk's session used by another desk
        desk(central, OTHER_DESK).RecordDeskDecision(decision(token, desk_pb2.DeskDecisionRequest.ADMIT,
                                                              station=OTHER_DESK))
    assert stolen.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "opened at desk" in stolen.value.details()
    with pytest.raises(grpc.RpcError) as none:
        desk(central).RecordDeskDecision(decision("made-up-token", desk_pb2.DeskDecisionRequest.ADMIT))
    assert none.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as for_another:  # a crossing in another station's name
        desk(central).RecordDeskDecision(decision(token, desk_pb2.DeskDecisionRequest.ADMIT, station=OTHER_DESK))
    assert for_another.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert database.read(lambda s: s.scalar(select(func.count()).select_from(m.Crossing))) == 0
    refusals = database.read(lambda s: list(s.scalars(select(m.AuditEntry.outcome).where(
        m.AuditEntry.action == "RecordDeskDecision"))))
    assert len(refusals) == 4 and all(r.startswith("PERMISSION_DENIED") for r in refusals)


def test_a_session_ends_with_sign_out(post):
    central, _ = post
    token = sign_in(central)
    desk(central).CloseOfficerSession(desk_pb2.CloseOfficerSessionRequest(token=token))
    with pytest.raises(grpc.RpcError) as ended:
        desk(central).RecordDeskDecision(decision(token, desk_pb2.DeskDecisionRequest.ADMIT))
    assert ended.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_refusal_needs_a_ground_of_the_standard_form(post):
    central, _ = post
    token = sign_in(central)
    with pytest.raises(grpc.RpcError) as no_ground:
        desk(central).RecordDeskDecision(decision(token, desk_pb2.DeskDecisionRequest.REFUSE, refusal_ground="K"))
    assert no_ground.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    done = desk(central).RecordDeskDecision(decision(token, desk_pb2.DeskDecisionRequest.REFUSE,
                                                     refusal_ground="f", note="91 days used"))
    stored = referral(central, done.referral_id)
    assert stored.status == pb.Referral.REFUSED
    assert stored.decisions[0].reason.startswith("F: has already stayed for 90 days")
    assert stored.decisions[0].officer == "officer-17"


def test_a_referral_to_secondary_waits_in_the_web_desks_queue(post):
    central, _ = post
    token = sign_in(central, "officer-18")
    request = decision(token, desk_pb2.DeskDecisionRequest.REFER, manual_entry=True, note="visa stamp unclear")
    done = desk(central).RecordDeskDecision(request)
    again = desk(central).RecordDeskDecision(request)  # sent twice by the outbox: recorded once
    assert again.referral_id == done.referral_id and done.status == pb.Referral.OPEN
    queue = central_pb2_grpc.CentralStub(central.channel()).ListReferrals(pb.ListReferralsRequest())
    assert [r.referral_id for r in queue.referrals] == [done.referral_id]
    reasons = list(queue.referrals[0].reasons)
    assert any("officer officer-18 decided refer" in r for r in reasons)
    assert "MRZ entered by hand by the officer" in reasons


def test_a_traveller_the_gate_could_not_identify_waits_at_the_counter_until_a_desk_settles_it(post):
    central, _ = post
    case_id = str(uuid.uuid4())
    hand = desk_pb2.HandToCounterRequest(case_id=case_id, station_id=GATE, border_point="FRA-T1",
                                         occurred_at="2026-11-25T07:00:00Z", reasons=["mrz.valid: unreadable"])
    desk(central, GATE).HandToCounter(hand)
    desk(central, GATE).HandToCounter(hand)  # the gate's outbox may send it twice
    token = sign_in(central)
    waiting = desk(central).ListCounterCases(desk_pb2.ListCounterCasesRequest(session_token=token,
                                                                              border_point="FRA-T1"))
    assert [(c.case_id, list(c.reasons)) for c in waiting.cases] == [(case_id, ["mrz.valid: unreadable"])]
    done = desk(central).RecordDeskDecision(decision(token, desk_pb2.DeskDecisionRequest.ADMIT, manual_entry=True,
                                                     counter_case_id=case_id))
    assert done.status == pb.Referral.ADMITTED
    left = desk(central).ListCounterCases(desk_pb2.ListCounterCasesRequest(session_token=token))
    assert list(left.cases) == []  # the desk is now registered at FRA-T1: its point stands


def test_a_gate_cannot_hand_over_in_another_stations_name(post):
    central, _ = post
    with pytest.raises(grpc.RpcError) as error:
        desk(central, GATE).HandToCounter(desk_pb2.HandToCounterRequest(
            case_id=str(uuid.uuid4()), station_id="FRA-T1-G99", border_point="FRA-T1",
            occurred_at="2026-11-25T07:00:00Z"))
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_desk_reads_history_for_the_officer_who_is_audited_as_the_reader(post):
    central, database = post
    token = sign_in(central)
    done = desk(central).RecordDeskDecision(decision(token, desk_pb2.DeskDecisionRequest.ADMIT))
    history = desk(central).DeskHistory(desk_pb2.DeskHistoryRequest(
        session_token=token, document=pb.TravelDocument(number="C01X00T47", issuing_state="D")))
    assert [c.crossing_id for c in history.crossings] == [done.crossing_id]
    readers = database.read(lambda s: list(s.execute(select(m.AuditEntry.station, m.AuditEntry.user_name).where(
        m.AuditEntry.action.like("%History%")))))
    assert readers and all(tuple(r) == (DESK, "officer-17") for r in readers)


def test_two_desks_at_one_point_each_see_the_gates_case_and_decide_as_their_own_station_and_officer(post):
    """Several desks and a gate share a border point: what the gate hands to the counter waits at every
    desk of the point until one settles it, and each desk's decision carries its station and its officer."""
    central, _ = post
    first, second = sign_in(central, "officer-17", DESK), sign_in(central, "officer-18", OTHER_DESK)
    case_id = str(uuid.uuid4())
    desk(central, GATE).HandToCounter(desk_pb2.HandToCounterRequest(
        case_id=case_id, station_id=GATE, border_point="FRA-T1", occurred_at="2026-11-25T07:00:00Z",
        reasons=["mrz.valid: unreadable"]))

    def waiting(token, station):
        listed = desk(central, station).ListCounterCases(desk_pb2.ListCounterCasesRequest(
            session_token=token, border_point="FRA-T1"))
        return [(c.case_id, c.station_id) for c in listed.cases]
    assert waiting(first, DESK) == waiting(second, OTHER_DESK) == [(case_id, GATE)]

    settled = desk(central, OTHER_DESK).RecordDeskDecision(decision(
        second, desk_pb2.DeskDecisionRequest.ADMIT, station=OTHER_DESK, manual_entry=True, counter_case_id=case_id))
    admitted = desk(central).RecordDeskDecision(decision(first, desk_pb2.DeskDecisionRequest.ADMIT))
    assert waiting(first, DESK) == waiting(second, OTHER_DESK) == []  # settled once, at the second desk

    stub = central_pb2_grpc.CentralStub(central.channel())
    for done, station, officer in ((settled, OTHER_DESK, "officer-18"), (admitted, DESK, "officer-17")):
        assert done.officer == officer
        stored = referral(central, done.referral_id)
        assert stored.station_id == station
        assert [(d.officer, d.decision) for d in stored.decisions] == [(officer, pb.Referral.ADMITTED)]
        crossing = stub.GetCrossing(pb.GetCrossingRequest(crossing_id=done.crossing_id))
        assert crossing.station_id == station
        assert any(f"officer {officer} decided admit" in line for line in crossing.reasons)
