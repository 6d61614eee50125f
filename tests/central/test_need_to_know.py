"""Need to know between agencies (central.access.scope) on the gRPC path: owned alerts, hit-only disclosure,
gate deltas and the gate's offline cache, referrals by agency and border point; refusals audited."""
from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from central.access import roles as access
from central.access import scope
from central.access.audit import Caller
from central.database.engine import Database
from edge.alert_cache import AlertCache
from proto.limes.v1 import central_pb2 as pb

from .conftest import crossing_request
from .test_access import audit_rows

POLICE, CUSTOMS = "BPOL", "CUSTOMS"
POLICE_GATE, CUSTOMS_GATE = "FRA-T1-G03", "FRA-T1-G09"
CONDITIONS = "police only: refer to the duty officer, do not tell the traveller"


def as_user(name: str):
    return (("x-limes-user", name),)


def as_gate(name: str):
    return (("x-limes-station", name),)


@pytest.fixture
def agencies(central, database_url):
    """Two agencies: the police (a gate, an administrator, an officer) and customs (the same three)."""
    database = Database(database_url)
    cli = Caller("cli", "test")

    def work(session):
        for kind, name, role, agency in (
                (access.Kind.STATION, POLICE_GATE, access.Role.GATE, POLICE),
                (access.Kind.STATION, CUSTOMS_GATE, access.Role.GATE, CUSTOMS),
                (access.Kind.USER, "police-admin", access.Role.ADMINISTRATOR, POLICE),
                (access.Kind.USER, "customs-admin", access.Role.ADMINISTRATOR, CUSTOMS),
                (access.Kind.USER, "police-officer", access.Role.OFFICER, POLICE),
                (access.Kind.USER, "customs-officer", access.Role.OFFICER, CUSTOMS)):
            access.grant(session, kind, name, role)
            scope.set_scope(session, cli, kind, name, agency)
        access.grant(session, access.Kind.USER, "police-officer-elsewhere", access.Role.OFFICER)
        scope.set_scope(session, cli, access.Kind.USER, "police-officer-elsewhere", POLICE, ("MUC-T2",))
    database.run(work)
    database.dispose()
    return central.stub()


def police_alert(stub, number: str, handling: str = "C") -> pb.DocumentAlert:
    return stub.AddDocumentAlert(pb.AddDocumentAlertRequest(
        document_number=number, reason=pb.DocumentAlert.STOLEN, handling_instruction="seize the document",
        handling_code=handling, handling_conditions=CONDITIONS if handling == "C" else ""),
        metadata=as_user("police-admin"))


def test_the_owner_is_the_issuing_callers_agency(agencies):
    alert = police_alert(agencies, "P1000001")
    assert (alert.owning_agency, alert.handling_code, alert.classification) == (POLICE, "C", "OFFICIAL")


def test_a_c_alert_of_another_agency_hits_with_its_fact_and_handling_only(agencies, database_url):
    alert = police_alert(agencies, "P1000002")
    own = agencies.CheckDocument(pb.CheckDocumentRequest(document_number="P1000002"), metadata=as_gate(POLICE_GATE))
    other = agencies.CheckDocument(pb.CheckDocumentRequest(document_number="P1000002"),
                                   metadata=as_gate(CUSTOMS_GATE))
    [full], [bare] = own.hits, other.hits
    assert (full.hit_only, full.reason, full.document_number) == (False, pb.DocumentAlert.STOLEN, "P1000002")
    assert (bare.hit_only, bare.alert_id, bare.owning_agency, bare.handling_instruction) == (
        True, alert.alert_id, POLICE, "seize the document")
    assert (bare.reason, bare.document_number, bare.issuing_agency) == (pb.DocumentAlert.REASON_UNSPECIFIED, "", "")
    last = audit_rows(database_url)[-1]
    assert (last.station, last.action) == (CUSTOMS_GATE, "CheckDocument")
    assert last.outcome == "1 hit(s), 1 disclosed as hit only (need to know)"


def test_a_p_alert_of_another_agency_is_seen_in_full(agencies):
    police_alert(agencies, "P1000003", handling="P")
    [hit] = agencies.CheckDocument(pb.CheckDocumentRequest(document_number="P1000003"),
                                   metadata=as_gate(CUSTOMS_GATE)).hits
    assert not hit.hit_only and hit.document_number == "P1000003"


def test_another_agency_may_not_withdraw_or_change_an_alert_and_the_refusal_is_audited(agencies, database_url):
    alert = police_alert(agencies, "P1000004", handling="P")
    with pytest.raises(grpc.RpcError) as refused:
        agencies.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=alert.alert_id, reason="not ours"),
                               metadata=as_user("customs-admin"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"belongs to {POLICE}, not to {CUSTOMS}" in refused.value.details()
    last = audit_rows(database_url)[-1]
    assert (last.user_name, last.action, last.purpose) == ("customs-admin", "WithdrawAlert", "access control")
    assert last.outcome.startswith("PERMISSION_DENIED")
    done = agencies.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=alert.alert_id, reason="found"),
                                  metadata=as_user("police-admin"))
    assert done.alert_id == alert.alert_id


