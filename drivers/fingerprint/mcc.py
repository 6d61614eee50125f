"""Minutia Cylinder-Code (Cappelli, Ferrara and Maltoni, IEEE TPAMI 32(12), 2010): one local descriptor a
minutia, the bit-based variant.

A cylinder is a minutia's neighbourhood of radius R seen from the minutia itself: a disc of NS x NS cells,
centred on it and turned to its direction, stacked in ND sections of relative direction. A cell's value is
how much of the neighbouring minutiae lies near its centre (a Gaussian of the distance, σS) with a direction,
relative to the minutia's, near the section's (a Gaussian of the angle difference, σD); the bit-based variant
keeps a cell as 1 when that sum exceeds μΨ. A cell is valid when it lies within the disc and inside the
print's area (the minutiae's convex hull, grown by ω): a cylinder with too few valid cells or too few
neighbours is dropped, as the paper does.

Written here: no package installable here computes MCC (the `afis` sdist does, but it is not used, see
docs/FINGERPRINTS.md). Parameters are the paper's (R 70, NS 16, ND 6, σS 28/3, σD 2π/9, μΨ 0.01,
ω 50, minVC 75 %, minM 2), except that a cell's directional term is the Gaussian at the section's centre
rather than its integral over the section, and NS may be lowered for a cheaper, coarser cylinder.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from drivers.fingerprint.template import Template

RADIUS = 70.0
SPATIAL_CELLS = 16                  # NS
DIRECTION_CELLS = 6                 # ND
SIGMA_SPATIAL = 28.0 / 3.0
SIGMA_DIRECTION = 2.0 * math.pi / 9.0
CELL_THRESHOLD = 0.01               # μΨ
HULL_MARGIN = 50.0                  # ω, pixels
MIN_VALID_SHARE = 0.75              # minVC
MIN_NEIGHBOURS = 2                  # minM


def cylinders(template: Template, spatial_cells: int = SPATIAL_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """(bits, valid) of the template's kept cylinders: two bool arrays of shape (cylinders, NS*NS*ND),
    cells in (row, column, section) order; a cell outside the disc or the print is 0 and not valid."""
    cells = spatial_cells * spatial_cells * DIRECTION_CELLS
    points = np.array([(m.x, -m.y, m.angle) for m in template.minutiae], np.float64).reshape(-1, 3)
    if len(points) < MIN_NEIGHBOURS + 1:
        return np.zeros((0, cells), bool), np.zeros((0, cells), bool)
    step = 2.0 * RADIUS / spatial_cells
    offsets = (np.arange(spatial_cells) - (spatial_cells - 1) / 2.0) * step
    grid_x, grid_y = np.meshgrid(offsets, offsets)                         # cell centres, minutia at the origin
    in_disc = np.hypot(grid_x, grid_y) <= RADIUS
    cos, sin = np.cos(points[:, 2])[:, None, None], np.sin(points[:, 2])[:, None, None]
    centre_x = points[:, 0, None, None] + cos * grid_x - sin * grid_y        # (n, NS, NS): turned to each minutia
    centre_y = points[:, 1, None, None] + sin * grid_x + cos * grid_y
    inside_print = _near_hull(points[:, :2], centre_x, centre_y)
    valid_cells = in_disc[None] & inside_print                                # (n, NS, NS)

    dx = centre_x[:, :, :, None] - points[None, None, None, :, 0]
    dy = centre_y[:, :, :, None] - points[None, None, None, :, 1]
    spatial = np.exp(-(dx * dx + dy * dy) / (2 * SIGMA_SPATIAL ** 2)) / (SIGMA_SPATIAL * math.sqrt(2 * math.pi))
    spatial[np.arange(len(points)), :, :, np.arange(len(points))] = 0.0   # a minutia is not its own neighbour
    relative = _wrap(points[:, None, 2] - points[None, :, 2])              # (n, n): its direction minus theirs
    section = -math.pi + (np.arange(DIRECTION_CELLS) + 0.5) * 2 * math.pi / DIRECTION_CELLS
    directional = np.exp(-_wrap(section[None, None, :] - relative[:, :, None]) ** 2 / (2 * SIGMA_DIRECTION ** 2))
    directional /= SIGMA_DIRECTION * math.sqrt(2 * math.pi)
    # Σ_t spatial(cell, t) · directional(t, section), one matrix product a minutia
    values = np.einsum("iabt,itk->iabk", spatial, directional)
    bits = (values > CELL_THRESHOLD) & valid_cells[..., None]
    valid = np.broadcast_to(valid_cells[..., None], bits.shape)

    distance = np.hypot(points[:, None, 0] - points[None, :, 0], points[:, None, 1] - points[None, :, 1])
    neighbours = ((distance <= RADIUS + 3 * SIGMA_SPATIAL).sum(axis=1) - 1)
    kept = (valid_cells.sum(axis=(1, 2)) >= MIN_VALID_SHARE * in_disc.sum()) & (neighbours >= MIN_NEIGHBOURS)
    return bits[kept].reshape(-1, cells), valid[kept].reshape(-1, cells)


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _near_hull(points: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Whether each (x, y) lies inside the points' convex hull or within HULL_MARGIN of it."""
    hull = cv2.convexHull(points.astype(np.float32))[:, 0, :].astype(np.float64)
    if len(hull) < 3:
        return np.ones(xs.shape, bool)
    flat = np.stack([xs.ravel(), ys.ravel()], axis=1)
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1]) + 1e-9
    offsets = flat[:, None, :] - hull[None, :, :]
    cross = (edges[None, :, 0] * offsets[..., 1] - edges[None, :, 1] * offsets[..., 0]) / lengths
    area = float((hull[:, 0] * np.roll(hull[:, 1], -1) - np.roll(hull[:, 0], -1) * hull[:, 1]).sum())
    signed = cross if area > 0 else -cross       # positive inside, whichever way the hull turns
    return (signed.min(axis=1) >= -HULL_MARGIN).reshape(xs.shape)
