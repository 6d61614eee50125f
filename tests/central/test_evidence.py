"""A referral's evidence over gRPC: stored, left out when unusable, read back by the gate, purged."""
from __future__ import annotations

import datetime as dt
import io
import uuid

import grpc
import pytest
from PIL import Image
from sqlalchemy import func, select

from central.access.retention import RetentionPolicy, purge
from central.database import models as m
from central.database.engine import Database
from central.records import evidence
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request


def jpeg(size=(40, 50)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(out, format="JPEG")
    return out.getvalue()


def refer(stub, evidence_message: pb.ReferralEvidence | None, occurred_at="2026-11-25T07:00:00Z") -> str:
    request = crossing_request(decision=pb.Crossing.REFER, occurred_at=occurred_at)
    stub.RecordCrossing(request, metadata=GATE_METADATA)
    referral = pb.OpenReferralRequest(referral_id=request.crossing_id, crossing_id=request.crossing_id,
                                      station_id="FRA-T1-G03", reasons=["face.verification: no match"])
    if evidence_message is not None:
        referral.evidence.CopyFrom(evidence_message)
    stub.OpenReferral(referral, metadata=GATE_METADATA)
    return request.crossing_id


def stored(database_url: str, referral_id: str):
    database = Database(database_url)
    try:
        def read(session):
            referral = session.scalar(select(m.Referral).where(m.Referral.referral_id == referral_id))
            images = evidence.referral_images(session, referral)
            return referral.reasons, referral.watchlist_candidates, {k.value: v.jpeg for k, v in images.items()}
        return database.run(read)
    finally:
        database.dispose()


def test_evidence_is_stored_with_the_referral(stub, database_url):
    live, chip = jpeg(), jpeg((30, 40))
    referral_id = refer(stub, pb.ReferralEvidence(
        live_capture_jpeg=live, chip_photo_jpeg=chip,
        watchlist_candidates=[pb.WatchlistCandidate(gallery="watchlist", subject_id="PA-1", score=0.91)]))
    reasons, candidates, images = stored(database_url, referral_id)
    assert images == {"LIVE": live, "CHIP": chip}
    assert candidates == [{"gallery": "watchlist", "subject_id": "PA-1", "score": pytest.approx(0.91)}]
    assert reasons == ["face.verification: no match"]


def test_a_referral_without_evidence_is_stored_as_before(stub, database_url):
    referral_id = refer(stub, None)
    assert stored(database_url, referral_id) == (["face.verification: no match"], [], {})


def test_unusable_evidence_is_left_out_and_said_so(stub, database_url):
    png = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png, format="PNG")
    referral_id = refer(stub, pb.ReferralEvidence(
        live_capture_jpeg=b"<html><script>alert(1)</script>", chip_photo_jpeg=png.getvalue(),
        watchlist_candidates=[pb.WatchlistCandidate(subject_id="PA-2", score=7.0),
                              pb.WatchlistCandidate(subject_id="", score=0.5),
                              pb.WatchlistCandidate(subject_id="PA-3", score=0.7)]))
    reasons, candidates, images = stored(database_url, referral_id)
    assert images == {}
    assert [c["subject_id"] for c in candidates] == ["PA-3"]
    assert any("live capture was not kept: not a readable JPEG" in r for r in reasons)
    assert any("chip photo was not kept: a PNG image, not a JPEG" in r for r in reasons)
    assert sum("watchlist candidate was not kept" in r for r in reasons) == 2


def test_oversized_images_are_refused():
    with pytest.raises(evidence.ImageRefused, match="more than"):
        evidence.jpeg_size(b"\xff\xd8" + bytes(evidence.MAX_JPEG_BYTES))


def test_a_token_is_the_only_way_to_an_image(database_url):
    database = Database(database_url)
    database.migrate()
    try:
        for token in ("", "../../etc/passwd", "a" * 42, "a" * 44, "1", "%2e%2e%2f" * 5):
            assert database.run(lambda s: evidence.image_by_token(s, token)) is None
    finally:
        database.dispose()


