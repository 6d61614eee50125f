"""1:1 comparison of two minutiae templates: local structures to align, global pairing to score.

Each minutia is described by its nearest neighbours as it sees them (distance, the bearing of each
neighbour and the neighbour's direction, both relative to its own direction): rotation and
translation do not change that description. The best-agreeing local pairs propose alignments;
under each, minutiae of both prints are paired one-to-one within distance and angle tolerances,
and the best alignment's pairs make the score. This is the local-then-global scheme of Jiang and
Yau, with a Bozorth3-like score scale (more paired minutiae, higher score), not Bozorth3 itself.

All alignments are worked out together, as arrays with an alignment axis, and what does not depend on the
alignment is made once per template (prepare): the arithmetic of each element is that of the first version,
which tried the alignments one by one, so that the scores the thresholds were calibrated on stay the same
to the last bit (tests/drivers/fingerprint/test_compare_scores.py pins them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import Template

NEIGHBOURS = 6
DISTANCE_TOLERANCE = 12.0       # pixels, for neighbour distances and the common area
ANGLE_TOLERANCE = math.radians(22)
PAIR_DISTANCE = 12.0            # pixels: how far apart two paired minutiae may lie after alignment
PAIR_ANGLE = math.radians(22)
X_WINDOW = PAIR_DISTANCE + 1.0  # pixels: a margin wider than any rounding of a difference in x
ALIGNMENTS = 24                 # best local pairs tried as alignments (at 8 some mates lost their right one)
MIN_MINUTIAE = 4
MIN_OVERLAP = 25                # minutiae: a smaller common area is scored as if it held this many
# The shipped decision threshold on `score`: above the highest of 9,900 non-mated scores of the synthetic
# calibration set (seeds 1000-1099, difficulty 1.0; 25.0 with 24 alignments, 1 of 100 mates below it), the
# whole number above as before (docs/FINGERPRINTS.md).
THRESHOLD = 26.0


@dataclass(frozen=True)
class Comparison:
    score: float        # 0-100: paired minutiae squared over the two prints' minutiae in their common area
    paired: int
    match: bool
    threshold: float

    def to_json(self) -> dict:
        return {"score": round(self.score, 2), "paired": self.paired, "match": self.match,
                "threshold": self.threshold}


@dataclass(frozen=True, eq=False)
class Prepared:
    """What comparison needs of one template that no alignment changes: made once, it serves any number of
    comparisons (a 1:N search compares its query with every shortlisted candidate)."""
    points: np.ndarray       # (n, 3): x, y-up, angle
    cos: np.ndarray          # (n,): cosine and sine of the angles, for the pairing's angle test
    sin: np.ndarray
    descriptors: np.ndarray  # (3, K, n) float32: _descriptors' (n, K, 3) turned for _local_similarity
    hull: np.ndarray         # (h, 2): the convex hull's corners, in order
    edges: np.ndarray        # (h, 2): see _inward
    lengths: np.ndarray      # (h,): the edges' lengths (+ 1e-9: a repeated corner divides by no zero)
    by_x: np.ndarray         # (n,): the minutiae in order of x
    x_sorted: np.ndarray     # (n,): their x in that order


def prepare(template: Template) -> Prepared:
    if len(template.minutiae) < MIN_MINUTIAE:
        raise FingerprintError(f"too few minutiae to compare ({len(template.minutiae)}; at least {MIN_MINUTIAE})")
    points = _points(template)
    hull = _hull(points[:, :2])
    edges = _inward(hull)
    by_x = np.argsort(points[:, 0], kind="stable")
    descriptors = _descriptors(points).astype(np.float32).transpose(2, 1, 0).copy()
    return Prepared(points, np.cos(points[:, 2]), np.sin(points[:, 2]), descriptors,
                    hull, edges, np.hypot(edges[:, 0], edges[:, 1]) + 1e-9, by_x, points[by_x, 0])


def compare(a: Template, b: Template, threshold: float = THRESHOLD, alignments: int = ALIGNMENTS) -> Comparison:
    if len(a.minutiae) < MIN_MINUTIAE or len(b.minutiae) < MIN_MINUTIAE:
        raise FingerprintError(f"too few minutiae to compare ({len(a.minutiae)} and {len(b.minutiae)}; "
                               f"at least {MIN_MINUTIAE} each)")
    return compare_prepared(prepare(a), prepare(b), threshold, alignments)


def compare_prepared(a: Prepared, b: Prepared, threshold: float = THRESHOLD,
                     alignments: int = ALIGNMENTS) -> Comparison:
    """compare() of prepared templates. Every alignment is worked out at once, in arrays with an alignment
    axis; each step does, element by element, the very arithmetic it did one alignment at a time, so the
    scores are those the shipped threshold was calibrated on, to the last bit."""
    starts = _alignment_starts(_local_similarity(a.descriptors, b.descriptors), alignments)
    if not starts:
        return Comparison(0.0, 0, 0.0 >= threshold, threshold)
    rotations, shifts = _start_alignments(a.points, b.points, starts)
    pairs, moved = _pairs(a, b, rotations, shifts)
    _refine(a, b, rotations, shifts, pairs, moved)
    in_a = _inside(moved, b.hull[None], b.edges[None], b.lengths[None])
    in_b = _inside_moved_hull(b.points[:, :2], a.hull, rotations, shifts)
    best_score, best_paired = 0.0, 0
    for found, inside_a, inside_b in zip(pairs, in_a.tolist(), in_b.tolist()):
        score = 100.0 * len(found) * len(found) / (max(inside_a, MIN_OVERLAP) * max(inside_b, MIN_OVERLAP))
        if score > best_score:      # the first of equal scores keeps its pairs, as when tried one by one
            best_score, best_paired = score, len(found)
    return Comparison(min(best_score, 100.0), best_paired, best_score >= threshold, threshold)


def _refine(a: Prepared, b: Prepared, rotations: np.ndarray, shifts: np.ndarray, pairs: list,
            moved: np.ndarray) -> None:
    """Each alignment that paired three or more minutiae, refitted by least squares over its pairs and paired
    again (all four arguments after a and b updated in place)."""
    refined = [k for k, found in enumerate(pairs) if len(found) >= 3]
    if not refined:
        return
    for k in refined:
        u, v = zip(*pairs[k])
        rotations[k], shifts[k] = _fit(a.points[list(u), :2], b.points[list(v), :2])
    pairs_again, moved_again = _pairs(a, b, rotations[refined], shifts[refined])
    for k, found, points in zip(refined, pairs_again, moved_again):
        pairs[k], moved[k] = found, points


def _points(template: Template) -> np.ndarray:
    """(x, y-up, angle) rows: y flipped so that ISO's counter-clockwise angles and positions agree."""
    return np.array([(m.x, -m.y, m.angle) for m in template.minutiae], np.float64)


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _next(rows: np.ndarray) -> np.ndarray:
    """Each row's successor, the last's being the first (np.roll(rows, -1, axis=-2), without its overhead)."""
    return np.concatenate([rows[..., 1:, :], rows[..., :1, :]], axis=-2)


