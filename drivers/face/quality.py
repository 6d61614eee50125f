"""Face image quality in the spirit of ISO/IEC 29794-5.

Every metric is measured from the landmarks fitted once at detection and from
the pixels of the face region; each carries its value, its threshold and
whether it passed, and a failed metric adds one short instruction for the
traveller. Thresholds are calibrated on the real photos (docs/FACE.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from drivers.face.detection import CHIN, MOUTH_LEFT, MOUTH_RIGHT, NOSE_TIP, Face

# ISO/IEC 39794-5 asks at least 60 px between the eye centres for a usable frontal image
# (90 px for a passport portrait); the gate asks the minimum.
MIN_INTER_EYE_PX = 60.0
MIN_IN_FRAME = 0.98  # fraction of the face box inside the image
MAX_YAW_DEG = 25.0
MAX_PITCH_DEG = 25.0  # the generic head model reads frontal portraits at about +10
MAX_ROLL_DEG = 15.0
MIN_SHARPNESS = 60.0  # variance of the Laplacian on the face resized to 128 px, contrast-normalised
EXPOSURE_RANGE = (60.0, 200.0)  # mean grey level of the inner face
MIN_CONTRAST = 25.0  # standard deviation of the grey levels of the inner face
MIN_EYE_ASPECT_RATIO = 0.15  # mean of both eyes: open eyes measure 0.17-0.40 on the photos, closed below 0.12

SHARPNESS_SIDE = 128
# Sharpness is measured as if the face had this grey-level standard deviation, so that a
# dark or flat face fails exposure or contrast, not sharpness.
SHARPNESS_REFERENCE_STD = 50.0

GUIDANCE = {
    "face_count_none": "look at the camera",
    "face_count_many": "one person at a time, please",
    "inter_eye_distance": "move closer",
    "face_in_frame": "step into the middle of the frame",
    "yaw": "look straight at the camera",
    "pitch": "keep your head level",
    "roll": "hold your head upright",
    "sharpness": "hold still",
    "exposure_dark": "face the light",
    "exposure_bright": "step out of the glare",
    "contrast": "face the light",
    "eyes_open": "open your eyes",
}

# Generic 3-D head model (mm), in camera axes (x right, y down, z away from the
# camera), for the landmarks that stay rigid; a frontal face then has rotation I.
_MODEL_INDICES = [NOSE_TIP, CHIN, 36, 45, MOUTH_RIGHT, MOUTH_LEFT]
_MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, 330.0, 65.0),
        (-225.0, -170.0, 135.0),
        (225.0, -170.0, 135.0),
        (-150.0, 150.0, 125.0),
        (150.0, 150.0, 125.0),
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class QualityMetric:
    name: str
    value: float
    threshold: float | tuple[float, float]  # a bound, or an allowed (low, high) range
    passed: bool


@dataclass(frozen=True)
class QualityReport:
    metrics: list[QualityMetric]
    passed: bool
    messages: list[str] = field(default_factory=list)

    def metric(self, name: str) -> QualityMetric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    @property
    def failed(self) -> list[str]:
        return [metric.name for metric in self.metrics if not metric.passed]

    @property
    def score(self) -> float:
        """Fraction of metrics passed; ranks capture frames when none passes fully."""
        return sum(metric.passed for metric in self.metrics) / len(self.metrics)


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """Soukupova and Cech's eye aspect ratio over the six landmarks of one eye."""
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    horizontal = np.linalg.norm(eye[0] - eye[3])
    return float(vertical / (2.0 * horizontal)) if horizontal > 0 else 0.0


