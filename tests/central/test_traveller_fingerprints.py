"""Fingerprints in traveller files (limes.v1.TravellerFingerprints): enrolled at a desk under the officer's
session (the file opened with the face when there is none), sealed at rest, searched 1:N for another identity
holding them, verified 1:1 at central, read by officers only, every read audited, purged with the file."""
from __future__ import annotations

import datetime as dt
import functools
import uuid

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from central.access.audit import Caller
from central.access.retention import RetentionPolicy, purge
from central.access.roles import AccessPolicy, Kind, Role
from central.database import models as m
from central.database.engine import Database
from central.database.models import utcnow
from central.errors import InvalidArgument, Unavailable
from central.travellers import fingerprints
from central.web.accounts import set_password
from common.sealing import Sealer, is_sealed
from drivers.fingerprint import compare, iso19794_2, minutiae, wsq
from hardware_sim.fingerprint_scanner import finger_image
from matcher.fingerprints import search_threshold
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import desk_pb2, desk_pb2_grpc, fingerprints_pb2, fingerprints_pb2_grpc
from tests.central.conftest import crossing_request, serve_central
from tests.central.test_traveller_files import OTHER_IDENTITY, THIRD_COUNTRY, MemoryGallery, face, jpeg

DESK, GATE = "FRA-T1-D01", "FRA-T1-G03"
PASSWORD = "correct horse battery"
ACCESS = AccessPolicy(bootstrap={
    (Kind.STATION, DESK): (Role.DESK,), (Kind.STATION, GATE): (Role.GATE,),
    (Kind.USER, "officer-17"): (Role.OFFICER,), (Kind.USER, "analyst-1"): (Role.ANALYST,),
})
# A right-hand slap: right index, middle, ring and little fingers.
SLAP = {2: 9101, 3: 9102, 4: 9103, 5: 9104}


@functools.cache
def record(seed: int, touch: int, position: int) -> bytes:
    return iso19794_2.encode(minutiae.extract(finger_image(seed, touch), position))


@functools.cache
def wsq_of(seed: int) -> bytes:
    return wsq.encode(finger_image(seed, 1))


def slap(fingers: dict[int, int] = SLAP) -> list[fingerprints_pb2.EnrolledFinger]:
    return [fingerprints_pb2.EnrolledFinger(position=p, iso19794_2=record(s, 1, p), wsq=wsq_of(s), quality=60)
            for p, s in fingers.items()]


class MemoryFingerGallery:
    """The matcher's finger gallery in memory: each subject's fingers compared 1:1, fused by the sum rule and
    kept at the matcher's search threshold for that many fingers (matcher.fingerprints)."""

    def __init__(self) -> None:
        self.subjects: dict[str, dict[int, bytes]] = {}
        self.down = False

    def search(self, fingers):
        if self.down:
            raise Unavailable("matcher finger search failed: UNAVAILABLE")
        found = []
        for subject, held in self.subjects.items():
            score = sum(compare.compare(iso19794_2.decode(held[p])[0], iso19794_2.decode(r)[0]).score
                        for p, r in fingers if p in held)
            if score >= search_threshold(len(fingers)):
                found.append((subject, score))
        return found

    def enrol(self, subject_id, fingers):
        if self.down:
            raise Unavailable("matcher finger enrolment failed: UNAVAILABLE")
        self.subjects[subject_id] = dict(fingers)


@pytest.fixture
def post(database_url, dev_pki):
    faces, fingers = MemoryGallery(), MemoryFingerGallery()
    server, central = serve_central(database_url, dev_pki, access=ACCESS, traveller_gallery=faces,
                                    finger_gallery=fingers, sealer=Sealer({"k1": bytes(range(32))}, "k1"))
    database = Database(database_url)
    database.run(lambda s: set_password(s, Caller("test", "test"), "officer-17", PASSWORD, utcnow()))
    yield central, fingers
    database.dispose()
    central.close()
    server.stop(None)


def service(central, **identity) -> fingerprints_pb2_grpc.TravellerFingerprintsStub:
    return fingerprints_pb2_grpc.TravellerFingerprintsStub(central.channel(**identity))


