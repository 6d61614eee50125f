"""Finding the MRZ on a page photograph and cutting it into upright line crops (OpenCV).

The MRZ is the page's longest rows of evenly spaced dark characters, at its foot. Dark text is
brought out with a black-hat filter, smeared along the rows, and the connected rows at least
60 % of the page wide are the candidates (each measured along its own slope, so a turned page's
rows count as rows); the lowest two of similar length are the MRZ.

Every MRZ line starts and ends with ink and all its lines are equally long, so the ends of the
first and last lines are the corners of a rectangle on the document. Mapping those four points
back to a rectangle (a perspective transform) undoes the page's turn, a camera's keystone and
its foreshortening at once; an MRZ photographed small is enlarged to MIN_PITCH pixels a
character on the way, so that each character has enough pixels to be compared with the font.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_WORK_WIDTH = 1000     # pixels: the page is searched at this width, whatever the camera's
MIN_PITCH = 16         # pixels from one character to the next in the levelled MRZ, at least
_CELLS = 44            # characters on a TD3 line
_PARALLEL_DEGREES = 0.3   # lines closer to parallel than this, and
_EQUAL_LENGTHS = 0.015    # lengths closer than this: the page is only turned, not seen in perspective
MIN_GLYPHS = 20        # separate marks along a row, at least: an MRZ line has 30 to 44 characters


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
    skew = float(np.degrees(np.mean([np.arctan(row.slope) for row in rows])))
    top, bottom = rows[0], rows[-1]
    length = float(np.mean([np.linalg.norm(row.end - row.start) for row in (top, bottom)])) / scale
    slopes_differ = abs(np.degrees(np.arctan(top.slope) - np.arctan(bottom.slope)))
    lengths_differ = abs(np.linalg.norm(top.end - top.start) - np.linalg.norm(bottom.end - bottom.start)) / scale
    if (slopes_differ < _PARALLEL_DEGREES and lengths_differ < length * _EQUAL_LENGTHS
            and length >= MIN_PITCH * (_CELLS - 1)):
        return _turned_back(image, rows, scale, small.shape[1::-1], skew)
    return _levelled(image, rows, scale, skew)


def _turned_back(image: np.ndarray, rows: list[_Row], scale: float, small_size: tuple[int, int],
                 skew: float) -> MrzLines:
    """A page only turned (its lines parallel and equally long, large enough): turned back about
    the MRZ's centre, the rows found again level and cut, each to its own height. Fitted to all
    the rows' ink, a turn is steadier than a perspective from four line ends."""
    points = np.concatenate([row.pixels for row in rows]) / scale
    centre = tuple(float(value) for value in points.mean(axis=0))
    matrix = cv2.getRotationMatrix2D(centre, skew, 1.0)
    upright = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REPLICATE)
    level_small = cv2.resize(upright, small_size, interpolation=cv2.INTER_AREA)
    crops, boxes = [], []
    for row in _mrz_rows(cv2.cvtColor(level_small, cv2.COLOR_RGB2GRAY)):
        x0, y0 = row.pixels.min(axis=0) / scale
        x1, y1 = row.pixels.max(axis=0) / scale
        height = y1 - y0
        pad_x, pad_y = height * 0.8, height * 0.35
        left, top = max(0, int(x0 - pad_x)), max(0, int(y0 - pad_y))
        right, bottom = min(image.shape[1], int(x1 + pad_x) + 1), min(image.shape[0], int(y1 + pad_y) + 1)
        crops.append(upright[top:bottom, left:right])
        boxes.append((left, top, right, bottom))
    left, top = min(box[0] for box in boxes), min(box[1] for box in boxes)
    right, bottom = max(box[2] for box in boxes), max(box[3] for box in boxes)
    return MrzLines(tuple(crops), -skew, (left, top, right - left, bottom - top))


