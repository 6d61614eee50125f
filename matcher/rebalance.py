"""Moving vshards between sets without a search gap (the I/O around matcher.vshards' two steps).

1. `start_move`: the sets that gain vshards hold them as `warming`; the old owners go on serving.
2. Wait until every live member of those sets has followed that version and caught up with the
   stream (its heartbeat in the table says so).
3. `finish_move`: the new owners serve the vshards, the old owners drop them.
4. Wait until every live member has taken the final table and is steady again, so the next
   rebalance starts from a settled cluster.
At every moment some set that answers searches holds each vshard; the router merges by subject.
Within a set, the replicas take each step one after the other (matcher.handover), so at every
moment a replica of each set answers in full: steps 2 and 4 last about as many replays (drops)
as the set has replicas.
"""
from __future__ import annotations

import time

from matcher.handover import LIVE_FOR as HEARTBEAT_FRESH  # seconds: a member silent for longer is not waited for
from matcher.handover import steady
from matcher.stream import ASSIGNMENT_KEY, TABLE_REFRESH, NatsLink
from matcher.vshards import Assignment, finish_move, initial, start_move


class RebalanceError(Exception):
    pass


def rebalance(link: NatsLink, names: list[str], timeout: float = 600.0) -> dict:
    """Give the vshards to sets `names`; what happened (version, vshards moved, seconds until the flip,
    seconds until every member had taken it)."""
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
    flipped = time.monotonic() - started
    wait_until_taken(link, final, started + timeout)
    return {"version": final.version, "moved": moved, "flip_seconds": flipped, "seconds": time.monotonic() - started}


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


def wait_until_taken(link: NatsLink, final: Assignment, deadline: float) -> None:
    """Until every live member holds `final` and is steady: the old owners have dropped what they gave
    away, one replica of a set after the other."""
    while True:
        now = time.time()
        behind = sorted(m["name"] for m in link.call(link.members()) if now - m["at"] < HEARTBEAT_FRESH
                        and (m["version"] < final.version or (m["serving"] and not steady(m))))
        if not behind:
            return
        if time.monotonic() > deadline:
            raise RebalanceError(f"members have not taken version {final.version} in time: {behind} "
                                 "(the table is flipped: searches are complete; they will follow)")
        time.sleep(0.2)