def admitted(central, identity=THIRD_COUNTRY) -> tuple[str, str]:
    """(officer session token, crossing id) of a traveller the desk admitted."""
    desk = desk_pb2_grpc.DeskStub(central.channel(station=DESK))
    token = desk.OpenOfficerSession(desk_pb2.OpenOfficerSessionRequest(user_name="officer-17",
                                                                       password=PASSWORD)).token
    crossing = crossing_request(station_id=DESK, occurred_at=dt.datetime.now(dt.timezone.utc).isoformat(), **identity)
    done = desk.RecordDeskDecision(desk_pb2.DeskDecisionRequest(session_token=token, crossing=crossing,
                                                                decision=desk_pb2.DeskDecisionRequest.ADMIT))
    return token, done.crossing_id


def enrol(central, token, crossing_id, fingers=None, with_face=True, **identity):
    request = fingerprints_pb2.EnrolFileFingerprintsRequest(session_token=token, crossing_id=crossing_id,
                                                            fingers=fingers if fingers is not None else slap())
    if with_face:
        request.face.CopyFrom(face(1))
        request.live_capture_jpeg = jpeg()
    return service(central, **(identity or {"station": DESK})).EnrolFileFingerprints(request)


def audit_rows(database_url, action):
    with Session(create_engine(database_url)) as session:
        return list(session.scalars(select(m.AuditEntry).where(m.AuditEntry.action == action)))


def test_a_desk_enrols_four_fingers_opening_the_file_sealed_at_rest_and_in_the_gallery(post, database_url):
    central, gallery = post
    token, crossing_id = admitted(central)
    done = enrol(central, token, crossing_id)
    assert done.file_opened and list(done.positions) == [2, 3, 4, 5] and done.file_id, done
    assert sorted(gallery.subjects[done.file_id]) == [2, 3, 4, 5]
    with Session(create_engine(database_url)) as session:
        rows = list(session.scalars(select(m.TravellerFinger)))
        assert len(rows) == 4 and all(is_sealed(r.iso19794_2) and is_sealed(r.wsq) for r in rows)
        assert {(r.enrolled_by_station, r.enrolled_by_user) for r in rows} == {(DESK, "officer-17")}
        assert {r.quality for r in rows} == {60} and all(r.minutiae >= compare.MIN_MINUTIAE for r in rows)
    [row] = audit_rows(database_url, "EnrolFileFingerprints")
    assert (row.station, row.user_name) == (DESK, "officer-17") and "enrolled (file opened)" in row.outcome
    # The gate's file check now says which fingers the file holds.
    check = pb.CheckTravellerFileRequest(face=face(1, jitter=0.2), **THIRD_COUNTRY)
    answer = central.stub().CheckTravellerFile(check, metadata=(("x-limes-station", GATE),))
    assert answer.status == pb.TravellerFileCheck.VERIFIED and list(answer.finger_positions) == [2, 3, 4, 5]


def test_enrolling_again_replaces_the_fingers_of_those_positions_only(post, database_url):
    central, gallery = post
    token, crossing_id = admitted(central)
    first = enrol(central, token, crossing_id)
    again = enrol(central, token, crossing_id, fingers=slap({2: 9101}), with_face=False)
    assert again.file_id == first.file_id and not again.file_opened and list(again.positions) == [2, 3, 4, 5]
    assert sorted(gallery.subjects[first.file_id]) == [2, 3, 4, 5]


def test_fingers_another_identity_holds_are_a_possible_multiple_identity_and_nothing_is_enrolled(post, database_url):
    central, gallery = post
    token, crossing_id = admitted(central)
    first = enrol(central, token, crossing_id)
    token, other_crossing = admitted(central, OTHER_IDENTITY)
    done = enrol(central, token, other_crossing)
    assert done.file_id == "" and "possible multiple identity" in done.reason
    assert [d.file_id for d in done.duplicates] == [first.file_id]
    assert list(gallery.subjects) == [first.file_id]
    with Session(create_engine(database_url)) as session:
        assert session.scalar(select(m.TravellerFile).where(m.TravellerFile.file_id != first.file_id)) is None