def _descriptors(points: np.ndarray) -> np.ndarray:
    """(n, K, 3): distance, relative bearing and relative direction of each minutia's K nearest neighbours."""
    delta = points[None, :, :2] - points[:, None, :2]
    distance = np.hypot(delta[..., 0], delta[..., 1])
    np.fill_diagonal(distance, np.inf)
    k = min(NEIGHBOURS, len(points) - 1)
    nearest = np.argsort(distance, axis=1)[:, :k]
    rows = np.arange(len(points))[:, None]
    bearing = np.arctan2(delta[rows, nearest, 1], delta[rows, nearest, 0]) - points[:, None, 2]
    direction = points[nearest, 2] - points[:, None, 2]
    return np.stack([distance[rows, nearest], _wrap(bearing), _wrap(direction)], axis=-1)


def _local_similarity(da: np.ndarray, db: np.ndarray) -> np.ndarray:
    """(na, nb): how well a's neighbours find counterparts among b's, each looked for at its own rank
    and the ranks beside it (a missing or extra neighbour shifts the ranks by one). da, db: descriptors
    as (3 channels, K ranks, n minutiae), so that every step runs over long contiguous rows of b's minutiae
    (and works in place where it can, sparing fresh arrays)."""
    k = min(da.shape[1], db.shape[1])
    ranks = np.clip(np.arange(k) + np.array([[-1], [0], [1]]), 0, k - 1)        # (3 shifts, K): b's rank looked at
    difference = da[:, None, :k, :, None] - db[:, ranks, None, :]                # (3 channels, 3 shifts, K, na, nb)
    distance, turns = np.abs(difference[0]), np.abs(_wrap_difference(difference[1:]))  # turns: bearing, direction
    distance /= DISTANCE_TOLERANCE
    turn = np.add(turns[0], turns[1], out=turns[0])
    turn /= 2 * ANGLE_TOLERANCE
    error = np.maximum(distance, turn, out=distance)                             # (3 shifts, K, na, nb)
    best = np.subtract(1.0, error, out=error)
    best = np.maximum(np.maximum(np.maximum(best[0], best[1]), best[2]), np.float32(0))   # the best shift, >= 0
    # summed rank by rank, in rank order: numpy's sum over K < 8 values adds them one by one in that order too
    total = best[0]
    for rank in range(1, k):
        total += best[rank]
    return total


