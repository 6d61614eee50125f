"""What a gate hands an officer with a referral: the live face, the chip photo, the 1:N candidates; and the
live template and face crop a new traveller file is opened with (`file_enrolment`, gate and desk alike).

The evidence is made only when the gate refers (an opened gate sends no face image to
central) and kept small: the live frame is cropped around the face, both
photos are scaled down and sent as JPEG. Central checks and stores them for
the officer's referral page (proto limes.v1.ReferralEvidence).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

MAX_SIDE = 480
JPEG_QUALITY = 88
# Around the face box, this much of its size on every side: hair, chin and ears, not the queue behind.
CROP_MARGIN = 0.6

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateCandidate:
    gallery: str
    subject_id: str
    score: float


@dataclass
class GateEvidence:
    live_jpeg: bytes = b""
    chip_jpeg: bytes = b""
    candidates: list[GateCandidate] = field(default_factory=list)

    def summary(self) -> dict:
        return {"live_capture_bytes": len(self.live_jpeg), "chip_photo_bytes": len(self.chip_jpeg),
                "watchlist_candidates": [{"gallery": c.gallery, "subject_id": c.subject_id, "score": c.score}
                                         for c in self.candidates]}


def jpeg(rgb: np.ndarray, max_side: int = MAX_SIDE) -> bytes:
    """An RGB image as JPEG, scaled down to at most max_side pixels a side."""
    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                         interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG")
    return data.tobytes()


def face_crop(rgb: np.ndarray, box: tuple[int, int, int, int], margin: float = CROP_MARGIN) -> np.ndarray:
    """The part of the frame around a face box (top, right, bottom, left)."""
    top, right, bottom, left = box
    height, width = rgb.shape[:2]
    dx, dy = round((right - left) * margin), round((bottom - top) * margin)
    return rgb[max(0, top - dy):min(height, bottom + dy), max(0, left - dx):min(width, right + dx)]


def gather(live, reference: np.ndarray | None, candidates: list[GateCandidate]) -> GateEvidence:
    """GateEvidence from a capture (edge.capture.CaptureResult or none), the chip photo and the candidates."""
    evidence = GateEvidence(candidates=list(candidates))
    image, face = getattr(live, "image", None), getattr(live, "face", None)
    if image is not None:
        evidence.live_jpeg = jpeg(face_crop(image, face.box) if face is not None else image)
    if reference is not None:
        evidence.chip_jpeg = jpeg(reference)
    return evidence


def file_enrolment(live) -> tuple[Any, bytes] | None:
    """The live template and face crop a new traveller file is opened with; None without a usable crop."""
    image, face = getattr(live, "image", None), getattr(live, "face", None)
    if live is None or live.template is None or image is None:
        return None
    try:
        return live.template, jpeg(face_crop(image, face.box) if face is not None else image)
    except Exception:  # no file now; the next crossing searches and opens it
        log.exception("could not make the traveller file's face image")
        return None
