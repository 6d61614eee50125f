"""The desk's live updates: each result, as it arrives, to every screen listening (server-sent events).

A screen that connects late gets the current transaction's events so far, then the new ones."""
from __future__ import annotations

import json
import queue
import threading
from typing import Any, Iterator

KEEPALIVE_S = 15.0


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[queue.Queue] = []
        self._replay: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any], *, new_transaction: bool = False) -> None:
        with self._lock:
            if new_transaction:
                self._replay = []
            self._replay.append(event)
            for listener in self._listeners:
                listener.put(event)

    def history(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._replay)

    def listen(self, stop: threading.Event | None = None) -> Iterator[str]:
        """Server-sent event lines: the replay, then each event; a comment line as keep-alive."""
        inbox: queue.Queue = queue.Queue()
        with self._lock:
            self._listeners.append(inbox)
            for event in self._replay:
                inbox.put(event)
        try:
            while stop is None or not stop.is_set():
                try:
                    event = inbox.get(timeout=KEEPALIVE_S)
                except queue.Empty:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
        finally:
            with self._lock:
                self._listeners.remove(inbox)