def test_a_matcher_that_fails_leaves_nothing_enrolled(post, database_url):
    central, gallery = post
    token, crossing_id = admitted(central)
    gallery.down = True
    with pytest.raises(grpc.RpcError) as error:
        enrol(central, token, crossing_id)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    with Session(create_engine(database_url)) as session:
        assert session.scalar(select(m.TravellerFinger)) is None and session.scalar(select(m.TravellerFile)) is None


def test_bad_records_are_refused_by_name(post):
    central, _ = post
    token, crossing_id = admitted(central)
    cases = [
        ([fingerprints_pb2.EnrolledFinger(position=2, iso19794_2=b"FMR\x00junk", wsq=wsq_of(9101), quality=60)],
         "fingers[0].iso19794_2"),
        ([fingerprints_pb2.EnrolledFinger(position=2, iso19794_2=record(9101, 1, 2), wsq=b"PNG", quality=60)],
         "fingers[0].wsq"),
        ([fingerprints_pb2.EnrolledFinger(position=11, iso19794_2=record(9101, 1, 2), wsq=wsq_of(9101))],
         "fingers[0].position"),
        (slap() + slap({2: 9101}), "given twice"),
        ([fingerprints_pb2.EnrolledFinger(position=3, iso19794_2=record(9101, 1, 2), wsq=wsq_of(9101))],
         "not 3"),
    ]
    for fingers, named in cases:
        with pytest.raises(grpc.RpcError) as error:
            enrol(central, token, crossing_id, fingers=fingers)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and named in error.value.details()


def test_the_file_is_opened_with_the_face_only(post):
    central, _ = post
    token, crossing_id = admitted(central)
    with pytest.raises(grpc.RpcError) as error:
        enrol(central, token, crossing_id, with_face=False)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "live face" in error.value.details()


def test_enrolment_is_a_signed_in_officers_at_a_desk(post, database_url):
    central, _ = post
    token, crossing_id = admitted(central)
    for identity, token_used in (({"station": GATE}, token), ({"station": DESK}, "not-a-session"),
                                 ({"user": "officer-17"}, token)):
        with pytest.raises(grpc.RpcError) as error:
            enrol(central, token_used, crossing_id, **identity)
        assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED, identity
    refusals = audit_rows(database_url, "EnrolFileFingerprints")
    assert len(refusals) == 3 and all(r.outcome.startswith("PERMISSION_DENIED") for r in refusals)