def head_pose(face: Face, image_size: tuple[int, int]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a perspective fit of a generic head model.

    The fit starts from the model facing the camera at the distance its eye-corner span implies.
    Started from nothing, solvePnP's iterative fit can settle on the mirror solution, a head
    behind the camera, whose angles mean nothing (biden/02.jpg, a frontal portrait, read a pitch
    of 21.5 degrees that way, and 26 degrees in the simulated camera: docs/FACE.md).
    """
    height, width = image_size
    focal = float(max(height, width))
    camera = np.array([[focal, 0, width / 2.0], [0, focal, height / 2.0], [0, 0, 1]], dtype=np.float64)
    points = face.landmarks[_MODEL_INDICES].astype(np.float64)
    rvec, tvec = _facing_the_camera(points, focal, (width / 2.0, height / 2.0))
    ok, rvec, tvec = cv2.solvePnP(_MODEL_POINTS, points, camera, None, rvec, tvec, useExtrinsicGuess=True,
                                  flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok or tvec[2, 0] <= 0:
        return (90.0, 90.0, 90.0)
    rotation, _ = cv2.Rodrigues(rvec)
    angles = cv2.RQDecomp3x3(rotation)[0]
    pitch, yaw, roll = (_wrapped(angle) for angle in angles)
    return yaw, pitch, roll


def _facing_the_camera(points: np.ndarray, focal: float, centre: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation of the model turned to the camera, its nose tip on the landmark's ray
    at the depth where its outer eye corners would be as far apart as the landmarks'."""
    model_span = float(np.linalg.norm(_MODEL_POINTS[3] - _MODEL_POINTS[2]))
    image_span = max(float(np.linalg.norm(points[3] - points[2])), 1.0)
    depth = focal * model_span / image_span
    nose_x, nose_y = points[0]
    tvec = np.array([[(nose_x - centre[0]) * depth / focal], [(nose_y - centre[1]) * depth / focal], [depth]])
    return np.zeros((3, 1)), tvec


def assess_quality(rgb: np.ndarray, face: Face, *, face_count: int | None = None) -> QualityReport:
    """Quality of one face; pass face_count (faces in the frame) to also require exactly one."""
    height, width = rgb.shape[:2]
    metrics: list[QualityMetric] = []
    messages: list[str] = []

    def add(name: str, value: float, threshold, passed: bool, guidance: str) -> None:
        metrics.append(QualityMetric(name, round(float(value), 4), threshold, bool(passed)))
        if not passed and guidance not in messages:
            messages.append(guidance)

    if face_count is not None:
        add("face_count", face_count, 1, face_count == 1,
            GUIDANCE["face_count_none" if face_count == 0 else "face_count_many"])
    add("inter_eye_distance", face.inter_eye_distance, MIN_INTER_EYE_PX,
        face.inter_eye_distance >= MIN_INTER_EYE_PX, GUIDANCE["inter_eye_distance"])
    in_frame = _fraction_in_frame(face, width, height)
    add("face_in_frame", in_frame, MIN_IN_FRAME, in_frame >= MIN_IN_FRAME, GUIDANCE["face_in_frame"])
    yaw, pitch, roll = head_pose(face, (height, width))
    add("yaw", yaw, MAX_YAW_DEG, abs(yaw) <= MAX_YAW_DEG, GUIDANCE["yaw"])
    add("pitch", pitch, MAX_PITCH_DEG, abs(pitch) <= MAX_PITCH_DEG, GUIDANCE["pitch"])
    add("roll", roll, MAX_ROLL_DEG, abs(roll) <= MAX_ROLL_DEG, GUIDANCE["roll"])

    grey = _inner_face_grey(rgb, face)
    sharpness = _sharpness(grey)
    add("sharpness", sharpness, MIN_SHARPNESS, sharpness >= MIN_SHARPNESS, GUIDANCE["sharpness"])
    exposure = float(grey.mean()) if grey.size else 0.0
    low, high = EXPOSURE_RANGE
    add("exposure", exposure, EXPOSURE_RANGE, low <= exposure <= high,
        GUIDANCE["exposure_dark" if exposure < low else "exposure_bright"])
    contrast = float(grey.std()) if grey.size else 0.0
    add("contrast", contrast, MIN_CONTRAST, contrast >= MIN_CONTRAST, GUIDANCE["contrast"])
    openness = (eye_aspect_ratio(face.right_eye) + eye_aspect_ratio(face.left_eye)) / 2.0
    add("eyes_open", openness, MIN_EYE_ASPECT_RATIO, openness >= MIN_EYE_ASPECT_RATIO, GUIDANCE["eyes_open"])

    return QualityReport(metrics=metrics, passed=all(m.passed for m in metrics), messages=messages)


def _wrapped(angle: float) -> float:
    """Fold Euler angles into [-90, 90]: the model has no back of the head."""
    angle = (angle + 180.0) % 360.0 - 180.0
    if angle > 90.0:
        angle -= 180.0
    elif angle < -90.0:
        angle += 180.0
    return float(angle)


def _fraction_in_frame(face: Face, width: int, height: int) -> float:
    top, right, bottom, left = face.box
    if face.area == 0:
        return 0.0
    inside_w = max(0, min(right, width) - max(left, 0))
    inside_h = max(0, min(bottom, height) - max(top, 0))
    return inside_w * inside_h / face.area


def _inner_face_grey(rgb: np.ndarray, face: Face) -> np.ndarray:
    """Grey pixels of the face between the eyebrows and the chin, inside the jaw line."""
    height, width = rgb.shape[:2]
    points = face.landmarks
    left = int(max(0, np.floor(points[:, 0].min())))
    right = int(min(width, np.ceil(points[:, 0].max())))
    top = int(max(0, np.floor(points[17:27, 1].min())))
    bottom = int(min(height, np.ceil(points[:, 1].max())))
    if right - left < 4 or bottom - top < 4:
        return np.zeros((0, 0), np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(rgb[top:bottom, left:right]), cv2.COLOR_RGB2GRAY)


def _sharpness(grey: np.ndarray) -> float:
    if grey.size == 0:
        return 0.0
    side = SHARPNESS_SIDE
    resized = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA)
    spread = float(resized.std())
    if spread < 1.0:
        return 0.0
    return float(cv2.Laplacian(resized, cv2.CV_64F).var()) * (SHARPNESS_REFERENCE_STD / spread) ** 2
