"""Co-travel: who crosses together, found in memory from passages (pure; the queries are in network.py).

Two travellers cross together when they pass the same border point in the same direction within
`window` of each other. A pair counts the occasions it did so: the fewer of the two travellers'
distinct crossings that met the other's (so one traveller passing while the other dawdles over
several minutes counts once). A pair with at least `min_together` occasions are co-travellers;
a group is a connected set of co-travellers (a facilitator with changing companions is one group).
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
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


def _by_point(passages: Iterable[Passage]) -> dict[str, list[Passage]]:
    """The passages of each border point, in time order."""
    by_point: dict[str, list[Passage]] = defaultdict(list)
    for passage in passages:
        by_point[passage.point].append(passage)
    for items in by_point.values():
        items.sort(key=lambda p: p.at)
    return by_point


def pairs(passages: Iterable[Passage], window: dt.timedelta) -> dict[tuple[int, int], Together]:
    """Every pair of travellers who passed a point within `window` of each other; passages in any order."""
    found: dict[tuple[int, int], Together] = {}
    for point, items in _by_point(passages).items():
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


def co_travellers_of(passages: Iterable[Passage], traveller: int, window: dt.timedelta, min_together: int
                     ) -> dict[tuple[int, int], Together]:
    """`co_travellers` restricted to the pairs of one traveller: only the meetings with their own passages
    are looked at (a person's network reads thousands of strangers' passages near theirs, and the pairs
    among the strangers are not wanted)."""
    found: dict[tuple[int, int], Together] = {}
    for point, items in _by_point(passages).items():
        instants = [p.at for p in items]
        for own in (p for p in items if p.traveller == traveller):
            for other in items[bisect_left(instants, own.at - window):bisect_right(instants, own.at + window)]:
                if other.traveller == traveller:
                    continue
                first, second = sorted((own, other), key=lambda p: p.traveller)
                together = found.setdefault((first.traveller, second.traveller), Together())
                together.a_crossings.add(first.crossing)
                together.b_crossings.add(second.crossing)
                together.points.add(point)
    return {pair: t for pair, t in found.items() if t.occasions >= min_together}


@dataclass(frozen=True)
class Passages:
    """Passages as columns, for millions of them: numpy arrays of equal length."""
    crossing: np.ndarray  # int64 ids
    traveller: np.ndarray  # int64 ids
    point: np.ndarray  # integer index into `labels`: a border point and direction
    at: np.ndarray  # int64 seconds
    labels: Sequence[str]


# Pair keys (8 bytes a meeting) sorted at once at most: past it the meetings are gone through in several
# passes, each keeping the pairs whose lower traveller id falls in its share (400M: 3.2 GB of keys).
MEETINGS_AT_ONCE = 400_000_000
# Meetings made at a time: arrays of 1-2 MB, which stay in the processor's cache between the steps.
_CHUNK_MEETINGS = 1 << 18


def _meeting_counts(point: np.ndarray, at: np.ndarray, window_s: int) -> np.ndarray:
    """For passages in point-then-time order: how many of the following passages each one meets."""
    stream_time = (point.astype(np.int64) << 40) | (at - (at.min() if len(at) else 0))
    reach = np.searchsorted(stream_time, stream_time + window_s, side="right")
    return (reach - np.arange(1, len(point) + 1)).astype(np.int32)


def _chunks(later: np.ndarray) -> Iterator[tuple[int, int]]:
    """Ranges of passages whose meetings number about _CHUNK_MEETINGS together (at least one passage)."""
    made = np.cumsum(later, dtype=np.int64)
    begin = 0
    while begin < len(later):
        before = int(made[begin - 1]) if begin else 0
        end = max(begin + 1, int(np.searchsorted(made, before + _CHUNK_MEETINGS, side="right")))
        yield begin, end
        begin = end


def _meeting_pairs(later: np.ndarray, begin: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(i, j): every meeting of passage i (begin <= i < end) with a later passage j, as positions."""
    counts = later[begin:end]
    positions = np.arange(begin, end, dtype=np.int32)
    first = np.repeat(positions, counts)
    starts = np.cumsum(counts, dtype=np.int32) - counts  # where each passage's meetings begin in `first`
    second = np.arange(len(first), dtype=np.int32) + np.repeat(positions + 1 - starts, counts)
    return first, second


