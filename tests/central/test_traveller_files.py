"""Traveller files over gRPC: exemption, first entry, deduplication, later crossings, access and audit."""
from __future__ import annotations

import io
import math
import uuid

import grpc
import numpy as np
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from central.alerts.face_matcher import FaceCandidate, FaceQuery
from central.database import models as m
from central.errors import Unavailable
from central.travellers import files
from common.sealing import is_sealed
from drivers import face_score
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import common_pb2
from tests.central.conftest import TEST_ACCESS, crossing_request, serve_central

GATE = (("x-limes-station", "FRA-T1-G03"),)
OFFICER = (("x-limes-user", "officer-17"),)
MODEL, VERSION = "dlib-resnet-v1", "1.0-68pt"


class MemoryGallery:
    """The matcher's travellers gallery in memory: exact L2 search, scored as the matcher scores."""

    def __init__(self) -> None:
        self.subjects: dict[str, np.ndarray] = {}
        self.down = False

    def search(self, face: FaceQuery) -> list[FaceCandidate]:
        if self.down:
            raise Unavailable("matcher search failed: UNAVAILABLE")
        query = np.asarray(face.vector, dtype=np.float32)
        found = [FaceCandidate(s, face_score.score(float(np.linalg.norm(v - query))))
                 for s, v in self.subjects.items()]
        return sorted((c for c in found if c.score >= 0.5), key=lambda c: -c.score)

    def enrol(self, subject_id: str, face: FaceQuery) -> None:
        if self.down:
            raise Unavailable("matcher enrolment failed: UNAVAILABLE")
        self.subjects[subject_id] = np.asarray(face.vector, dtype=np.float32)


def face(seed: int, jitter: float = 0.0) -> common_pb2.FaceTemplate:
    """A unit-length 128-float template per seed; `jitter` moves it by about that L2 distance."""
    rng = np.random.default_rng(seed)
    vector = rng.normal(size=128)
    vector /= np.linalg.norm(vector)
    if jitter:
        step = np.random.default_rng(seed + 1000).normal(size=128)
        vector = vector + jitter * step / np.linalg.norm(step)
    return common_pb2.FaceTemplate(vector=vector.astype(np.float32).tolist(), model=MODEL, model_version=VERSION)


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 50), (90, 120, 150)).save(out, format="JPEG")
    return out.getvalue()


THIRD_COUNTRY = dict(document=pb.TravelDocument(number="U1234567", type="P", issuing_state="USA",
                                                expiry_date="2031-08-01"),
                     traveller=pb.Traveller(surname="HOLLAND", given_names="JAMES", nationality="USA", sex="M",
                                            birth_date="1975-03-14"))
OTHER_IDENTITY = dict(document=pb.TravelDocument(number="C7654321", type="P", issuing_state="CAN"),
                      traveller=pb.Traveller(surname="VANCE", given_names="PAUL", nationality="CAN",
                                             birth_date="1980-01-02"))


@pytest.fixture
def gallery() -> MemoryGallery:
    return MemoryGallery()


@pytest.fixture
def files_central(database_url, dev_pki, gallery):
    from common.sealing import Sealer

    server, central = serve_central(database_url, dev_pki, access=TEST_ACCESS, traveller_gallery=gallery,
                                    sealer=Sealer({"k1": bytes(range(32))}, "k1"))
    yield central
    central.close()
    server.stop(None)


def check(stub, template, identity=THIRD_COUNTRY) -> pb.TravellerFileCheck:
    return stub.CheckTravellerFile(pb.CheckTravellerFileRequest(face=template, **identity), metadata=GATE)


def first_entry(stub, template, identity=THIRD_COUNTRY) -> tuple[str, pb.EnrolTravellerResponse]:
    crossing_id = str(uuid.uuid4())
    stub.RecordCrossing(crossing_request(crossing_id, **identity), metadata=GATE)
    return crossing_id, stub.EnrolTraveller(pb.EnrolTravellerRequest(crossing_id=crossing_id, face=template,
                                                                     live_capture_jpeg=jpeg()), metadata=GATE)


def test_an_eu_citizen_gets_no_file(files_central, gallery):
    stub = files_central.stub()
    eu = dict(document=pb.TravelDocument(number="C01X00T47", type="P", issuing_state="D"),
              traveller=pb.Traveller(surname="MUSTERMANN", given_names="ERIKA", nationality="D",
                                     birth_date="1964-08-12"))
    answer = check(stub, face(1), eu)
    assert answer.status == pb.TravellerFileCheck.EXEMPT and "EU/EEA/CH" in answer.reason
    _, enrolled = first_entry(stub, face(1), eu)
    assert enrolled.file_id == "" and "exempt" in enrolled.reason
    assert gallery.subjects == {}


