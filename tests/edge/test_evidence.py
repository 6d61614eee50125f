"""The gate's evidence for the officer: made when it refers (never when it opens), small JPEGs, the face
cropped, the watchlist candidates; carried in the referral request the outbox stores and sends."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from drivers.face import detect_faces
from edge.evidence import MAX_SIDE, GateCandidate, face_crop, gather
from edge.policy import Decision
from edge.remote import RemoteCentral
from proto.clients import central_pb2
from tests.edge.test_gate import Capture, FakeMatcher, Search, gate, mrz


@dataclass
class Hit:
    subject_id: str
    score: float


def decoded(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a JPEG"
    return image


def test_an_opened_gate_sends_no_face_image(photos):
    outcome = gate(photos).process(mrz())
    assert outcome.decision is Decision.OPEN and outcome.evidence is None


def test_a_referral_carries_the_live_face_the_chip_photo_and_the_candidates(photos):
    reference, live, _ = photos
    frame = np.full((720, 1280, 3), 200, np.uint8)
    frame[100:100 + reference.shape[0] // 2, 300:300 + reference.shape[1] // 2] = cv2.resize(
        reference, (reference.shape[1] // 2, reference.shape[0] // 2))
    face = detect_faces(frame)[0]
    capture = Capture(live)
    capture.image, capture.face = frame, face
    matcher = FakeMatcher(Search(candidates=[Hit("PA-7", 0.93), Hit("PA-9", 0.61)]))
    outcome = gate(photos, capture=lambda: capture, matcher=matcher).process(mrz())
    assert outcome.decision is Decision.REFER  # a watchlist hit
    evidence = outcome.evidence
    assert [c.subject_id for c in evidence.candidates] == ["PA-7", "PA-9"]
    live_image, chip_image = decoded(evidence.live_jpeg), decoded(evidence.chip_jpeg)
    assert max(live_image.shape[:2]) <= MAX_SIDE and max(chip_image.shape[:2]) <= MAX_SIDE
    assert live_image.shape[0] < frame.shape[0] / 2  # cropped around the face, not the whole hall
    assert outcome.to_dict()["evidence"]["watchlist_candidates"][0] == {
        "gallery": "watchlist", "subject_id": "PA-7", "score": 0.93}


def test_the_referral_request_carries_the_evidence_through_the_outbox_bytes(photos):
    outcome = gate(photos, matcher=FakeMatcher(Search(candidates=[Hit("PA-7", 0.93)]))).process(mrz())
    request = RemoteCentral(client=None).referral_request(outcome, gate(photos).station)
    again = central_pb2.OpenReferralRequest.FromString(request.SerializeToString())  # as the outbox keeps it
    assert again.evidence.chip_photo_jpeg == outcome.evidence.chip_jpeg
    assert [(c.gallery, c.subject_id) for c in again.evidence.watchlist_candidates] == [("watchlist", "PA-7")]


def test_no_capture_still_gives_the_chip_photo(photos):
    outcome = gate(photos, capture=lambda: Capture(None, failure="no face")).process(mrz())
    assert outcome.decision is Decision.REFER
    assert outcome.evidence.live_jpeg == b"" and outcome.evidence.chip_jpeg


def test_a_crop_stays_inside_the_frame():
    frame = np.zeros((100, 100, 3), np.uint8)
    assert face_crop(frame, (0, 100, 100, 0)).shape == (100, 100, 3)
    assert face_crop(frame, (40, 60, 60, 40), margin=0.5).shape == (40, 40, 3)


def test_gather_without_anything_is_empty():
    evidence = gather(None, None, [GateCandidate("watchlist", "PA-1", 0.8)])
    assert evidence.live_jpeg == evidence.chip_jpeg == b"" and len(evidence.candidates) == 1
