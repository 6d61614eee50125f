"""The gate's face capture: a few seconds of frames, the best one kept and turned into a template.

Every REDETECT_EVERY-th frame is searched for faces (on a downscaled copy);
in between, the face is followed by refitting its landmarks in the box where
it was last found, a few milliseconds instead of tens. The followed face is
scored for quality on every frame and its landmarks feed the liveness cues, so
that even on a busy machine no frame, and no blink, is lost for want of time.

A refit always returns landmarks, face or no face: if the traveller moved or
the scene changed since the last search, they outline nothing. So a followed
frame counts (for the best frame and for liveness) only once the next search
finds the face where the refit put it, about as large; otherwise it is dropped.
A search that finds the face elsewhere or at another size starts the capture's
evidence again, best frame included: the template and the liveness verdict are
always about one face followed without a break.
More than one face in several searched frames means someone is tailgating.
Only the best frame is encoded, once, at the end: the template is the costly step.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

import cv2
import numpy as np

from drivers.devices.camera import CameraError
from drivers.face import Encoder, Face, FaceTemplate, QualityReport, assess_quality, detect_faces, encode_face
from drivers.face.detection import landmarks_for
from edge.liveness import LivenessObserver, LivenessResult

log = logging.getLogger(__name__)

# Frames with more than one face before the capture is refused as tailgating;
# one frame alone may be a false detection or a passer-by behind the barrier.
MULTI_FACE_FRAMES = 2
# A face whose eyes are further than this many inter-eye distances from where they
# were, or whose inter-eye distance is this many times larger or smaller, is not the
# one followed: a person at the gate moves far less between two searches (200 ms).
MAX_TRACK_JUMP = 1.5
MAX_TRACK_SCALE = 1.25
# A full face search every this many frames (at 15 fps, every 200 ms): it re-anchors
# the followed face and finds a second person; the frames between only refit landmarks.
REDETECT_EVERY = 3
# The budget is planned for at least this many frames a second. A gate that reads fewer
# (a loaded machine) keeps looking, up to twice its budget, until it has read as many as
# that rate would give: fewer frames than that miss blinks, and a live traveller would be
# referred for the machine's slowness.
MIN_FPS = 8.0


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
    On a machine too slow to read budget_s x MIN_FPS frames in budget_s, the
    capture goes on until it has, for at most twice budget_s.
    The template is extracted only when the capture did not fail; the liveness
    verdict is returned for the caller to act on.
    """
    started = clock()
    frames = faces_max = multi_face_frames = face_frames = 0
    evidence = _Evidence()
    followed: Face | None = None  # refit between searches; None after a search found no face
    anchor: Face | None = None  # the face the last successful search found
    searched_count = 0  # faces found by the last full search
    since_search = REDETECT_EVERY  # frames since it
    liveness: LivenessResult | None = None
    camera_error: str | None = None

    overran = False  # read on past budget_s for want of frames
    while True:
        elapsed = clock() - started
        if elapsed >= budget_s:
            if elapsed >= longest_capture_s(budget_s) or frames >= budget_s * MIN_FPS:
                break
            overran = True
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
                evidence.drop_unconfirmed()
                continue
            face = faces[0]
            if anchor is not None and not _same_face(anchor, face):
                evidence = _Evidence()
            evidence.confirm(face)
            anchor = face
            confirmed = True
        else:
            since_search += 1
            face = landmarks_for(rgb, followed.box)
            confirmed = False
        face_frames += 1
        followed = face
        evidence.add(rgb, face, assess_quality(rgb, face, face_count=searched_count), confirmed)
        best = evidence.best
        if confirmed and best is not None and best[3].passed and len(evidence.observer) >= min_frames:
            if not check_liveness:
                break
            liveness = evidence.observer.result()
            if liveness.live:
                break

    observer, best = evidence.observer, evidence.best
    if check_liveness and len(observer):
        liveness = observer.result()
    elapsed = clock() - started
    if overran:
        # Operators should hear of it: the gate's machine is too slow for the capture it was sized for.
        log.warning("face capture took %.1f s of a %.1f s budget: %d frames read, %.1f a second (planned for %g)",
                    elapsed, budget_s, frames, frames / elapsed, MIN_FPS)
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


def longest_capture_s(budget_s: float) -> float:
    """How long a capture with this budget may read frames (on a machine too slow for MIN_FPS)."""
    return 2 * budget_s


class _Evidence:
    """What one capture has gathered of one followed face: the liveness cues and the best frame.

    Refitted frames wait in `unconfirmed` until the next search confirms them.
    """

    def __init__(self) -> None:
        self.observer = LivenessObserver()
        self.best: tuple[tuple, np.ndarray, Face, QualityReport] | None = None
        self.unconfirmed: list[tuple[np.ndarray, Face, QualityReport]] = []

    def add(self, rgb: np.ndarray, face: Face, quality: QualityReport, confirmed: bool) -> None:
        if confirmed:
            self._count(rgb, face, quality)
        else:
            self.unconfirmed.append((rgb, face, quality))

    def confirm(self, searched: Face) -> None:
        """Count the refitted frames whose face agrees with the one a search has just found."""
        for rgb, face, quality in self.unconfirmed:
            if _same_face(face, searched):
                self._count(rgb, face, quality)
        self.unconfirmed.clear()

    def drop_unconfirmed(self) -> None:
        self.unconfirmed.clear()

    def _count(self, rgb: np.ndarray, face: Face, quality: QualityReport) -> None:
        self.observer.add(rgb, face)
        rank = (quality.passed, quality.score, face.inter_eye_distance)
        if self.best is None or rank > self.best[0]:
            self.best = (rank, rgb, face, quality)


def _same_face(previous: Face, current: Face) -> bool:
    """Whether two faces' eyes are near each other and about as far apart: one face followed."""
    size = max(previous.inter_eye_distance, 1.0)
    jump = float(np.linalg.norm(_eyes_centre(current) - _eyes_centre(previous))) / size
    scale = current.inter_eye_distance / size
    return jump <= MAX_TRACK_JUMP and 1 / MAX_TRACK_SCALE <= scale <= MAX_TRACK_SCALE


def _eyes_centre(face: Face) -> np.ndarray:
    return (face.right_eye.mean(axis=0) + face.left_eye.mean(axis=0)) / 2.0
