"""Moving vshards between sets without a search gap (the I/O around matcher.vshards' two steps).

1. `start_move`: the sets that gain vshards hold them as `warming`; the old owners go on serving.
2. Wait until every live member of those sets has followed that version and caught up with the
   stream (its heartbeat in the table says so).
3. `finish_move`: the new owners serve the vshards, the old owners drop them.
At every moment some set that answers searches holds each vshard; the router merges by subject.
"""
from __future__ import annotations

import time

from matcher.stream import ASSIGNMENT_KEY, TABLE_REFRESH, NatsLink
from matcher.vshards import Assignment, finish_move, initial, start_move

HEARTBEAT_FRESH = 5.0  # seconds: a member silent for longer is not waited for


class RebalanceError(Exception):
    pass


def rebalance(link: NatsLink, names: list[str], timeout: float = 600.0) -> dict:
    """Give the vshards to sets `names`; what happened (versions, vshards moved, seconds)."""
    started = time.monotonic()
    link.call(link.ensure())
    current = link.call(link.assignment())
    if current is None:
        first = initial(names)
        link.call(link.put(ASSIGNMENT_KEY, first.to_json()))
        return {"version": first.version, "moved": 0, "seconds": time.monotonic() - started}
    moving = start_move(current, names)
    moved = sum(len(v) for v in moving.warming.values())
    link.call(link.put(ASSIGNMENT_KEY, moving.to_json()))
    if moved:
        wait_until_loaded(link, moving, started + timeout)
    # Routers re-read the table every TABLE_REFRESH: by now each knows the newcomers and asks them too,
    # so the old owners may let go at the flip.
    time.sleep(max(0.0, 3 * TABLE_REFRESH - (time.monotonic() - started)))
    final = finish_move(moving)
    final.check()
    link.call(link.put(ASSIGNMENT_KEY, final.to_json()))
    return {"version": final.version, "moved": moved, "seconds": time.monotonic() - started}


def wait_until_loaded(link: NatsLink, moving: Assignment, deadline: float) -> None:
    """Until every live member of each warming set holds `moving` and has caught up with the stream."""
    warming_sets = set(moving.warming)
    last = link.call(link.last_sequence())  # once: enrolments going on meanwhile must not keep it moving
    while True:
        now = time.time()
        members = [m for m in link.call(link.members())
                   if m["set"] in warming_sets and now - m["at"] < HEARTBEAT_FRESH]
        ready_sets = {m["set"] for m in members
                      if m["version"] >= moving.version and m["serving"] and m["applied"] >= last}
        behind = [m["name"] for m in members if m["version"] < moving.version or m["applied"] < last]
        if warming_sets <= ready_sets and not behind:
            return
        if time.monotonic() > deadline:
            raise RebalanceError(f"members not loaded in time: {sorted(behind)}; sets with none ready: "
                                 f"{sorted(warming_sets - ready_sets)} (the table still says version {moving.version})")
        time.sleep(0.2)