def _levelled(image: np.ndarray, rows: list[_Row], scale: float, skew: float) -> MrzLines:
    """Any other view: the four ends of the first and last lines mapped back to a rectangle."""
    top, bottom = rows[0], rows[-1]
    corners = np.float32([top.start, top.end, bottom.end, bottom.start]) / scale
    length = float(np.mean([np.linalg.norm(row.end - row.start) for row in (top, bottom)])) / scale
    spacing = float(np.mean([np.linalg.norm(bottom.start - top.start), np.linalg.norm(bottom.end - top.end)])) / scale
    zoom = max(1.0, MIN_PITCH * (_CELLS - 1) / length)
    length, spacing = length * zoom, spacing * zoom
    thickness = max(row.thickness for row in rows) / scale * zoom
    margin_x, margin_y = length / (_CELLS - 1) * 2 + thickness, spacing
    level = np.float32([[margin_x, margin_y], [margin_x + length, margin_y],
                        [margin_x + length, margin_y + spacing], [margin_x, margin_y + spacing]])
    transform = cv2.getPerspectiveTransform(corners, level)
    size = (round(length + 2 * margin_x), round(spacing + 2 * margin_y))
    upright = cv2.warpPerspective(image, transform, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    crops = []
    for centre in (margin_y, margin_y + spacing):
        pad_x, pad_y = thickness * 0.8, thickness * 0.85
        crops.append(upright[max(0, round(centre - pad_y)):round(centre + pad_y) + 1,
                             max(0, round(margin_x - pad_x)):round(margin_x + length + pad_x) + 1])
    spread = thickness / zoom * scale
    xs, ys = corners[:, 0], corners[:, 1]
    left, top_y = max(0, int(xs.min() - spread)), max(0, int(ys.min() - spread))
    right, bottom_y = min(image.shape[1], int(xs.max() + spread) + 1), min(image.shape[0], int(ys.max() + spread) + 1)
    return MrzLines(tuple(crops), -skew, (left, top_y, right - left, bottom_y - top_y))


@dataclass(frozen=True)
class _Row:
    slope: float
    intercept: float
    left: float
    right: float
    thickness: float          # across the row: about a character's height
    pixels: np.ndarray        # (x, y) of its ink

    def y_at(self, x: float) -> float:
        return self.slope * x + self.intercept

    @property
    def start(self) -> np.ndarray:
        return np.array([self.left, self.y_at(self.left)], np.float32)

    @property
    def end(self) -> np.ndarray:
        return np.array([self.right, self.y_at(self.right)], np.float32)


def _fitted(pixels: np.ndarray) -> _Row:
    slope, intercept = np.polyfit(pixels[:, 0], pixels[:, 1], 1)
    across = (pixels[:, 1] - (slope * pixels[:, 0] + intercept)) / np.hypot(1.0, slope)
    return _Row(float(slope), float(intercept), float(pixels[:, 0].min()), float(pixels[:, 0].max()),
                float(np.percentile(across, 99) - np.percentile(across, 1)), pixels)


def _mrz_rows(gray: np.ndarray) -> list[_Row]:
    """The MRZ's rows, top to bottom."""
    height, width = gray.shape
    char = max(3, width // 60)                       # about a character's width at this scale
    blackhat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (char, char)))
    _, ink = cv2.threshold(blackhat, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))   # lone specks of noise
    smeared = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (char * 2, 1)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(smeared, connectivity=8)
    # A row's thickness is bounded by the page's width, not its height: a reader may send the MRZ
    # strip alone, two rows filling the image.
    thinnest, thickest = width * 0.012, min(width * 0.06, height * 0.45)
    pieces = []   # stretches of a row: glare or a fold may break a line of characters in two or three
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        if w < width * 0.12 or h < thinnest or h > thickest + w * 0.3:
            continue   # too short, or too thin or thick even turned by up to about 15 degrees
        ys, xs = np.nonzero(labels[y:y + h, x:x + w] == label)
        piece = _fitted(np.column_stack([xs + x, ys + y]).astype(np.float32))
        if not thinnest <= piece.thickness <= thickest or area < (piece.right - piece.left) * width * 0.01:
            continue   # not a row of characters: a page edge, a blob
        pieces.append(piece)
    candidates = []
    for joined in _join_pieces(pieces):
        row = _fitted(np.concatenate([piece.pixels for piece in joined])) if len(joined) > 1 else joined[0]
        if row.right - row.left < width * 0.6:
            continue
        if row.thickness > max(height * 0.04, max(piece.thickness for piece in joined) * 1.4):
            continue   # the pieces do not lie on one line: a blob, not a row of characters
        if _glyphs_along(ink, row) < MIN_GLYPHS:
            continue   # a page's edge, a rule or a shadow: one long stroke, not characters
        candidates.append(row)
    if len(candidates) < 2:
        raise MrzNotFound(f"no MRZ found: {len(candidates)} row(s) of characters at least 60% of the page wide")
    candidates.sort(key=lambda row: row.y_at((row.left + row.right) / 2))
    lowest = candidates[-2:]   # a passport's two lines; TD1's three are for another day
    lengths = [row.right - row.left for row in lowest]
    if abs(lengths[0] - lengths[1]) > 0.2 * max(lengths):
        raise MrzNotFound("no MRZ found: the two lowest rows of characters differ in length")
    return lowest


def _glyphs_along(ink: np.ndarray, row: _Row) -> int:
    """How many separate marks lie along the row's centre line (across its thickness)."""
    xs = np.arange(int(row.left), int(row.right) + 1)
    half = max(1, round(row.thickness / 4))
    centre = np.round(row.slope * xs + row.intercept).astype(int)
    band = np.zeros(len(xs), bool)
    for offset in range(-half, half + 1):
        ys = np.clip(centre + offset, 0, ink.shape[0] - 1)
        band |= ink[ys, xs] > 0
    return int(np.count_nonzero(band[1:] & ~band[:-1]) + band[0])


def _join_pieces(pieces: list[_Row]) -> list[list[_Row]]:
    """Pieces one after another along the same line, as rows."""
    rows: list[list[_Row]] = []
    for piece in sorted(pieces, key=lambda piece: piece.left):
        middle = (piece.left + piece.right) / 2
        for row in rows:
            last = row[-1]
            if (abs(last.y_at(middle) - piece.y_at(middle)) < max(piece.thickness, last.thickness) * 0.5
                    and piece.left >= last.right - 5):
                row.append(piece)
                break
        else:
            rows.append([piece])
    return rows