def test_first_entry_opens_a_file_and_a_later_crossing_verifies_against_it(files_central, gallery, database_url):
    stub = files_central.stub()
    assert check(stub, face(1)).status == pb.TravellerFileCheck.NEW
    crossing_id, enrolled = first_entry(stub, face(1))
    assert enrolled.file_id and not enrolled.already_enrolled
    assert list(gallery.subjects) == [enrolled.file_id]

    again = check(stub, face(1, jitter=0.3))
    assert again.status == pb.TravellerFileCheck.VERIFIED, again.reason
    assert again.file_id == enrolled.file_id and again.crossings == 1 and again.score > 0.9
    impostor = check(stub, face(2))
    assert impostor.status == pb.TravellerFileCheck.MISMATCH and "does not match" in impostor.reason

    # A retried enrolment (the outbox resending) finds the file it opened.
    retry = stub.EnrolTraveller(pb.EnrolTravellerRequest(crossing_id=crossing_id, face=face(1),
                                                         live_capture_jpeg=jpeg()), metadata=GATE)
    assert retry.file_id == enrolled.file_id and retry.already_enrolled

    engine = create_engine(database_url)
    with Session(engine) as session:
        row = session.scalar(select(m.TravellerFile))
        assert row.created_by_station == "FRA-T1-G03" and row.created_by_user == ""
        first = session.get(m.Crossing, row.first_crossing_id)
        assert first.crossing_id == crossing_id
        image = session.scalar(select(m.FaceImage).where(m.FaceImage.traveller_file_id == row.id))
        assert image.kind is m.FaceImageKind.LIVE
        assert is_sealed(row.template) and is_sealed(image.jpeg)  # biometrics sealed at rest
        assert row.template_model == MODEL and row.template_model_version == VERSION
    engine.dispose()


def test_the_same_face_under_another_identity_is_a_possible_multiple_identity(files_central, gallery):
    stub = files_central.stub()
    _, enrolled = first_entry(stub, face(1))
    answer = check(stub, face(1, jitter=0.2), OTHER_IDENTITY)
    assert answer.status == pb.TravellerFileCheck.DUPLICATE
    assert [(c.gallery, c.subject_id) for c in answer.candidates] == [("travellers", enrolled.file_id)]
    assert "possible multiple identity" in answer.reason
    # Nor does the enrolment open a second file for that face.
    _, second = first_entry(stub, face(1, jitter=0.2), OTHER_IDENTITY)
    assert second.file_id == "" and "possible multiple identity" in second.reason
    assert len(gallery.subjects) == 1
    # A different face under the other identity is a new traveller.
    assert check(stub, face(3), OTHER_IDENTITY).status == pb.TravellerFileCheck.NEW


def test_a_matcher_outage_refuses_rather_than_enrols_unchecked(files_central, gallery, database_url):
    stub = files_central.stub()
    gallery.down = True
    with pytest.raises(grpc.RpcError) as refused:
        check(stub, face(1))
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(grpc.RpcError) as not_enrolled:
        first_entry(stub, face(1))
    assert not_enrolled.value.code() == grpc.StatusCode.UNAVAILABLE
    engine = create_engine(database_url)
    with Session(engine) as session:  # the failed enrolment left nothing behind
        assert session.scalar(select(m.TravellerFile)) is None
        assert session.scalar(select(m.FaceImage)) is None
    engine.dispose()
    gallery.down = False
    assert check(stub, face(1)).status == pb.TravellerFileCheck.NEW


def test_a_file_is_read_by_officers_only_and_every_read_is_audited(files_central, database_url):
    stub = files_central.stub()
    crossing_id, enrolled = first_entry(stub, face(1))
    with pytest.raises(grpc.RpcError) as denied:
        stub.GetTravellerFile(pb.GetTravellerFileRequest(file_id=enrolled.file_id), metadata=GATE)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    file = stub.GetTravellerFile(pb.GetTravellerFileRequest(file_id=enrolled.file_id), metadata=OFFICER)
    assert file.traveller.surname == "HOLLAND" and file.opened_by == "FRA-T1-G03"
    assert [c.crossing_id for c in file.crossings] == [crossing_id]
    assert file.opened_at_border_point == "FRA-T1" and file.template_model == MODEL
    engine = create_engine(database_url)
    with Session(engine) as session:
        actions = [(a.action, a.user_name, a.station) for a in session.scalars(select(m.AuditEntry))]
    engine.dispose()
    assert ("GetTravellerFile", "officer-17", "") in actions
    assert ("EnrolTraveller", "", "FRA-T1-G03") in actions
    assert ("GetTravellerFile", "", "FRA-T1-G03") in actions  # the gate's refusal, audited too


def test_officers_do_not_enrol(files_central):
    stub = files_central.stub()
    crossing_id = str(uuid.uuid4())
    stub.RecordCrossing(crossing_request(crossing_id, **THIRD_COUNTRY), metadata=GATE)
    with pytest.raises(grpc.RpcError) as refused:
        stub.EnrolTraveller(pb.EnrolTravellerRequest(crossing_id=crossing_id, face=face(1), live_capture_jpeg=jpeg()),
                            metadata=(("x-limes-user", "officer-17"),))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED  # officers do not enrol


@pytest.mark.parametrize("bad", [[], [math.nan] * 128])
def test_a_malformed_template_is_refused(files_central, bad):
    stub = files_central.stub()
    with pytest.raises(grpc.RpcError) as refused:
        check(stub, common_pb2.FaceTemplate(vector=bad, model=MODEL, model_version=VERSION))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_the_duplicate_threshold_is_a_strong_hit():
    # distance 0.55: the score DUPLICATE_MIN_SCORE asks for.
    assert face_score.score(0.55) == pytest.approx(files.DUPLICATE_MIN_SCORE, abs=0.01)
