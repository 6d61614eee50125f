"""The gate's durable outbox: every record for central is committed here first.

A crossing is written to a local SQLite file (WAL, synchronous=FULL) before the
gate opens, then sent. Entries are delivered strictly in the order they were
written (a referral needs its crossing at central first), by the gate itself
when central answers and by a background sender while it does not. Central's
calls are idempotent on the client's crossing_id/referral_id, so an entry sent
again after a crash between "sent" and "marked delivered" is stored only once:
delivery is at least once, recording exactly once.

The outbox knows nothing of gRPC: it is given a `send(method, payload)` that
either returns (delivered), raises Retry (central unreachable: back off and
try again) or raises Reject (central refused the request for good: parked for
an officer with the error, never retried).

Given a `Sealer`, payloads (which carry the referral's face crops and the chip
photo) are sealed at rest under the gate's key file (common.sealing): a stolen
gate's disk holds no readable biometric data without the key.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from prometheus_client import Gauge

from common.sealing import Sealer, SealError, is_sealed

log = logging.getLogger(__name__)

BACKLOG = Gauge("limes_edge_outbox_backlog", "Records waiting in the gate's outbox for central")
REJECTED = Gauge("limes_edge_outbox_rejected", "Records central refused, parked for an officer")

PENDING, DELIVERED, REJECTED_STATE = "pending", "delivered", "rejected"
# The file in a gate's state folder that holds its outbox (and its alert cache, edge.alert_cache).
STATE_FILE = "edge.sqlite"


class Retry(Exception):
    """Central could not be reached or did not answer in time: send again later."""


class Reject(Exception):
    """Central refused the request (malformed, or its id taken by another record): resending cannot help."""


Send = Callable[[str, bytes], None]


@dataclass(frozen=True)
class Entry:
    seq: int
    method: str  # the Central RPC, e.g. "RecordCrossing"
    crossing_id: str  # the crossing the entry belongs to (a referral belongs to its crossing)
    payload: bytes | None  # the serialized request; dropped once delivered (data minimisation)
    state: str
    attempts: int
    error: str
    created_at: str


def open_store(path: Path | str) -> sqlite3.Connection:
    """The gate's local SQLite file, made durable: a committed write survives a power cut.

    One connection per owner, shared by its threads under the owner's lock.
    """
    connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10.0)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT NOT NULL,
    crossing_id TEXT NOT NULL,
    payload BLOB,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, seq);
"""


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts while central is unreachable: first, doubling up to most."""
    first_s: float = 0.5
    most_s: float = 30.0

    def after(self, failures: int) -> float:
        return min(self.most_s, self.first_s * 2 ** max(0, failures - 1))


class Outbox:
    def __init__(self, path: Path | str, send: Send, *, backoff: Backoff = Backoff(), poll_s: float = 5.0,
                 keep_delivered: dt.timedelta = dt.timedelta(days=1),
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
                 sealer: Sealer | None = None):
        self.path = Path(path)
        self.sealer = sealer
        self.send = send
        self.backoff = backoff
        self.poll_s = poll_s
        self.clock = clock
        self._db = open_store(self.path)
        self._db_lock = threading.Lock()
        # One deliverer at a time (the gate or the sender thread), so the order holds.
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        # None until central has been tried; then whether the last attempt reached it.
        self.online: bool | None = None
        with self._db_lock:
            self._db.executescript(_SCHEMA)
            # Delivered entries hold no payload; their rows are a short log, not an archive.
            self._db.execute("DELETE FROM outbox WHERE state = ? AND done_at < ?",
                             (DELIVERED, (self.clock() - keep_delivered).isoformat()))
        self._update_gauges()

    # -- sealing at rest ---------------------------------------------------------
    def _seal(self, method: str, crossing_id: str, payload: bytes) -> bytes:
        return self.sealer.seal(payload, f"outbox:{method}:{crossing_id}") if self.sealer else payload

    def _entry(self, row: tuple) -> Entry:
        """The row as an entry, its payload opened; SealError when it is sealed and does not open."""
        entry = Entry(*row)
        if entry.payload is None or not is_sealed(entry.payload):
            return entry  # delivered (payload dropped), or written before the gate had a key file
        if self.sealer is None:
            raise SealError(f"outbox entry {entry.seq} is sealed and this outbox has no key file")
        opened = self.sealer.open(entry.payload, f"outbox:{entry.method}:{entry.crossing_id}")
        return dataclasses.replace(entry, payload=opened)

    # -- writing ---------------------------------------------------------------
    def append(self, crossing_id: str, requests: Sequence[tuple[str, bytes]]) -> list[int]:
        """Commit the requests of one crossing, in order, in one transaction; their sequence numbers."""
        now = self.clock().isoformat()
        with self._db_lock, self._transaction():
            seqs = [self._db.execute(
                "INSERT INTO outbox (method, crossing_id, payload, state, created_at) VALUES (?, ?, ?, ?, ?)",
                (method, crossing_id, self._seal(method, crossing_id, payload), PENDING, now)).lastrowid
                for method, payload in requests]
        self._update_gauges()
        return seqs

    # -- reading ---------------------------------------------------------------
    @property
    def backlog(self) -> int:
        return self._count(PENDING)

    def entries(self, state: str | None = None) -> list[Entry]:
        query = "SELECT seq, method, crossing_id, payload, state, attempts, error, created_at FROM outbox"
        with self._db_lock:
            rows = (self._db.execute(query + " WHERE state = ? ORDER BY seq", (state,)) if state
                    else self._db.execute(query + " ORDER BY seq")).fetchall()
        return [self._entry(row) for row in rows]

    def pending(self) -> list[Entry]:
        return self.entries(PENDING)

    def rejected(self) -> list[Entry]:
        """Records central refused: for an officer to read and register by hand."""
        return self.entries(REJECTED_STATE)

    def resubmit(self, crossing_id: str) -> int:
        """Put a crossing's refused records back in line, once what central refused is put right
        (a station registered, say); how many. They keep their place: a crossing before its referral."""
        with self._db_lock, self._transaction():
            count = self._db.execute("UPDATE outbox SET state = ?, done_at = NULL WHERE crossing_id = ? AND state = ?",
                                     (PENDING, crossing_id, REJECTED_STATE)).rowcount
        self._update_gauges()
        self.wake()
        return count

    def state_of(self, seq: int) -> str:
        with self._db_lock:
            row = self._db.execute("SELECT state FROM outbox WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise KeyError(f"outbox entry {seq} not found")
        return row[0]

    # -- delivering ------------------------------------------------------------
    def deliver(self) -> int:
        """Send pending entries in order until none is left or central is unreachable; how many went.

        An entry rejected by central is parked (with the entries of the same
        crossing that depend on it) and delivery goes on with the next one.
        """
        delivered = 0
        with self._send_lock:
            while not self._stopping.is_set():
                try:
                    entry = self._next_pending()
                except SealError as exc:  # the key file lost or changed: keep the record, say so, retry later
                    log.error("outbox: a pending record does not open: %s", exc)
                    break
                if entry is None:
                    break
                try:
                    self.send(entry.method, entry.payload)
                except Retry as exc:
                    self._failed(entry, str(exc))
                    break
                except Reject as exc:
                    self._reject(entry, str(exc))
                except Exception as exc:  # a bug in the sender must not lose the record: keep it, retry later
                    log.exception("outbox entry %d: unexpected send error", entry.seq)
                    self._failed(entry, f"unexpected error: {exc}")
                    break
                else:
                    self._delivered(entry)
                    delivered += 1
        self._update_gauges()
        return delivered

    def start(self) -> None:
        """Deliver in the background: at once (what a previous run left), then whenever woken or due."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def wait_until_delivered(self, timeout: float) -> bool:
        """True once nothing is pending (rejected entries do not count); for shutdown and tests."""
        deadline = time.monotonic() + timeout
        while self.backlog:
            if time.monotonic() >= deadline:
                return False
            self._wake.set()
            time.sleep(0.05)
        return True

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        with self._send_lock, self._db_lock:
            self._db.close()

    # -- internals -------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            self.deliver()
            wait = self.backoff.after(self._failures) if self._failures else self.poll_s
            self._wake.wait(wait)
            self._wake.clear()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _next_pending(self) -> Entry | None:
        with self._db_lock:
            row = self._db.execute(
                "SELECT seq, method, crossing_id, payload, state, attempts, error, created_at FROM outbox "
                "WHERE state = ? ORDER BY seq LIMIT 1", (PENDING,)).fetchone()
        return self._entry(row) if row else None

    def _delivered(self, entry: Entry) -> None:
        with self._db_lock:
            self._db.execute("UPDATE outbox SET state = ?, payload = NULL, attempts = attempts + 1, error = '', "
                             "done_at = ? WHERE seq = ?", (DELIVERED, self.clock().isoformat(), entry.seq))
        self._failures = 0
        self.online = True

    def _failed(self, entry: Entry, error: str) -> None:
        with self._db_lock:
            self._db.execute("UPDATE outbox SET attempts = attempts + 1, error = ? WHERE seq = ?",
                             (error, entry.seq))
        self._failures += 1
        self.online = False
        log.info("outbox entry %d (%s) not delivered, retry in %.1f s: %s", entry.seq, entry.method,
                 self.backoff.after(self._failures), error)

    def _reject(self, entry: Entry, error: str) -> None:
        now = self.clock().isoformat()
        with self._db_lock, self._transaction():
            self._db.execute("UPDATE outbox SET state = ?, attempts = attempts + 1, error = ?, done_at = ? "
                             "WHERE seq = ?", (REJECTED_STATE, error, now, entry.seq))
            # What follows from a refused entry (the referral of a refused crossing) cannot succeed either.
            self._db.execute("UPDATE outbox SET state = ?, error = ?, done_at = ? "
                             "WHERE crossing_id = ? AND state = ? AND seq > ?",
                             (REJECTED_STATE, f"{entry.method} of this crossing was rejected: {error}", now,
                              entry.crossing_id, PENDING, entry.seq))
        # Central answered: it is reachable, whatever it thought of the request.
        self._failures = 0
        self.online = True
        log.warning("outbox entry %d (%s, crossing %s) rejected by central: %s", entry.seq, entry.method,
                    entry.crossing_id, error)

    def _count(self, state: str) -> int:
        with self._db_lock:
            return self._db.execute("SELECT count(*) FROM outbox WHERE state = ?", (state,)).fetchone()[0]

    def _update_gauges(self) -> None:
        BACKLOG.set(self.backlog)
        REJECTED.set(self._count(REJECTED_STATE))
