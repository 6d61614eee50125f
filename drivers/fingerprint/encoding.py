"""A fixed-length encoding of a minutiae template, for a FAISS shortlist in 1:N search.

Minutiae templates have no fixed length and no order, so they cannot be indexed as they are. This
encoding counts the template's local structures instead: for every minutia, each of its nearest
neighbours is described by its distance, its bearing and its direction, both relative to the
minutia's own direction (so rotation and translation change nothing), and that triple is counted in a
histogram of DISTANCE_BINS x BEARING_BINS x DIRECTION_BINS cells, spread over the neighbouring cells
(trilinear soft binning) so that a small distortion moves weight rather than a whole count. The
square root of the histogram, L2-normalised, is the vector: two prints of one finger share many local
structures and so lie close (L2 on unit vectors is cosine similarity).

It is a bag of minutia-pair features, in the spirit of Minutia Cylinder-Code's local, rotation-free
descriptions, but not MCC (no cylinders, no per-cell contributions of every neighbour in a radius)
and not any published indexing scheme; it only has to put a finger's mate in a shortlist that the
1:1 comparator (drivers.fingerprint.compare) then re-ranks.
"""
from __future__ import annotations

import numpy as np

from drivers.fingerprint.template import Template

NEIGHBOURS = 24
DISTANCE_FROM, DISTANCE_STEP, DISTANCE_BINS = 16.0, 16.0, 10    # pixels: 16-176 px at 500 ppi
BEARING_BINS = 16
DIRECTION_BINS = 8
DIMENSION = DISTANCE_BINS * BEARING_BINS * DIRECTION_BINS
VERSION = "pairs-1"     # the model_version a gallery of these vectors is created with


def encode(template: Template) -> np.ndarray:
    """The template's unit-length float32 vector of DIMENSION values (all zero below two minutiae)."""
    vector = np.zeros((DISTANCE_BINS, BEARING_BINS, DIRECTION_BINS), np.float64)
    points = np.array([(m.x, -m.y, m.angle) for m in template.minutiae], np.float64).reshape(-1, 3)
    if len(points) >= 2:
        delta = points[None, :, :2] - points[:, None, :2]
        distance = np.hypot(delta[..., 0], delta[..., 1])
        np.fill_diagonal(distance, np.inf)
        k = min(NEIGHBOURS, len(points) - 1)
        nearest = np.argsort(distance, axis=1)[:, :k]
        rows = np.arange(len(points))[:, None]
        bearing = np.arctan2(delta[rows, nearest, 1], delta[rows, nearest, 0]) - points[:, None, 2]
        direction = points[nearest, 2] - points[:, None, 2]
        _accumulate(vector, ((distance[rows, nearest] - DISTANCE_FROM) / DISTANCE_STEP).ravel(),
                    (bearing % (2 * np.pi) / (2 * np.pi) * BEARING_BINS).ravel(),
                    (direction % (2 * np.pi) / (2 * np.pi) * DIRECTION_BINS).ravel())
    vector = np.sqrt(vector.ravel())
    norm = np.linalg.norm(vector)
    return (vector / norm if norm > 0 else vector).astype(np.float32)


def _accumulate(histogram: np.ndarray, distance: np.ndarray, bearing: np.ndarray, direction: np.ndarray) -> None:
    """Adds each (distance, bearing, direction) in cell units to its eight surrounding cells, weighted by
    nearness; distance beyond the ends is dropped, the two angles wrap round."""
    d0, b0, r0 = np.floor(distance), np.floor(bearing), np.floor(direction)
    fd, fb, fr = distance - d0, bearing - b0, direction - r0
    for dd, wd in ((0, 1 - fd), (1, fd)):
        di = (d0 + dd).astype(int)
        inside = (di >= 0) & (di < DISTANCE_BINS)
        for db, wb in ((0, 1 - fb), (1, fb)):
            bi = (b0 + db).astype(int) % BEARING_BINS
            for dr, wr in ((0, 1 - fr), (1, fr)):
                ri = (r0 + dr).astype(int) % DIRECTION_BINS
                np.add.at(histogram, (di[inside], bi[inside], ri[inside]), (wd * wb * wr)[inside])
