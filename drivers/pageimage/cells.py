"""An MRZ line cut into its character cells.

OCR-B in the MRZ is printed at a fixed pitch (ten characters to the inch), every line
LINE_LENGTH cells long, and its first and last cells always hold ink. So the centres of the
line's glyphs lie on a comb x = first + k * pitch: found from the glyphs' connected components,
the comb gives each of the cells, and each cell is read alone. Reading cells rather than the
whole line means a run of fillers can never be counted wrong, nor a letter dropped.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


class CellsNotFound(ValueError):
    """The line's glyphs do not lie on a comb of the expected number of cells."""


@dataclass(frozen=True)
class Cells:
    crops: list[np.ndarray]   # RGB, one per cell, background on both sides of the glyph
    first: float              # the first cell's centre, pixels from the line crop's left
    pitch: float              # pixels from one cell's centre to the next

    def index_at(self, x: float) -> int:
        """The cell a point `x` pixels from the line crop's left falls in (may be out of range)."""
        return round((x - self.first) / self.pitch)


def cut_cells(line: np.ndarray, count: int) -> Cells:
    """The `count` character cells of the upright line crop `line`."""
    gray = cv2.cvtColor(line, cv2.COLOR_RGB2GRAY)
    height = gray.shape[0]
    block = max(3, (height // 2) * 2 + 1)
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, block, 12)
    found, _, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    glyphs = [centroids[label][0] for label in range(1, found)
              if height * 0.18 <= stats[label][3] <= height * 0.95 and stats[label][2] <= height
              and stats[label][4] >= height * 0.5]
    if len(glyphs) < count // 2:
        raise CellsNotFound(f"{len(glyphs)} glyphs on a line of {count} cells")
    centres = np.sort(np.array(glyphs))
    first, pitch = _comb(centres, count)
    cells = []
    for index in range(count):
        centre = first + index * pitch
        left, right = round(centre - pitch * 0.5), round(centre + pitch * 0.5)
        cell = line[:, max(0, left):max(0, right)]
        if cell.shape[1] < 2:
            raise CellsNotFound(f"cell {index + 1} falls outside the line")
        # Background either side, to a width of 1.35 heights: eight of the model's time steps.
        side = max(1, round((height * 1.35 - cell.shape[1]) / 2))
        cells.append(cv2.copyMakeBorder(cell, 0, 0, side, side, cv2.BORDER_REPLICATE))
    return Cells(cells, first, pitch)


def _comb(centres: np.ndarray, count: int) -> tuple[float, float]:
    """(first centre, pitch) of the comb the glyph centres lie on, fitted by least squares."""
    pitch = (centres[-1] - centres[0]) / (count - 1)
    if pitch <= 0:
        raise CellsNotFound("the line's glyphs do not spread along it")
    first = centres[0]
    for _ in range(2):
        slots = np.round((centres - first) / pitch)
        near = (np.abs(centres - (first + slots * pitch)) < pitch * 0.3) & (slots >= 0) & (slots < count)
        if near.sum() < count // 2 or len(set(slots[near])) < 2:
            raise CellsNotFound(f"only {int(near.sum())} glyphs fall on a comb of {count} cells")
        pitch, first = np.polyfit(slots[near], centres[near], 1)
    covered = len(set(np.round((centres - first) / pitch).astype(int)) & set(range(count)))
    if covered < count * 0.6:
        raise CellsNotFound(f"glyphs in {covered} of {count} cells")
    return float(first), float(pitch)