def test_the_gate_reads_back_the_decision_on_its_own_referral_only(stub):
    referral_id = refer(stub, None)
    decided = stub.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, officer="officer-17",
                                                           decision=pb.Referral.ADMITTED, note="ok"),
                                  metadata=(("x-limes-user", "officer-17"),))
    assert decided.status == pb.Referral.ADMITTED
    gate = stub  # each call under the certificate of the station its metadata names
    seen = gate.GetReferral(pb.GetReferralRequest(referral_id=referral_id), metadata=GATE_METADATA)
    assert seen.status == pb.Referral.ADMITTED and seen.decisions[0].officer == "officer-17"
    other_gate = (("x-limes-station", "OTHER-GATE"),)
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="station", name="OTHER-GATE", role="gate")))
    with pytest.raises(grpc.RpcError) as refused:
        gate.GetReferral(pb.GetReferralRequest(referral_id=referral_id), metadata=other_gate)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as missing:
        gate.GetReferral(pb.GetReferralRequest(referral_id=str(uuid.uuid4())), metadata=GATE_METADATA)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_an_escalated_referral_is_decided_by_a_supervisor_only(stub):
    referral_id = refer(stub, None)
    officer = (("x-limes-user", "officer-17"),)
    gate = stub  # each call under the certificate of the user its metadata names
    gate.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, officer="officer-17",
                                                 decision=pb.Referral.ESCALATED, note="unsure"), metadata=officer)
    with pytest.raises(grpc.RpcError) as refused:
        gate.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, officer="officer-17",
                                                     decision=pb.Referral.ADMITTED), metadata=officer)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED and "supervisor" in refused.value.details()
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="chief-2", role="supervisor")))
    final = gate.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, officer="chief-2",
                                                         decision=pb.Referral.ADMITTED),
                                metadata=(("x-limes-user", "chief-2"),))
    assert final.status == pb.Referral.ADMITTED


def test_purge_deletes_the_photos_after_the_evidence_period(stub, database_url):
    old = refer(stub, pb.ReferralEvidence(live_capture_jpeg=jpeg(), watchlist_candidates=[
        pb.WatchlistCandidate(subject_id="PA-1", score=0.9)]), occurred_at="2026-10-01T07:00:00Z")
    recent = refer(stub, pb.ReferralEvidence(live_capture_jpeg=jpeg()), occurred_at="2026-11-24T07:00:00Z")
    database = Database(database_url)
    try:
        report = database.run(lambda s: purge(s, dt.date(2026, 11, 25), RetentionPolicy(evidence_days=30)))
        assert report.face_images_deleted == 1
        assert database.run(lambda s: s.scalar(select(func.count()).select_from(m.FaceImage))) == 1
    finally:
        database.dispose()
    assert stored(database_url, old)[1:] == ([], {})  # the referral stays, its evidence goes
    assert set(stored(database_url, recent)[2]) == {"LIVE"}


def test_purge_deletes_the_enrolment_photo_of_a_withdrawn_alert(stub, database_url):
    alert = stub.AddPersonAlert(pb.AddPersonAlertRequest(surname="ROE", reason=pb.PersonAlert.ARREST))
    database = Database(database_url)
    try:
        def add_photo(session):
            row = session.scalar(select(m.PersonAlert).where(m.PersonAlert.alert_id == alert.alert_id))
            evidence.store_image(session, m.FaceImageKind.ENROLMENT, jpeg(), person_alert=row)
        database.run(add_photo)
        keep = database.run(lambda s: purge(s, dt.date(2026, 11, 25), RetentionPolicy()))
        assert keep.face_images_deleted == 0
        stub.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=alert.alert_id, reason="arrested"))
        gone = database.run(lambda s: purge(s, dt.date(2026, 11, 25), RetentionPolicy()))
        assert gone.face_images_deleted == 1
    finally:
        database.dispose()
