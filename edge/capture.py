"""The gate's face capture: a few seconds of frames, the best one kept and turned into a template.

Every REDETECT_EVERY-th frame is searched for faces (on a downscaled copy);
in between, the face is followed by refitting its landmarks in the box where
it was last found, a few milliseconds instead of tens. The followed face is
scored for quality on every frame and its landmarks feed the liveness cues, so
that even on a busy machine no frame, and no blink, is lost for want of time.
More than one face in several searched frames means someone is tailgating.
Only the best frame is encoded, once, at the end: the template is the costly step.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

import cv2
import numpy as np

from drivers.camera import CameraError
from drivers.face import Encoder, Face, FaceTemplate, QualityReport, assess_quality, detect_faces, encode_face
from drivers.face.detection import landmarks_for
from edge.liveness import LivenessObserver, LivenessResult

# Frames with more than one face before the capture is refused as tailgating;
# one frame alone may be a false detection or a passer-by behind the barrier.
MULTI_FACE_FRAMES = 2
# A largest face further than this many inter-eye distances from the one followed
# so far is someone else: the liveness evidence starts again.
MAX_TRACK_JUMP = 1.5
# A full face search every this many frames (at 15 fps, every 200 ms): it re-anchors
# the followed face and finds a second person; the frames between only refit landmarks.
REDETECT_EVERY = 3


class FrameSource(Protocol):
    def read(self) -> np.ndarray:
        """The next BGR frame; raises CameraError."""


@dataclass
class CaptureResult:
    template: FaceTemplate | None
    image: np.ndarray | None  # RGB of the best frame
    quality: QualityReport | None
    faces_max: int
    frames: int
    messages: list[str] = field(default_factory=list)
    liveness: LivenessResult | None = None
    failure: str | None = None  # 'no face', 'multiple faces', 'camera error: ...', 'poor quality: ...'
    face: Face | None = None  # the face in the best frame
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None and self.template is not None


def capture_face(
    camera: FrameSource,
    *,
    budget_s: float = 3.0,
    min_frames: int = 12,
    check_liveness: bool = True,
    encoder: Encoder | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CaptureResult:
    """Capture one traveller's face within budget_s seconds.

    Stops early once a frame passes every quality check and, when liveness is
    checked, at least min_frames frames show the face and the cues say live.
    The template is extracted only when the capture did not fail; the liveness
    verdict is returned for the caller to act on.
    """
    started = clock()
    frames = faces_max = multi_face_frames = face_frames = 0
    best: tuple[tuple, np.ndarray, Face, QualityReport] | None = None
    observer = LivenessObserver()
    followed: Face | None = None
    searched_count = 0  # faces found by the last full search
    since_search = REDETECT_EVERY  # frames since it
    liveness: LivenessResult | None = None
    camera_error: str | None = None

    while clock() - started < budget_s:
        try:
            bgr = camera.read()
        except CameraError as exc:
            camera_error = str(exc)
            break
        frames += 1
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if followed is None or since_search >= REDETECT_EVERY - 1:
            # Faces too small for the upsampled search fail the size check anyway; an empty
            # frame would cost four times as much with it.
            faces = detect_faces(rgb, find_small=False)
            since_search, searched_count = 0, len(faces)
            faces_max = max(faces_max, len(faces))
            if len(faces) > 1:
                multi_face_frames += 1
            if not faces:
                followed = None
                continue
            face = faces[0]
            if followed is not None and _jump(followed, face) > MAX_TRACK_JUMP:
                observer = LivenessObserver()
        else:
            since_search += 1
            face = landmarks_for(rgb, followed.box)
        face_frames += 1
        followed = face
        observer.add(rgb, face)
        quality = assess_quality(rgb, face, face_count=searched_count)
        rank = (quality.passed, quality.score, face.inter_eye_distance)
        if best is None or rank > best[0]:
            best = (rank, rgb, face, quality)
        if best[3].passed and len(observer) >= min_frames:
            if not check_liveness:
                break
            liveness = observer.result()
            if liveness.live:
                break

    if check_liveness and len(observer):
        liveness = observer.result()
    elapsed = clock() - started
    common = dict(faces_max=faces_max, frames=frames, liveness=liveness, elapsed_s=round(elapsed, 3))

    if camera_error is not None and frames == 0:
        return CaptureResult(None, None, None, failure=f"camera error: {camera_error}", **common)
    if multi_face_frames >= min(MULTI_FACE_FRAMES, max(face_frames, 1)):
        image, face, quality = (best[1], best[2], best[3]) if best else (None, None, None)
        return CaptureResult(None, image, quality, messages=["one person at a time, please"],
                             failure="multiple faces", face=face, **common)
    if best is None:
        failure = f"camera error: {camera_error}" if camera_error else "no face"
        return CaptureResult(None, None, None, messages=["look at the camera"], failure=failure, **common)
    _, image, face, quality = best
    if not quality.passed:
        return CaptureResult(None, image, quality, messages=list(quality.messages),
                             failure="poor quality: " + ", ".join(quality.failed), face=face, **common)
    template = encode_face(image, face, encoder=encoder)
    return CaptureResult(template, image, quality, face=face, **common)


def _jump(previous: Face, current: Face) -> float:
    (px, py), (cx, cy) = previous.center, current.center
    return float(np.hypot(cx - px, cy - py)) / max(previous.inter_eye_distance, 1.0)
