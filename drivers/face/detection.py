"""Finding faces and their 68 landmarks.

Detection runs on a downscaled copy (HOG cost grows with the pixel count); the
landmarks are then fitted on the full-resolution image, once, and carried in the
Face so that quality assessment and template extraction reuse them.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from drivers.face.errors import FaceError
from drivers.face.models import DLIB_LOCK, hog_detector, landmark_predictor

# Longest side of the copy the detector sees. dlib's HOG window is 80 px, so at
# this size faces spanning a sixth of the image (a traveller at the gate) are
# found without upsampling; when none is found the copy is searched again with
# one upsampling step, which finds faces down to about 40 px of the copy.
DETECTION_SIDE = 480

# iBUG-300W 68-point indices.
RIGHT_EYE = slice(36, 42)  # the subject's right eye, on the image's left
LEFT_EYE = slice(42, 48)
NOSE_TIP = 30
CHIN = 8
MOUTH_RIGHT = 48
MOUTH_LEFT = 54


@dataclass(frozen=True)
class Face:
    """A detected face in the coordinates of the full image it came from."""

    box: tuple[int, int, int, int]  # (top, right, bottom, left), face_recognition order
    landmarks: np.ndarray  # (68, 2) float32, x then y
    confidence: float  # HOG detector score (higher is more face-like)

    @property
    def width(self) -> int:
        return self.box[1] - self.box[3]

    @property
    def height(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)

    @property
    def center(self) -> tuple[float, float]:
        top, right, bottom, left = self.box
        return ((left + right) / 2.0, (top + bottom) / 2.0)

    @property
    def right_eye(self) -> np.ndarray:
        return self.landmarks[RIGHT_EYE]

    @property
    def left_eye(self) -> np.ndarray:
        return self.landmarks[LEFT_EYE]

    @property
    def inter_eye_distance(self) -> float:
        """Distance between the eye centres in pixels (ISO/IEC 39794-5 sizes faces by it)."""
        return float(np.linalg.norm(self.left_eye.mean(axis=0) - self.right_eye.mean(axis=0)))

    def dlib_shape(self) -> dlib.full_object_detection:
        top, right, bottom, left = self.box
        points = dlib.points([dlib.point(int(round(x)), int(round(y))) for x, y in self.landmarks])
        return dlib.full_object_detection(dlib.rectangle(left, top, right, bottom), points)


def detect_faces(rgb: np.ndarray, *, detection_side: int = DETECTION_SIDE, find_small: bool = True) -> list[Face]:
    """Faces in an RGB image, largest first, each with its 68 landmarks.

    find_small: when nothing is found, search the copy again upsampled once (about 4x
    the time). A capture loop whose quality check needs large faces anyway turns it off.
    """
    image = _checked(rgb)
    height, width = image.shape[:2]
    scale = min(1.0, detection_side / max(height, width))
    small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    with DLIB_LOCK:
        rects, scores, _ = hog_detector().run(small, 0, 0.0)
        if not rects and find_small:
            rects, scores, _ = hog_detector().run(small, 1, 0.0)
        kept = _without_nested(sorted(zip(rects, scores), key=lambda item: item[0].area(), reverse=True))
        faces = [_landmarked(image, rect, scale, score) for rect, score in kept]
    return faces


def _without_nested(detections: list) -> list:
    """Drop a detection lying mostly inside a larger one: HOG sometimes fires on part of a
    face (chin and mouth), which would count as a second person."""
    kept: list = []
    for rect, score in detections:
        if all(rect.intersect(larger).area() < 0.5 * rect.area() for larger, _ in kept):
            kept.append((rect, score))
    return kept


def landmarks_for(rgb: np.ndarray, box: tuple[int, int, int, int]) -> Face:
    """Fit landmarks for a box found elsewhere (a tracker, another detector)."""
    image = _checked(rgb)
    top, right, bottom, left = box
    with DLIB_LOCK:
        return _landmarked(image, dlib.rectangle(left, top, right, bottom), 1.0, 0.0)


def _landmarked(image: np.ndarray, rect: dlib.rectangle, scale: float, score: float) -> Face:
    full = dlib.rectangle(
        int(round(rect.left() / scale)),
        int(round(rect.top() / scale)),
        int(round(rect.right() / scale)),
        int(round(rect.bottom() / scale)),
    )
    shape = landmark_predictor()(image, full)
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
    box = (full.top(), full.right(), full.bottom(), full.left())
    return Face(box=box, landmarks=points, confidence=float(score))


def _checked(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        raise FaceError(f"expected an RGB image of shape (H, W, 3), got {shape}")
    if rgb.dtype != np.uint8:
        raise FaceError(f"expected an RGB image of dtype uint8, got {rgb.dtype}")
    return np.ascontiguousarray(rgb)