def _pair_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.minimum(a, b).astype(np.int64) << 32) | np.maximum(a, b)


def _repeated_keys(traveller: np.ndarray, later: np.ndarray, times: int) -> np.ndarray:
    """The keys of pairs who met at least `times` times (passages in point-then-time order). A traveller
    passing twice makes a pair with themself: kept here (leaving it out costs more than sorting it)."""
    total = int(later.sum(dtype=np.int64))
    passes = max(1, -(-total // MEETINGS_AT_ONCE))
    found = []
    for share in range(passes):
        # A pass's share is about an even part (the buffer grows if chance gives it more).
        keys = np.empty(total if passes == 1 else total // passes * 9 // 8, dtype=np.int64)
        filled = 0
        for begin, end in _chunks(later):
            first, second = _meeting_pairs(later, begin, end)
            chunk = _pair_keys(traveller[first], traveller[second])
            if passes > 1:
                chunk = chunk[(chunk >> 32) % passes == share]
            if filled + len(chunk) > len(keys):
                keys = np.resize(keys, max(2 * len(keys), filled + len(chunk)))
            keys[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        keys = keys[:filled]
        keys.sort()
        if filled >= times:  # sorted, a key repeated `times` times is the same as the key `times - 1` on
            found.append(np.unique(keys[:filled - times + 1][keys[:filled - times + 1] == keys[times - 1:]]))
        del keys
    keys = np.concatenate(found) if found else np.empty(0, np.int64)
    return keys[(keys >> 32) != (keys & 0xFFFFFFFF)]


def co_travellers_columns(passages: Passages, window: dt.timedelta, min_together: int
                          ) -> dict[tuple[int, int], Together]:
    """`co_travellers` for millions of passages (a year of 10M crossings makes some 450M meetings).

    Every meeting's pair is packed in an int64 key and the keys sorted: a pair with `min_together`
    occasions met at least that often, so the keys repeated that often are the only candidates. Their
    travellers' passages alone are then gone through meeting by meeting, as `co_travellers` does.
    Travellers with fewer passages than `min_together` are left out from the start. Traveller ids are any
    int64 (central.intelligence.network numbers the travellers' UUID keys): a key packs two travellers' ranks
    among the ids, so there may be up to 2**31 - 1 travellers."""
    window_s = int(window.total_seconds())
    ids, inverse, counts = np.unique(passages.traveller, return_inverse=True, return_counts=True)
    if len(ids) >= 2 ** 31:
        raise ValueError(f"{len(ids)} travellers: at most 2**31 - 1")
    rank = inverse.reshape(-1).astype(np.int32)  # ordered as the ids are: pairs keep their order
    keep = counts[inverse] >= min_together
    order = np.flatnonzero(keep)
    order = order[np.lexsort((passages.at[order], passages.point[order]))]
    traveller = rank[order]
    later = _meeting_counts(passages.point[order], passages.at[order], window_s)
    candidates = _repeated_keys(traveller, later, min_together)
    if not len(candidates):
        return {}
    # The candidates' travellers' passages: few, and every meeting between two of them is among them.
    order = order[np.isin(traveller, np.unique(np.concatenate([candidates >> 32, candidates & 0xFFFFFFFF])))]
    traveller = rank[order]
    later = _meeting_counts(passages.point[order], passages.at[order], window_s)
    first, second = _meeting_pairs(later, 0, len(order))
    keys = _pair_keys(traveller[first], traveller[second])
    hit = np.isin(keys, candidates)
    found: dict[tuple[int, int], Together] = {}
    for one, other in zip(order[first[hit]].tolist(), order[second[hit]].tolist()):
        a, b = sorted((one, other), key=lambda k: passages.traveller[k])
        together = found.setdefault((int(passages.traveller[a]), int(passages.traveller[b])), Together())
        together.a_crossings.add(int(passages.crossing[a]))
        together.b_crossings.add(int(passages.crossing[b]))
        together.points.add(passages.labels[passages.point[one]])
    return {pair: t for pair, t in found.items() if t.occasions >= min_together}


def groups(found: dict[tuple[int, int], Together]) -> list[set[int]]:
    """The connected groups of co-travellers, largest first."""
    graph = nx.Graph()
    graph.add_edges_from(found)
    return sorted((set(c) for c in nx.connected_components(graph)), key=lambda g: (-len(g), min(g)))
