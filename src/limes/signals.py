"""Waiting for the operator's stop: Ctrl-C (SIGINT) or SIGTERM, whichever comes first.

Both handlers are installed explicitly. A process started in the background by
a non-interactive shell inherits SIGINT as *ignored*, and Python then never
raises KeyboardInterrupt: without its own handler such a command would not
stop on Ctrl-C or `kill -INT`.
"""
from __future__ import annotations

import signal
import threading


def wait_until_stopped(seconds: float | None = None, *, poll_s: float = 0.2, while_waiting=None) -> bool:
    """Block until SIGINT or SIGTERM (True) or until `seconds` have passed (False).

    `while_waiting`, if given, is called every `poll_s` seconds (e.g. to report a
    card that left by itself). The previous handlers are restored on return.
    Call from the main thread only (Python delivers signals there).
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        waited = 0.0
        while not stop.wait(poll_s):
            waited += poll_s
            if while_waiting is not None:
                while_waiting()
            if seconds is not None and waited >= seconds:
                return False
        return True
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
