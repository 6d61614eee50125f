"""Finding the MRZ on a page photograph and cutting it into upright line crops (OpenCV).

The MRZ is the page's longest rows of evenly spaced dark characters, at its foot. Dark text is
brought out with a black-hat filter, smeared along the rows, and the connected rows at least
half the page wide are the candidates; the lowest two or three of similar length are the MRZ.
Their slope gives the page's skew, undone before the lines are cut.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_WORK_WIDTH = 1000     # pixels: the page is searched at this width, whatever the camera's


@dataclass(frozen=True)
class MrzLines:
    crops: tuple[np.ndarray, ...]    # RGB, one per MRZ line, top to bottom, upright
    skew_degrees: float              # how far the page is turned anticlockwise on the image
    box: tuple[int, int, int, int]   # x, y, width, height of the MRZ in the input image


class MrzNotFound(ValueError):
    """No MRZ-like rows on the image."""


def find_mrz_lines(image: np.ndarray) -> MrzLines:
    scale = _WORK_WIDTH / image.shape[1]
    small = cv2.resize(image, (_WORK_WIDTH, max(1, round(image.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    rows = _mrz_rows(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    skew = float(np.degrees(np.mean([np.arctan(slope) for slope, _ in rows])))
    # Undo the skew about the MRZ's centre at full resolution, then find the rows again, level.
    points = np.concatenate([pixels for _, pixels in rows]) / scale
    centre = tuple(float(value) for value in points.mean(axis=0))
    matrix = cv2.getRotationMatrix2D(centre, skew, 1.0)
    upright = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REPLICATE)
    level_small = cv2.resize(upright, small.shape[1::-1], interpolation=cv2.INTER_AREA)
    level_rows = _mrz_rows(cv2.cvtColor(level_small, cv2.COLOR_RGB2GRAY))
    crops, boxes = [], []
    for _, pixels in level_rows:
        x0, y0 = pixels.min(axis=0) / scale
        x1, y1 = pixels.max(axis=0) / scale
        height = y1 - y0
        pad_x, pad_y = height * 0.8, height * 0.35
        left, top = max(0, int(x0 - pad_x)), max(0, int(y0 - pad_y))
        right, bottom = min(image.shape[1], int(x1 + pad_x) + 1), min(image.shape[0], int(y1 + pad_y) + 1)
        crops.append(upright[top:bottom, left:right])
        boxes.append((left, top, right, bottom))
    left, top = min(box[0] for box in boxes), min(box[1] for box in boxes)
    right, bottom = max(box[2] for box in boxes), max(box[3] for box in boxes)
    return MrzLines(tuple(crops), -skew, (left, top, right - left, bottom - top))


def _mrz_rows(gray: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """(slope, pixel coordinates (x, y)) of each MRZ row, top to bottom."""
    height, width = gray.shape
    char = max(3, width // 60)                       # about a character's width at this scale
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (char, char)))
    _, ink = cv2.threshold(blackhat, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))   # lone specks of noise
    smeared = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (char * 2, 1)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(smeared, connectivity=8)
    pieces = []   # stretches of a row: glare or a fold may break a line of characters in two or three
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        # A row's height is bounded by the page's width, not its height: a reader may send the MRZ
        # strip alone, two rows filling the image.
        if w < width * 0.12 or not width * 0.012 <= h <= min(width * 0.06, height * 0.45) or area < w * width * 0.01:
            continue   # not a row of characters: too short, a page edge, a blob
        ys, xs = np.nonzero(labels == label)
        pieces.append((float(y + h / 2), float(h), x, x + w, np.column_stack([xs, ys]).astype(np.float32)))
    candidates = []
    for row in _join_pieces(pieces):
        pixels = np.concatenate([piece[4] for piece in row])
        left, right = min(piece[2] for piece in row), max(piece[3] for piece in row)
        if right - left < width * 0.6:
            continue
        slope, intercept = np.polyfit(pixels[:, 0], pixels[:, 1], 1)
        residual = np.abs(pixels[:, 1] - (slope * pixels[:, 0] + intercept))
        row_height = max(piece[1] for piece in row)
        if np.percentile(residual, 95) > max(height * 0.04, row_height * 0.7):   # a blob, not a row of characters
            continue
        centre = float(slope * (left + right) / 2 + intercept)
        candidates.append((centre, right - left, float(slope), pixels))
    if len(candidates) < 2:
        raise MrzNotFound(f"no MRZ found: {len(candidates)} row(s) of characters at least 60% of the page wide")
    candidates.sort(key=lambda row: row[0])
    lowest = candidates[-2:]   # a passport's two lines; TD1's three are for another day
    if abs(lowest[0][1] - lowest[1][1]) > 0.2 * max(lowest[0][1], lowest[1][1]):
        raise MrzNotFound("no MRZ found: the two lowest rows of characters differ in length")
    return [(slope, pixels) for _, _, slope, pixels in lowest]


def _join_pieces(pieces: list[tuple]) -> list[list[tuple]]:
    """Pieces side by side at the same height, as rows."""
    rows: list[list[tuple]] = []
    for piece in sorted(pieces, key=lambda piece: piece[2]):
        for row in rows:
            last = row[-1]
            if abs(piece[0] - last[0]) < max(piece[1], last[1]) * 0.5 and piece[2] >= last[3] - 5:
                row.append(piece)
                break
        else:
            rows.append([piece])
    return rows
