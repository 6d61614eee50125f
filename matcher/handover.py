"""Handing vshards over replica by replica, so that each vshard always has a replica answering in full (pure).

A rebalance (matcher.rebalance) changes what a vshard set holds twice: its new vshards are loaded
(a replay of the stream) and, at the flip, the ones it gave away are dropped. Either step keeps a
replica from answering in full for a while: replaying, it stops reading its own vshards' new
changes; dropping (and the index rebuild after it), it holds its galleries' write lock and both
cores. If every replica of a set took the step at the same moment, as each used to on reading the
new table, the set answered nothing (the router said `partial`) or answered without what was just
enrolled. So a member takes a new table only in its turn:

- `turn_comes`: the replicas of a set take a version in the order of their names; one waits until
  every live replica before it has taken it and is `steady` again (serving, no longer moving, its
  index not being rebuilt). Two replicas of one set never move at once, and while one moves the
  others answer in full.
- Before it moves, a member says `moving` in its report and reads on for the routers' grace
  (member.ROUTER_GRACE): routers re-read the table meanwhile and ask it last
  (`answer_order`), so no search is sent to it while it lags, and an old owner still holds what it
  gives away until every router has seen the flip (make before break).
- After moving it stays `moving` until it has caught up with the stream.

A member that is not serving yet (catching up after a start) answers nothing, so it moves at once.
A set of one process has no other replica: while that process moves, the router asks it all the
same (`answer_order` puts a moving replica last, not away), and its answers lag the stream.
"""
from __future__ import annotations

LIVE_FOR = 5.0  # seconds: a replica that has not reported for this long is not waited for (it may be dead)


def steady(report: dict) -> bool:
    """A member that answers in full: serving, not moving, no index being rebuilt."""
    return bool(report["serving"]) and not report.get("moving", False) and report.get("settled", True)


def turn_comes(name: str, set_name: str, version: int, members: list[dict], now: float) -> bool:
    """Whether member `name` of `set_name` may take assignment `version` now: every other live replica
    of its set whose name sorts before it has taken `version` (or a later one) and is steady."""
    for report in members:
        if report["set"] != set_name or report["name"] >= name or now - report["at"] >= LIVE_FOR:
            continue
        if report["version"] < version or not steady(report):
            return False
    return True


def answer_order(members: list[dict]) -> tuple[list[dict], list[dict]]:
    """(ask first, ask last): a moving replica answers behind the stream, so it is asked only when no
    other replica of its set answers."""
    return [m for m in members if not m.get("moving", False)], [m for m in members if m.get("moving", False)]
