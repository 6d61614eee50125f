"""Evaluation plots drawn with OpenCV (no plotting library needed on a gate or in CI)."""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from limes.face_calibration.evaluation import det_curve

WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (200, 200, 200)
GENUINE, IMPOSTOR, THRESHOLD = (60, 160, 40), (40, 40, 200), (0, 140, 255)  # BGR
FLOOR = 1e-3  # rates of zero are drawn on the axis at this value


def draw_evaluation(genuine, impostor, threshold: float, path: str | Path) -> Path:
    """Left: genuine and impostor distance histograms with the threshold; right: DET curve (log axes)."""
    canvas = np.full((420, 960, 3), 255, np.uint8)
    _histograms(canvas[:, :480], np.asarray(genuine, float), np.asarray(impostor, float), threshold)
    _det(canvas[:, 480:], genuine, impostor)
    path = Path(path)
    if not cv2.imwrite(str(path), canvas):
        raise OSError(f"cannot write plot {path}")
    return path


def _histograms(panel, genuine, impostor, threshold) -> None:
    left, right, top, bottom = 50, 460, 40, 370
    cv2.putText(panel, "distance histograms", (left, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.6, BLACK, 1, cv2.LINE_AA)
    edges = np.linspace(0.0, 1.2, 49)
    counts = [np.histogram(values, edges)[0] / max(len(values), 1) for values in (genuine, impostor)]
    peak = max(max(c.max() for c in counts), 1e-9)
    to_x = lambda d: int(left + (right - left) * d / edges[-1])  # noqa: E731
    for colour, count in zip((GENUINE, IMPOSTOR), counts):
        for index, value in enumerate(count):
            if value:
                height = int((bottom - top) * value / peak)
                cv2.rectangle(panel, (to_x(edges[index]), bottom - height), (to_x(edges[index + 1]) - 1, bottom),
                              colour, 1)
    cv2.line(panel, (to_x(threshold), top), (to_x(threshold), bottom), THRESHOLD, 2)
    cv2.line(panel, (left, bottom), (right, bottom), BLACK, 1)
    for tick in np.arange(0.0, 1.21, 0.2):
        cv2.putText(panel, f"{tick:.1f}", (to_x(tick) - 10, bottom + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, BLACK, 1)
    cv2.putText(panel, f"genuine ({len(genuine)})", (left, bottom + 40), cv2.FONT_HERSHEY_SIMPLEX, 0.45, GENUINE, 1)
    cv2.putText(panel, f"impostor ({len(impostor)})", (left + 130, bottom + 40), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                IMPOSTOR, 1)
    cv2.putText(panel, f"threshold {threshold:.3f}", (left + 270, bottom + 40), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                THRESHOLD, 1)


def _det(panel, genuine, impostor) -> None:
    left, right, top, bottom = 60, 450, 40, 370
    cv2.putText(panel, "DET: FRR against FAR (log)", (left, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.6, BLACK, 1, cv2.LINE_AA)
    span = -math.log10(FLOOR)

    def to_px(far: float, frr: float) -> tuple[int, int]:
        x = (math.log10(max(far, FLOOR)) + span) / span
        y = (math.log10(max(frr, FLOOR)) + span) / span
        return int(left + (right - left) * x), int(bottom - (bottom - top) * y)

    for exponent in range(int(span) + 1):
        rate = 10.0 ** -exponent
        x, _ = to_px(rate, 1)
        _, y = to_px(1, rate)
        cv2.line(panel, (x, top), (x, bottom), GREY, 1)
        cv2.line(panel, (left, y), (right, y), GREY, 1)
        label = f"{rate:g}"
        cv2.putText(panel, label, (x - 12, bottom + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, BLACK, 1)
        cv2.putText(panel, label, (5, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, BLACK, 1)
    points = [to_px(far, frr) for _, far, frr in det_curve(genuine, impostor)]
    if len(points) > 1:
        cv2.polylines(panel, [np.array(points, np.int32)], False, IMPOSTOR, 2, cv2.LINE_AA)
    cv2.putText(panel, "FAR", (right - 30, bottom + 40), cv2.FONT_HERSHEY_SIMPLEX, 0.45, BLACK, 1)
    cv2.putText(panel, "FRR", (5, top - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, BLACK, 1)
