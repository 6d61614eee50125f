"""Co-travel: who crosses together, found in memory from passages (pure; the queries are in network.py).

Two travellers cross together when they pass the same border point in the same direction within
`window` of each other. A pair counts the occasions it did so: the fewer of the two travellers'
distinct crossings that met the other's (so one traveller passing while the other dawdles over
several minutes counts once). A pair with at least `min_together` occasions are co-travellers;
a group is a connected set of co-travellers (a facilitator with changing companions is one group).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import networkx as nx
import numpy as np


@dataclass(frozen=True)
class Passage:
    crossing: int
    traveller: int
    point: str  # border point and direction: passing the same point the other way is not together
    at: dt.datetime


@dataclass
class Together:
    """What two travellers (a < b) share: the crossings of each that met the other's, and where."""
    a_crossings: set[int] = field(default_factory=set)
    b_crossings: set[int] = field(default_factory=set)
    points: set[str] = field(default_factory=set)

    @property
    def occasions(self) -> int:
        return min(len(self.a_crossings), len(self.b_crossings))


def pairs(passages: Iterable[Passage], window: dt.timedelta) -> dict[tuple[int, int], Together]:
    """Every pair of travellers who passed a point within `window` of each other; passages in any order."""
    by_point: dict[str, list[Passage]] = defaultdict(list)
    for passage in passages:
        by_point[passage.point].append(passage)
    found: dict[tuple[int, int], Together] = {}
    for point, items in by_point.items():
        items.sort(key=lambda p: p.at)
        recent: deque[Passage] = deque()
        for passage in items:
            while recent and passage.at - recent[0].at > window:
                recent.popleft()
            for other in recent:
                if other.traveller == passage.traveller:
                    continue
                first, second = sorted((other, passage), key=lambda p: p.traveller)
                together = found.setdefault((first.traveller, second.traveller), Together())
                together.a_crossings.add(first.crossing)
                together.b_crossings.add(second.crossing)
                together.points.add(point)
            recent.append(passage)
    return found


def co_travellers(passages: Iterable[Passage], window: dt.timedelta, min_together: int
                  ) -> dict[tuple[int, int], Together]:
    """The pairs who crossed together at least `min_together` times."""
    return {pair: t for pair, t in pairs(passages, window).items() if t.occasions >= min_together}


@dataclass(frozen=True)
class Passages:
    """Passages as columns, for millions of them: numpy arrays of equal length."""
    crossing: np.ndarray  # int64 ids
    traveller: np.ndarray  # int64 ids
    point: np.ndarray  # integer index into `labels`: a border point and direction
    at: np.ndarray  # int64 seconds
    labels: Sequence[str]


def _meetings(sorted_point: np.ndarray, sorted_at: np.ndarray, window_s: int) -> Iterator[tuple[np.ndarray, int]]:
    """(i, d) for each offset d: the passages i (in point-then-time order) that met passage i + d.
    A passage that did not meet the one d after it meets none further, so each step keeps fewer."""
    alive = np.arange(len(sorted_at) - 1, dtype=np.int32 if len(sorted_at) < 2 ** 31 else np.int64)
    offset = 1
    while len(alive):
        alive = alive[alive + offset < len(sorted_at)]
        later = alive + offset
        alive = alive[(sorted_point[later] == sorted_point[alive]) & (sorted_at[later] - sorted_at[alive] <= window_s)]
        if len(alive):
            yield alive, offset
        offset += 1


def _pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.minimum(a, b).astype(np.int64) << 32) | np.maximum(a, b)


def _hashes(keys: np.ndarray) -> np.ndarray:
    """32-bit hashes of pair keys (Fibonacci hashing: the top half of a multiplication, wrapping)."""
    return ((keys.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)).astype(np.uint32)


def _met_at_least(values: np.ndarray, times: int) -> np.ndarray:
    """The values that occur at least `times` times (sorted in place: the array is scratch)."""
    if not len(values):
        return values
    values.sort()
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    runs = np.diff(np.append(starts, len(values)))
    return values[starts[runs >= times]]


HASH_BUCKETS = 8  # counted one at a time, so that only an eighth of the hashes is sorted at once


