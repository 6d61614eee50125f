"""Waiting for the operator's stop: Ctrl-C (SIGINT) or SIGTERM, whichever comes first.

Both handlers are installed explicitly. A process started in the background by
a non-interactive shell inherits SIGINT as *ignored*, and Python then never
raises KeyboardInterrupt: without its own handler such a command would not
stop on Ctrl-C or `kill -INT`.
"""
from __future__ import annotations

import signal
import threading
from typing import Callable

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Catches SIGINT and SIGTERM while in its `with` block; the previous handlers come back after.

    Enter it before telling anyone that the process is ready, so that a stop
    sent right after that is not lost. Use from the main thread only (Python
    delivers signals there).
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopSignals":
        self._previous = {sig: signal.signal(sig, lambda *_: self._stop.set()) for sig in _SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait(self, seconds: float | None = None, *, poll_s: float = 0.2,
             while_waiting: Callable[[], None] | None = None) -> bool:
        """Block until a stop signal (True) or until `seconds` have passed (False).

        `while_waiting`, if given, is called every `poll_s` seconds (e.g. to report
        a card that left by itself).
        """
        waited = 0.0
        while not self._stop.wait(poll_s):
            waited += poll_s
            if while_waiting is not None:
                while_waiting()
            if seconds is not None and waited >= seconds:
                return False
        return True