def _wrap_difference(difference: np.ndarray) -> np.ndarray:
    """_wrap, in place, of float32 differences of two wrapped angles (within +-2 pi), equal to it to the bit:
    numpy's % takes fmod and, where the signs differ, adds the modulus once, which for (difference + pi)
    within [-pi, 3 pi] is one add or one (exact) subtract of 2 pi. numpy's % (and np.where) cost many times
    these steps."""
    shifted = np.add(difference, np.pi, out=difference)
    turn = np.float32(2 * np.pi)
    below, above = shifted < 0, shifted >= turn
    shifted += turn * below
    shifted -= turn * above
    return np.subtract(shifted, np.pi, out=shifted)


def _alignment_starts(local: np.ndarray, alignments: int) -> list[tuple[int, int]]:
    """The best-agreeing local pairs (i of a, j of b), best first, as many as alignments ask and agree at all."""
    starts = []
    for index in np.argsort(local, axis=None)[::-1][:alignments].tolist():
        i, j = divmod(index, local.shape[1])
        if local[i, j] <= 0:
            break
        starts.append((i, j))
    return starts


def _start_alignments(pa: np.ndarray, pb: np.ndarray, starts: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Each start's rotation and shift: a's minutia i turned to b's minutia j's direction and laid on it."""
    i, j = np.array(starts).T
    rotations = _wrap(pb[j, 2] - pa[i, 2])
    cos, sin = _cos_sin(rotations)
    x, y = pa[i, 0], pa[i, 1]
    shifts = np.stack([pb[j, 0] - (cos * x - sin * y), pb[j, 1] - (sin * x + cos * y)], axis=1)
    return rotations, shifts


def _cos_sin(rotations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """math's cosine and sine (the alignment's were always math's; numpy's may differ in the last bit)."""
    angles = rotations.tolist()
    return np.array([math.cos(r) for r in angles]), np.array([math.sin(r) for r in angles])


def _rotate(points: np.ndarray, rotations: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """(alignments, n, 2): points (n, 2) turned by each rotation, then shifted."""
    cos, sin = (c[:, None] for c in _cos_sin(rotations))
    x, y = points[None, :, 0], points[None, :, 1]
    return np.stack([cos * x - sin * y + shifts[:, 0:1], sin * x + cos * y + shifts[:, 1:2]], axis=-1)


def _pairs(a: Prepared, b: Prepared, rotations: np.ndarray,
           shifts: np.ndarray) -> tuple[list[list[tuple[int, int]]], np.ndarray]:
    """Under each alignment, the greedy one-to-one pairing, nearest first, within the distance and angle
    tolerances; and a's points moved by each alignment."""
    moved = _rotate(a.points[:, :2], rotations, shifts)
    rows, v = _near_in_x(moved[..., 0].ravel(), b)
    mx, my = moved[..., 0].ravel()[rows], moved[..., 1].ravel()[rows]
    squared = (mx - b.points[v, 0]) ** 2 + (my - b.points[v, 1]) ** 2
    # the turn between two directions is within PAIR_ANGLE when the cosine of their difference is at least
    # cos(PAIR_ANGLE): a dot product of unit vectors, cheaper than wrapping every difference
    turned = a.points[None, :, 2] + rotations[:, None]
    cosine = np.cos(turned).ravel()[rows] * b.cos[v] + np.sin(turned).ravel()[rows] * b.sin[v]
    close = (squared <= PAIR_DISTANCE ** 2) & (cosine >= math.cos(PAIR_ANGLE))
    rows, v, squared = rows[close], v[close], squared[close]
    alignment, u = np.divmod(rows, len(a.points))
    # by alignment, then nearest first, equal distances in a's then b's order (as a stable sort of the
    # (na, nb) distances did)
    order = np.lexsort((v, u, squared, alignment))
    return _greedy(len(rotations), alignment[order], u[order], v[order], (len(a.points), len(b.points))), moved