def co_travellers_columns(passages: Passages, window: dt.timedelta, min_together: int
                          ) -> dict[tuple[int, int], Together]:
    """`co_travellers` for millions of passages in bounded memory (a year of 10M crossings meets some
    400M pairs of passages). First every meeting's pair is counted by a 32-bit hash (4 bytes a meeting):
    a pair met `min_together` times has a hash counted that often, and a few chance collisions add
    pairs that did not. Then the meetings whose hash was are gone through again, their pairs counted
    exactly, and those met often enough looked at passage by passage. Traveller ids: 0 to 2**31 - 1."""
    if len(passages.at) and (passages.traveller.min() < 0 or passages.traveller.max() >= 2 ** 31):
        raise ValueError("traveller ids must be 0 to 2**31 - 1")
    order = np.lexsort((passages.at, passages.point))
    # Narrow types: half the memory to go through at every step (seconds from the first passage).
    point = passages.point[order].astype(np.int32)
    at = passages.at[order] - (passages.at.min() if len(passages.at) else 0)
    at = at.astype(np.int32) if len(at) and at.max() < 2 ** 31 else at
    traveller = passages.traveller[order].astype(np.int32)
    window_s = int(window.total_seconds())
    buckets: list[list[np.ndarray]] = [[] for _ in range(HASH_BUCKETS)]
    for i, offset in _meetings(point, at, window_s):
        apart = traveller[i] != traveller[i + offset]
        hashes = _hashes(_pair_keys(traveller[i][apart], traveller[i + offset][apart]))
        bucket = (hashes >> np.uint32(29)).astype(np.uint8)
        by_bucket = np.argsort(bucket, kind="stable")
        edges = np.searchsorted(bucket[by_bucket], np.arange(HASH_BUCKETS + 1))
        for b in range(HASH_BUCKETS):
            buckets[b].append(hashes[by_bucket[edges[b]:edges[b + 1]]])
    frequent = []
    for b in range(HASH_BUCKETS):
        pieces, buckets[b] = buckets[b], []
        frequent.append(_met_at_least(np.concatenate(pieces) if pieces else np.empty(0, np.uint32), min_together))
        del pieces
    frequent_hashes = np.sort(np.concatenate(frequent))
    if not len(frequent_hashes):
        return {}
    # A table of the hashes' top 24 bits rules most meetings out before the (slower) exact look-up.
    maybe = np.zeros(1 << 24, dtype=bool)
    maybe[frequent_hashes >> np.uint32(8)] = True
    firsts, seconds = [], []
    for i, offset in _meetings(point, at, window_s):
        hashes = _hashes(_pair_keys(traveller[i], traveller[i + offset]))
        i = i[maybe[hashes >> np.uint32(8)]]
        j = i + offset
        hashes = _hashes(_pair_keys(traveller[i], traveller[j]))
        place = np.minimum(np.searchsorted(frequent_hashes, hashes), len(frequent_hashes) - 1)
        hit = (frequent_hashes[place] == hashes) & (traveller[i] != traveller[j])
        firsts.append(i[hit])
        seconds.append(j[hit])
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    keys = _pair_keys(traveller[first], traveller[second])
    wanted = _met_at_least(keys.copy(), min_together)
    kept = np.isin(keys, wanted)
    found: dict[tuple[int, int], Together] = {}
    crossing = passages.crossing[order]
    for one, other in zip(first[kept].tolist(), second[kept].tolist()):
        a, b = sorted((one, other), key=lambda k: traveller[k])
        together = found.setdefault((int(traveller[a]), int(traveller[b])), Together())
        together.a_crossings.add(int(crossing[a]))
        together.b_crossings.add(int(crossing[b]))
        together.points.add(passages.labels[point[one]])
    return {pair: t for pair, t in found.items() if t.occasions >= min_together}


def groups(found: dict[tuple[int, int], Together]) -> list[set[int]]:
    """The connected groups of co-travellers, largest first."""
    graph = nx.Graph()
    graph.add_edges_from(found)
    return sorted((set(c) for c in nx.connected_components(graph)), key=lambda g: (-len(g), min(g)))
