"""Which replica of a vshard set the router asks, and when it asks a second one (pure).

A replica is tried in order of health, then of its recent latency (an exponentially
weighted mean). The first answer wins; if none came within `hedge_after` seconds, the
next replica is asked too (a hedge: by default after the HEDGE_QUANTILE of the recent
answers' latencies, `HedgeDelay`, so about one search in ten costs a second request and the
slowest tenth of the first requests no longer sets the tail), and a replica that failed is replaced at once. A set
is missing from an answer (`partial`) only when every one of its replicas failed or the
deadline passed with none answering.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

DEFAULT_HEDGE_AFTER = 0.050  # seconds: well over a healthy search (a few ms), well under a gate's patience
HEDGE_QUANTILE = 0.9  # hedge a request slower than this share of recent answers
HEDGE_WINDOW = 512  # recent answers the quantile is taken over
HEDGE_FLOOR = 0.004  # seconds: never hedge sooner (a second request for every search would double the work)
FAILURE_PENALTY = 60.0  # seconds added to a failed replica's latency: tried last until it answers again
SMOOTHING = 0.2  # weight of the newest latency in the running mean


@dataclass
class ReplicaHealth:
    """The router's view of replicas: a running latency per address (thread-safe)."""
    latency: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, address: str, seconds: float) -> None:
        with self._lock:
            previous = self.latency.get(address)
            if previous is None or previous >= FAILURE_PENALTY:
                self.latency[address] = seconds
            else:
                self.latency[address] = (1 - SMOOTHING) * previous + SMOOTHING * seconds

    def failed(self, address: str) -> None:
        with self._lock:
            self.latency[address] = FAILURE_PENALTY + self.latency.get(address, 0.0) % FAILURE_PENALTY

    def order(self, replicas: list[str]) -> list[str]:
        """Best first; unknown replicas count as fast, so a new one gets tried."""
        with self._lock:
            return sorted(replicas, key=lambda a: (self.latency.get(a, 0.0), a))


class HedgeDelay:
    """When to hedge: the HEDGE_QUANTILE of the last HEDGE_WINDOW answers' latencies, between
    HEDGE_FLOOR and `ceiling`; `ceiling` until enough answers were seen (thread-safe)."""

    def __init__(self, ceiling: float = DEFAULT_HEDGE_AFTER):
        self.ceiling = ceiling
        self._recent: deque[float] = deque(maxlen=HEDGE_WINDOW)
        self._lock = threading.Lock()
        self._current = ceiling
        self._seen = 0

    def observe(self, seconds: float) -> None:
        with self._lock:
            self._recent.append(seconds)
            self._seen += 1
            if self._seen >= 32 and self._seen % 16 == 0:  # a quantile now and then, not per answer
                quantile = float(np.quantile(np.fromiter(self._recent, float), HEDGE_QUANTILE))
                self._current = min(self.ceiling, max(HEDGE_FLOOR, quantile))

    def current(self) -> float:
        return self._current


def next_action(started: float, now: float, asked: int, in_flight: int, replicas: int,
                hedge_after: float, deadline: float) -> str:
    """What the router does for one set while it has no answer yet:

    'wait' for an answer in flight, 'ask' the next replica, or 'give_up' (the set is missing).
    """
    if now >= deadline:
        return "give_up"
    if asked >= replicas:
        return "wait" if in_flight else "give_up"
    if in_flight == 0:
        return "ask"  # nothing pending: the last one failed, try the next at once
    if now - started >= hedge_after * asked:
        return "ask"  # the pending ones are slow: hedge
    return "wait"