def test_verification_at_central_matches_the_same_finger_and_refuses_another(post, database_url):
    central, _ = post
    token, crossing_id = admitted(central)
    file_id = enrol(central, token, crossing_id).file_id
    gate = service(central, station=GATE)

    def verify(*fingers):
        return gate.VerifyFileFingerprints(fingerprints_pb2.VerifyFileFingerprintsRequest(
            file_id=file_id, fingers=[fingerprints_pb2.LiveFinger(position=p, iso19794_2=r) for p, r in fingers]))
    same = verify((2, record(9101, 2, 2)))
    assert same.status == fingerprints_pb2.VerifyFileFingerprintsResponse.VERIFIED, same.reason
    assert same.fingers[0].match and same.threshold == compare.THRESHOLD
    other = verify((2, record(9201, 2, 2)))
    assert other.status == fingerprints_pb2.VerifyFileFingerprintsResponse.MISMATCH and not other.fingers[0].match
    two = verify((2, record(9101, 2, 2)), (3, record(9201, 2, 3)))
    assert two.status == fingerprints_pb2.VerifyFileFingerprintsResponse.MISMATCH
    absent = verify((7, record(9101, 2, 7)))
    assert absent.status == fingerprints_pb2.VerifyFileFingerprintsResponse.NO_FINGERPRINTS
    outcomes = [r.outcome for r in audit_rows(database_url, "VerifyFileFingerprints")]
    assert [o.split()[0] for o in outcomes] == ["VERIFIED", "MISMATCH", "MISMATCH", "NO_FINGERPRINTS"]
    assert all(r.station == GATE for r in audit_rows(database_url, "VerifyFileFingerprints"))
    with pytest.raises(grpc.RpcError) as error:
        verify((2, b"garbage"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_officers_read_what_a_file_holds_audited_and_nobody_else(post, database_url):
    central, _ = post
    token, crossing_id = admitted(central)
    file_id = enrol(central, token, crossing_id).file_id
    read = service(central, user="officer-17").GetFileFingerprints(
        fingerprints_pb2.GetFileFingerprintsRequest(file_id=file_id))
    assert [(f.position, f.enrolled_by, f.enrolled_at_station) for f in read.fingers] == [
        (p, "officer-17", DESK) for p in (2, 3, 4, 5)]
    [row] = audit_rows(database_url, "GetFileFingerprints")
    assert row.user_name == "officer-17" and "4 finger(s)" in row.outcome and "HOLLAND" in row.subject
    for identity in ({"station": GATE}, {"station": DESK}, {"user": "analyst-1"}):
        with pytest.raises(grpc.RpcError) as error:
            service(central, **identity).GetFileFingerprints(fingerprints_pb2.GetFileFingerprintsRequest(
                file_id=file_id))
        assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED, identity
    with pytest.raises(grpc.RpcError) as error:  # a gate verifies, it does not enrol
        service(central, user="analyst-1").VerifyFileFingerprints(
            fingerprints_pb2.VerifyFileFingerprintsRequest(file_id=file_id))
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_fingers_go_with_their_file(post, database_url):
    central, _ = post
    token, crossing_id = admitted(central)
    file_id = enrol(central, token, crossing_id).file_id
    database = Database(database_url)
    try:
        later = dt.date.today() + dt.timedelta(days=4000)
        report = database.run(lambda s: purge(s, later, RetentionPolicy()))
        assert file_id in report.traveller_file_ids
        assert database.read(lambda s: s.scalar(select(m.TravellerFinger))) is None
    finally:
        database.dispose()


def test_fingers_are_resealed_under_a_new_key(database_url):
    old = Sealer({"k1": bytes(range(32))}, "k1")
    new = Sealer({"k1": bytes(range(32)), "k2": bytes(range(1, 33))}, "k2")
    database = Database(database_url, sealer=old)
    database.migrate()
    try:
        def seed(session):
            traveller = m.Traveller(surname="A", given_names="B", name_key="a b", nationality="USA")
            point = m.BorderPoint(code="FRA-T1")
            session.add_all([traveller, point])
            session.flush()
            file = m.TravellerFile(file_id=str(uuid.uuid4()), traveller_id=traveller.id, template=b"t",
                                   template_model="x", template_model_version="1", border_point_id=point.id)
            session.add(file)
            session.flush()
            session.add(m.TravellerFinger(traveller_file_id=file.id, position=2, quality=50, minutiae=30,
                                          iso19794_2=old.seal(b"iso", f"traveller_fingers:{file.file_id}:2:iso"),
                                          wsq=old.seal(b"wsq", f"traveller_fingers:{file.file_id}:2:wsq")))
        database.run(seed)
    finally:
        database.dispose()
    database = Database(database_url, sealer=new)
    try:
        assert database.run(lambda s: fingerprints.reseal_fingers(s)) == 1
        assert database.run(lambda s: fingerprints.reseal_fingers(s)) == 0

        def opened(session):
            finger = session.scalar(select(m.TravellerFinger))
            file = session.get(m.TravellerFile, finger.traveller_file_id)
            return fingerprints.iso_record(session, file, finger), fingerprints.wsq_image(session, file, finger)
        assert database.run(opened) == (b"iso", b"wsq")
    finally:
        database.dispose()


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), position=st.integers(min_value=-2, max_value=12),
       quality=st.integers(min_value=-5, max_value=120))
def test_any_bytes_sent_as_a_finger_are_taken_or_refused_by_name(data, position, quality):
    """Whatever a desk or gate sends (fuzzed records, positions, qualities): a template, or InvalidArgument
    naming the field; never another exception."""
    good = record(9101, 1, 2)
    for iso in (data, good[:24] + data, good[:len(data) % len(good)]):
        try:
            fingerprints.check_captured([fingerprints.CapturedFinger(position, iso, b"\xff\xa0" + data, quality)])
        except InvalidArgument as exc:
            assert exc.field.startswith("fingers")
        try:
            fingerprints.parse_template("probe", iso, 2)
        except InvalidArgument as exc:
            assert exc.field == "probe"