def test_a_gates_delta_and_offline_cache_keep_only_what_its_agency_may_hold(agencies, tmp_path, database_url):
    kept = police_alert(agencies, "P1000005", handling="P")
    withheld = police_alert(agencies, "P1000006", handling="C")

    def fetch(since: int, limit: int):
        return agencies.AlertDelta(pb.AlertDeltaRequest(since_version=since, limit=limit),
                                   metadata=as_gate(CUSTOMS_GATE))
    delta = fetch(0, 100)
    by_id = {a.alert_id: a for a in delta.document_alerts}
    assert by_id[withheld.alert_id].withdrawn and by_id[withheld.alert_id].document_number == ""
    assert not by_id[kept.alert_id].withdrawn
    assert "1 withheld (need to know)" in audit_rows(database_url)[-1].outcome
    cache = AlertCache(tmp_path / "gate.sqlite", fetch)
    try:
        cache.refresh()
        today = dt.date.today()
        assert [h.alert_id for h in cache.check_document("P1000005", "", "", today)] == [kept.alert_id]
        assert cache.check_document("P1000006", "", "", today) == []
        assert len(cache) == 1
    finally:
        cache.close()


def referral_at(stub, gate: str, border_point: str) -> str:
    crossing = crossing_request(station_id=gate, border_point=border_point, decision=pb.Crossing.REFER)
    stub.RecordCrossing(crossing, metadata=as_gate(gate))
    referral_id = str(uuid.uuid4())
    stub.OpenReferral(pb.OpenReferralRequest(referral_id=referral_id, crossing_id=crossing.crossing_id,
                                             station_id=gate, reasons=["face"]), metadata=as_gate(gate))
    return referral_id


def test_referrals_are_seen_by_their_agency_at_its_border_points(agencies, database_url):
    referral_id = referral_at(agencies, POLICE_GATE, "FRA-T1")
    found = agencies.GetReferral(pb.GetReferralRequest(referral_id=referral_id), metadata=as_user("police-officer"))
    assert found.referral_id == referral_id
    for stranger in ("customs-officer", "police-officer-elsewhere"):
        with pytest.raises(grpc.RpcError) as refused:
            agencies.GetReferral(pb.GetReferralRequest(referral_id=referral_id), metadata=as_user(stranger))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "is not yours to see" in refused.value.details()
        last = audit_rows(database_url)[-1]
        assert (last.user_name, last.action) == (stranger, "GetReferral")
        assert last.outcome.startswith("PERMISSION_DENIED")
    listed = {r.referral_id for r in agencies.ListReferrals(pb.ListReferralsRequest(),
                                                             metadata=as_user("police-officer")).referrals}
    assert referral_id in listed
    for stranger in ("customs-officer", "police-officer-elsewhere"):
        assert not agencies.ListReferrals(pb.ListReferralsRequest(), metadata=as_user(stranger)).referrals


def test_a_record_classified_above_the_clearance_hits_only(agencies, database_url):
    secret = pb.AddDocumentAlertRequest(document_number="P1000007", reason=pb.DocumentAlert.LOST,
                                        classification="SECRET")
    with pytest.raises(grpc.RpcError) as refused:  # nobody issues above their own clearance
        agencies.AddDocumentAlert(secret, metadata=as_user("police-admin"))
    assert refused.value.details() == "AddDocumentAlert: classification SECRET is above your clearance OFFICIAL"
    database = Database(database_url)
    database.run(lambda s: scope.set_scope(s, Caller("cli", "test"), access.Kind.USER, "police-admin", POLICE,
                                           (), "SECRET"))
    database.dispose()
    agencies.AddDocumentAlert(secret, metadata=as_user("police-admin"))
    [hit] = agencies.CheckDocument(pb.CheckDocumentRequest(document_number="P1000007"),
                                   metadata=as_gate(POLICE_GATE)).hits
    assert hit.hit_only


@pytest.mark.parametrize("code, conditions, problem", [
    ("X", "", "'X' is not P or C"), ("C", "", "handling code C needs its conditions recorded"),
    ("P", "only us", "handling code P carries no conditions")])
def test_a_malformed_handling_code_is_refused(agencies, code, conditions, problem):
    with pytest.raises(grpc.RpcError) as refused:
        agencies.AddDocumentAlert(pb.AddDocumentAlertRequest(
            document_number="P1000008", reason=pb.DocumentAlert.LOST, handling_code=code,
            handling_conditions=conditions), metadata=as_user("police-admin"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and problem in refused.value.details()


def test_sight_rules():
    police = scope.Scope(POLICE)
    assert scope.sight(police, "")[0] is scope.Sight.FULL
    assert scope.sight(police, POLICE, "C")[0] is scope.Sight.FULL
    assert scope.sight(police, CUSTOMS, "P")[0] is scope.Sight.FULL
    assert scope.sight(police, CUSTOMS, "C")[0] is scope.Sight.HIT_ONLY
    assert scope.sight(police, POLICE, "P", "SECRET")[0] is scope.Sight.HIT_ONLY
    assert scope.sight(scope.Scope(POLICE, frozenset({"MUC-T2"})), POLICE, "P", border_point="FRA-T1")[0] \
        is scope.Sight.NONE
