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
from typing import Iterable

import networkx as nx


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


def groups(found: dict[tuple[int, int], Together]) -> list[set[int]]:
    """The connected groups of co-travellers, largest first."""
    graph = nx.Graph()
    graph.add_edges_from(found)
    return sorted((set(c) for c in nx.connected_components(graph)), key=lambda g: (-len(g), min(g)))