def _near_in_x(x: np.ndarray, b: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """The (row of x, minutia of b) pairs less than X_WINDOW apart in x: every pair that can lie within
    PAIR_DISTANCE, and few others, so that the exact tests run on a few thousand pairs, not on all."""
    first = np.searchsorted(b.x_sorted, x - X_WINDOW, "left")
    counts = np.searchsorted(b.x_sorted, x + X_WINDOW, "right") - first
    rows = np.repeat(np.arange(len(x)), counts)
    ranks = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts - first, counts)
    return rows, b.by_x[ranks]


def _greedy(alignments: int, alignment: np.ndarray, u: np.ndarray, v: np.ndarray,
            sizes: tuple[int, int]) -> list[list[tuple[int, int]]]:
    """Each alignment's candidates taken in order, each kept unless its a or b minutia is already paired."""
    pairs = [[] for _ in range(alignments)]
    used_a, used_b = bytearray(alignments * sizes[0]), bytearray(alignments * sizes[1])
    for k, i, j, key_a, key_b in zip(alignment.tolist(), u.tolist(), v.tolist(),
                                     (alignment * sizes[0] + u).tolist(), (alignment * sizes[1] + v).tolist()):
        if not (used_a[key_a] or used_b[key_b]):
            used_a[key_a] = used_b[key_b] = 1
            pairs[k].append((i, j))
    return pairs


def _fit(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """The rotation and shift that lay source on target best in the least-squares sense."""
    cs, ct = np.add.reduce(source, axis=0) / len(source), np.add.reduce(target, axis=0) / len(target)  # the means
    s, t = source - cs, target - ct
    rotation = math.atan2(float((s[:, 0] * t[:, 1] - s[:, 1] * t[:, 0]).sum()), float((s * t).sum()))
    cos, sin = math.cos(rotation), math.sin(rotation)
    x, y = float(cs[0]), float(cs[1])
    return rotation, ct - np.array([cos * x - sin * y, sin * x + cos * y])


def _hull(points: np.ndarray) -> np.ndarray:
    """The convex hull's corners of a print's minutiae, in order."""
    return cv2.convexHull(points.astype(np.float32))[:, 0, :].astype(np.float64)


def _area(hull: np.ndarray) -> np.ndarray:
    """Twice the signed area of each hull (the shoelace formula): positive when it turns counter-clockwise."""
    following = _next(hull)
    return (hull[..., 0] * following[..., 1] - following[..., 0] * hull[..., 1]).sum(axis=-1)


def _inward(hull: np.ndarray) -> np.ndarray:
    """Each corner's edge to the next, turned end for end where the hull turns clockwise: the inside is then
    to the left of every edge, whichever way the hull turns. (Negating is exact, so a cross product with
    these edges is, to the bit, the negated one of the edges as they run.)"""
    edges = _next(hull) - hull
    return np.where((_area(hull) > 0)[..., None, None], edges, -edges)


def _inside(points: np.ndarray, hull: np.ndarray, edges: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """How many of points lie within (or a tolerance outside) the other print's minutiae's convex hull under
    each alignment: the count of minutiae in the area both prints cover. Points, the hull's corners and
    its inward edges are (alignments or 1, n or h, 2), the edges' lengths (alignments or 1, h)."""
    if hull.shape[1] < 3:
        return np.full(max(len(points), len(hull)), points.shape[1])
    dx = points[:, :, None, 0] - hull[:, None, :, 0]
    dy = points[:, :, None, 1] - hull[:, None, :, 1]
    cross = (edges[:, None, :, 0] * dy - edges[:, None, :, 1] * dx) / lengths[:, None]   # positive inside
    return (cross.min(axis=2) >= -DISTANCE_TOLERANCE).sum(axis=1)


def _inside_moved_hull(points: np.ndarray, hull: np.ndarray, rotations: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """_inside for b's points against a's hull, which moves with a under each alignment."""
    moved = _rotate(hull, rotations, shifts)
    edges = _inward(moved)
    return _inside(points[None], moved, edges, np.hypot(edges[..., 0], edges[..., 1]) + 1e-9)
