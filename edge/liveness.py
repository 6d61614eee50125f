"""Presentation-attack cues gathered over the frames of one capture.

A live face blinks, sways by a few pixels and deforms non-rigidly (eyelids,
mouth) between frames; a printed photo held still does none of that; a face
replayed on a display shows the display's pixel grid as moire and its refresh
as brightness flicker. Each cue is measured, compared with its threshold and
reported; the decision needs motion, a sign of life (a blink or non-rigid
motion) and no sign of a screen. These are heuristics, not a certified PAD
(ISO/IEC 30107-3) component: see docs/FACE.md for what they do not catch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from drivers.face import Face, eye_aspect_ratio

MIN_FRAMES = 8
MIN_MOTION = 0.006  # spread of the smoothed face centre, in inter-eye distances: live 0.015+, a still print < 0.002
BLINK_SIGMAS = 3.0  # an eye aspect ratio this many robust sigmas below its median is a closing eye
MIN_BLINK_DROP = 0.12  # ...and at least this fraction below it, whatever the noise
MAX_BLINK_FRAMES = 8  # a closure longer than this (about half a second) is not a blink
MIN_NON_RIGID = 0.012  # spread of landmark residuals after a similarity fit, in inter-eye distances
MAX_MOIRE = 25.0  # strongest off-grid high-frequency peak over its ring median: real photos 3-15, screens 40+
MAX_FLICKER = 0.015  # frame-to-frame brightness change of the face, relative


@dataclass(frozen=True)
class LivenessResult:
    live: bool
    score: float  # 0..1, higher = more evidence of a live face
    reasons: list[str]
    cues: dict[str, float] = field(default_factory=dict)


class LivenessObserver:
    """Feed it the frames of one capture (add), then ask for the verdict (result)."""

    def __init__(self) -> None:
        self._landmarks: list[np.ndarray] = []
        self._ears: list[float] = []
        self._brightness: list[float] = []
        self._moire: list[float] = []

    def __len__(self) -> int:
        return len(self._landmarks)

    def add(self, rgb: np.ndarray, face: Face) -> None:
        self._landmarks.append(face.landmarks.astype(np.float64))
        self._ears.append((eye_aspect_ratio(face.right_eye) + eye_aspect_ratio(face.left_eye)) / 2.0)
        self._brightness.append(_skin_brightness(rgb, face))
        if len(self._landmarks) % 3 == 1:  # the spectrum changes slowly; every third frame is enough
            self._moire.append(moire_peak_ratio(_face_grey(rgb, face)))

    def result(self) -> LivenessResult:
        frames = len(self._landmarks)
        if frames < MIN_FRAMES:
            return LivenessResult(False, 0.0, [f"too few frames with a face ({frames} < {MIN_FRAMES})"], {})
        shapes = np.stack(self._landmarks)
        eye_distance = float(np.median(np.linalg.norm(shapes[:, 42:48].mean(1) - shapes[:, 36:42].mean(1), axis=1)))
        cues = {
            "frames": float(frames),
            "motion": _motion(shapes) / eye_distance,
            "blinks": float(count_blinks(self._ears)),
            "non_rigid": _non_rigid(shapes) / eye_distance,
            "moire": float(np.median(self._moire)),
            "flicker": _flicker(self._brightness),
        }
        reasons = []
        moving = cues["motion"] >= MIN_MOTION
        reasons.append("micro-motion present" if moving else "no micro-motion: a still picture")
        alive = cues["blinks"] >= 1 or cues["non_rigid"] >= MIN_NON_RIGID
        if cues["blinks"] >= 1:
            reasons.append(f"{int(cues['blinks'])} blink(s) seen")
        elif cues["non_rigid"] >= MIN_NON_RIGID:
            reasons.append("non-rigid facial motion")
        else:
            reasons.append("no blink and no non-rigid motion")
        screen_like = cues["moire"] > MAX_MOIRE or cues["flicker"] > MAX_FLICKER
        if cues["moire"] > MAX_MOIRE:
            reasons.append("moire pattern: a face on a screen")
        if cues["flicker"] > MAX_FLICKER:
            reasons.append("brightness flicker: a display's refresh")
        evidence = (
            0.3 * min(cues["motion"] / MIN_MOTION, 1.0)
            + 0.4 * min(cues["blinks"], 1.0)
            + 0.3 * min(cues["non_rigid"] / MIN_NON_RIGID, 1.0)
        )
        screen = max(cues["moire"] / MAX_MOIRE, cues["flicker"] / MAX_FLICKER)
        score = evidence * (1.0 if screen <= 1.0 else max(0.0, 2.0 - screen) * 0.5)
        live = moving and alive and not screen_like
        return LivenessResult(live, round(float(score), 3), reasons, {k: round(v, 4) for k, v in cues.items()})


def assess_liveness(frames: list[tuple[np.ndarray, Face]]) -> LivenessResult:
    observer = LivenessObserver()
    for rgb, face in frames:
        observer.add(rgb, face)
    return observer.result()


def count_blinks(ears: list[float]) -> int:
    """Short dips of the eye aspect ratio well below its median, each recovered from."""
    series = np.asarray(ears, dtype=np.float64)
    if len(series) < 3:
        return 0
    median = float(np.median(series))
    sigma = 1.4826 * float(np.median(np.abs(series - median)))
    limit = median - max(BLINK_SIGMAS * sigma, MIN_BLINK_DROP * median)
    blinks, run = 0, 0
    for value in series:
        if value < limit:
            run += 1
        else:
            if 0 < run <= MAX_BLINK_FRAMES:
                blinks += 1
            run = 0
    return blinks


def moire_peak_ratio(grey: np.ndarray) -> float:
    """How much the strongest high-frequency peak stands out of its ring of the spectrum.

    A display filmed by a camera adds a periodic grid at a few pixels' period; a
    face's own texture and sensor noise spread their energy smoothly. Frequencies
    on the 8-pixel JPEG block grid are left out, since compression puts peaks there.
    """
    if grey.shape[0] < 32 or grey.shape[1] < 32:
        return 0.0
    size = min(grey.shape[0], grey.shape[1], 256)
    y0 = (grey.shape[0] - size) // 2
    x0 = (grey.shape[1] - size) // 2
    patch = grey[y0 : y0 + size, x0 : x0 + size].astype(np.float32)
    patch -= cv2.GaussianBlur(patch, (0, 0), 3.0)  # keep the fine detail only
    window = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
    spectrum = np.abs(np.fft.fftshift(np.fft.fft2(patch * window)))
    freqs = np.fft.fftshift(np.fft.fftfreq(size))
    fy, fx = np.meshgrid(freqs, freqs, indexing="ij")
    radius = np.hypot(fx, fy)
    off_grid = (_distance_to_grid(fx) > 0.008) & (_distance_to_grid(fy) > 0.008)
    band = (radius > 0.18) & (radius < 0.48) & off_grid
    if not band.any():
        return 0.0
    # Each frequency against the median of its ring: natural spectra fall off with
    # radius, so only a peak standing out of its own ring counts.
    rings = np.round(radius * size).astype(int)
    ratio = 0.0
    for ring in np.unique(rings[band]):
        members = spectrum[band & (rings == ring)]
        if members.size >= 8:
            ratio = max(ratio, float(members.max() / (np.median(members) + 1e-6)))
    return ratio


def _distance_to_grid(freq: np.ndarray) -> np.ndarray:
    return np.abs(freq * 8 - np.round(freq * 8)) / 8


def _face_grey(rgb: np.ndarray, face: Face) -> np.ndarray:
    top, right, bottom, left = face.box
    height, width = rgb.shape[:2]
    crop = rgb[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    if crop.size == 0:
        return np.zeros((0, 0), np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)


def _skin_brightness(rgb: np.ndarray, face: Face) -> float:
    """Mean grey level inside the landmarks' outline: steadier than the detector's box, which jumps."""
    hull = cv2.convexHull(np.round(face.landmarks).astype(np.int32))
    left, top, width, height = cv2.boundingRect(hull)
    frame_h, frame_w = rgb.shape[:2]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + width, frame_w), min(top + height, frame_h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 0.0
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(mask, hull - (x0, y0), 255)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return float(cv2.mean(grey, mask=mask)[0])


def _motion(shapes: np.ndarray) -> float:
    """Spread of the face centre's path in pixels, smoothed over 5 frames so landmark jitter averages out."""
    centres = shapes.mean(axis=1)
    kernel = np.ones(5) / 5.0
    path = np.stack([np.convolve(centres[:, axis], kernel, mode="valid") for axis in (0, 1)], axis=1)
    return float(np.linalg.norm(path.std(axis=0)))


def _non_rigid(shapes: np.ndarray) -> float:
    """How much the landmark residual, after removing each frame's rotation, scale and shift, varies."""
    reference = np.median(shapes, axis=0)
    residuals = []
    for shape in shapes:
        matrix, _ = cv2.estimateAffinePartial2D(shape.astype(np.float32), reference.astype(np.float32))
        if matrix is None:
            continue
        aligned = shape @ matrix[:, :2].T + matrix[:, 2]
        residuals.append(float(np.sqrt(np.mean(np.sum((aligned - reference) ** 2, axis=1)))))
    if len(residuals) < 2:
        return 0.0
    return float(np.percentile(residuals, 95) - np.percentile(residuals, 50))


def _flicker(brightness: list[float]) -> float:
    """Median absolute frame-to-frame change of the face brightness after removing slow drift."""
    series = np.asarray(brightness, dtype=np.float64)
    if len(series) < 4 or series.mean() <= 0:
        return 0.0
    smooth = np.convolve(series, np.ones(3) / 3.0, mode="valid")
    detail = series[1:-1] - smooth
    return float(np.median(np.abs(detail)) / series.mean())
