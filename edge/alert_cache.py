"""The gate's copy of central's alert lists, for checks while central is unreachable.

Fed by Central.AlertDelta: every alert change after the version the gate
holds, in pages (`limit`, `more`). The copy lives in the gate's SQLite file
beside the outbox, so a gate that restarts offline still has its last list.
A background thread refreshes it every few seconds or minutes.

Both checks decide as central's do, with the same pure rules
(drivers.alertmatch): a document hits on its number equal after
normalisation ("exact") or after folding OCR confusions ("ocr_variant"), the
alert in force today, issuing state and document category agreeing where both
sides name one; a person hits on the fuzzy name comparison, blocked on the
birth date, at central's default threshold. The face part of central's person
check needs the matcher and has no offline copy. The copy keeps no notices or
lost/stolen categories: an offline hit always refers, even one that central
would only report (a green notice), which errs on the officer's side.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from drivers.alertmatch.normalize import document_category, document_number, ocr_key, state_code
from drivers.alertmatch.notices import category_label
from drivers.alertmatch.persons import DEFAULT_MIN_SIMILARITY, Identity, blocking_birth_dates, compare
from edge.outbox import open_store
from proto.clients import central_pb2

log = logging.getLogger(__name__)

# fetch(since_version, limit) -> a limes.v1.AlertDeltaResponse
Fetch = Callable[[int, int], "central_pb2.AlertDeltaResponse"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_cache_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    synced_at TEXT
);
INSERT OR IGNORE INTO alert_cache_state (id, version, synced_at) VALUES (1, 0, NULL);
CREATE TABLE IF NOT EXISTS alert_cache_documents (
    alert_id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    number_norm TEXT NOT NULL,
    number_ocr_key TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    issuing_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    handling_instruction TEXT NOT NULL,
    issuing_agency TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_cache_documents_norm ON alert_cache_documents (number_norm);
CREATE INDEX IF NOT EXISTS alert_cache_documents_ocr ON alert_cache_documents (number_ocr_key);
CREATE TABLE IF NOT EXISTS alert_cache_persons (
    alert_id TEXT PRIMARY KEY,
    surname TEXT NOT NULL,
    given_names TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    nationality TEXT NOT NULL,
    reason TEXT NOT NULL,
    handling_instruction TEXT NOT NULL,
    issuing_agency TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_cache_persons_birth ON alert_cache_persons (birth_date);
"""


def describe_hit(reason: str, match: str, alert_id: str, handling_instruction: str, category: str = "") -> str:
    """One line per alert hit, the same whether central or the cache found it (the cache keeps no category)."""
    said = category_label(category) if category_label(category) != reason else ""  # "lost (lost, ..." says nothing
    detail = ", ".join(part for part in (said, match, f"alert {alert_id}") if part)
    return f"{reason} ({detail})" + (f": {handling_instruction}" if handling_instruction else "")


@dataclass(frozen=True)
class HitLine:
    """One alert hit as the gate reports it, and whether it refers (drivers.alertmatch.notices)."""

    text: str
    refers: bool = True

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class CachedHit:
    alert_id: str
    reason: str  # "lost", "stolen", "revoked", "invalidated"
    match: str  # "exact" | "ocr_variant"
    handling_instruction: str
    issuing_agency: str
    document_number: str  # as on the alert

    def describe(self) -> str:
        return describe_hit(self.reason, self.match, self.alert_id, self.handling_instruction)


@dataclass(frozen=True)
class CachedPersonHit:
    alert_id: str
    reason: str  # "entry_ban", "arrest", "missing_person", "discreet_check"
    score: float
    explanation: str
    handling_instruction: str

    def describe(self) -> str:
        return describe_person_hit(self.reason, self.score, self.alert_id, self.explanation,
                                   self.handling_instruction)


def describe_person_hit(reason: str, score: float, alert_id: str, explanation: str, handling_instruction: str,
                        notice: str = "") -> str:
    """One line per person alert hit, the same whether central or the cache found it (the cache keeps no
    notice); `notice` as notice_label writes it."""
    return (f"{reason}{', ' + notice if notice else ''} (score {score:.2f}, alert {alert_id}: {explanation})"
            + (f": {handling_instruction}" if handling_instruction else ""))


class NeverSynced(Exception):
    """The cache has never completed a load from central: its silence means nothing."""


class AlertCache:
    def __init__(self, path: Path | str, fetch: Fetch, *, page: int = 1000,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)):
        self.path = Path(path)
        self.fetch = fetch
        self.page = page
        self.clock = clock
        self._db = open_store(self.path)
        self._db_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        with self._db_lock:
            self._db.executescript(_SCHEMA)

    # -- state -------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self._state()[0]

    @property
    def synced_at(self) -> dt.datetime | None:
        """When the last complete refresh ended; None if the cache was never loaded."""
        synced = self._state()[1]
        return dt.datetime.fromisoformat(synced) if synced else None

    def age(self) -> dt.timedelta:
        synced = self.synced_at
        if synced is None:
            raise NeverSynced("the alert cache was never loaded from central")
        return self.clock() - synced

    def __len__(self) -> int:
        """Alerts held, documents and persons."""
        with self._db_lock:
            return sum(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                       for table in ("alert_cache_documents", "alert_cache_persons"))

    # -- refreshing --------------------------------------------------------------
    def refresh(self) -> int:
        """Fetch and apply every change since the cached version; the number of changes applied.

        Each page is applied with its version in one transaction, so a refresh
        cut short (central gone mid-way) resumes where it stopped. Raises what
        fetch raises.
        """
        applied = 0
        with self._refresh_lock:
            while True:
                since = self.version
                delta = self.fetch(since, self.page)
                if delta.current_version < since:
                    # Central's alert list was rebuilt (restored from an older backup, say): start over.
                    log.warning("alert cache: central is at version %d, behind ours (%d): full reload",
                                delta.current_version, since)
                    self._clear()
                    continue
                self._apply(delta)
                applied += len(delta.document_alerts) + len(delta.person_alerts)
                if not delta.more:
                    break
            with self._db_lock:
                self._db.execute("UPDATE alert_cache_state SET synced_at = ? WHERE id = 1",
                                 (self.clock().isoformat(),))
        return applied

    def start(self, every_s: float) -> None:
        """Refresh now and then every `every_s` seconds in the background; failures are logged and retried."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(every_s,), name="alert-cache", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        with self._refresh_lock, self._db_lock:
            self._db.close()

    # -- checking ----------------------------------------------------------------
    def check_document(self, number: str, doc_type: str, issuing_state: str, today: dt.date) -> list[CachedHit]:
        """Alerts in force on the document, exact matches first; raises NeverSynced on an unloaded cache."""
        norm, key = document_number(number), ocr_key(number)
        if not norm:
            raise ValueError("document_number: is required")
        if self.synced_at is None:
            raise NeverSynced("the alert cache was never loaded from central")
        state, category, day = state_code(issuing_state), document_category(doc_type), today.isoformat()
        with self._db_lock:
            rows = self._db.execute(
                "SELECT alert_id, reason, number_norm, handling_instruction, issuing_agency, number, "
                "issuing_state, doc_type FROM alert_cache_documents "
                "WHERE (number_norm = ? OR number_ocr_key = ?) AND (valid_from = '' OR valid_from <= ?) "
                "AND (valid_to = '' OR valid_to >= ?) ORDER BY version",
                (norm, key, day, day)).fetchall()
        hits = [
            CachedHit(alert_id, reason, "exact" if alert_norm == norm else "ocr_variant", instruction, agency,
                      alert_number)
            for alert_id, reason, alert_norm, instruction, agency, alert_number, alert_state, alert_type in rows
            if not (state and alert_state and alert_state != state)
            and not (category and alert_type and document_category(alert_type) != category)
        ]
        hits.sort(key=lambda hit: hit.match != "exact")
        return hits

    def check_person(self, surname: str, given_names: str, birth_date: dt.date | None, nationality: str,
                     today: dt.date, threshold: float = DEFAULT_MIN_SIMILARITY) -> list[CachedPersonHit]:
        """Person alerts in force that the identity matches, best first; raises NeverSynced on an unloaded cache."""
        if self.synced_at is None:
            raise NeverSynced("the alert cache was never loaded from central")
        dates = [d.isoformat() for d in blocking_birth_dates(birth_date) if d is not None]
        day = today.isoformat()
        with self._db_lock:
            rows = self._db.execute(
                "SELECT alert_id, surname, given_names, birth_date, nationality, reason, handling_instruction "
                f"FROM alert_cache_persons WHERE (birth_date = '' OR birth_date IN ({','.join('?' * len(dates))})) "
                "AND (valid_from = '' OR valid_from <= ?) AND (valid_to = '' OR valid_to >= ?) ORDER BY version",
                (*dates, day, day)).fetchall()
        traveller = Identity(surname, given_names, birth_date, state_code(nationality))
        hits = []
        for alert_id, a_surname, a_given, a_birth, a_nationality, reason, instruction in rows:
            alert = Identity(a_surname, a_given, dt.date.fromisoformat(a_birth) if a_birth else None, a_nationality)
            found = compare(alert, traveller)
            if found is not None and found.score >= threshold:
                hits.append(CachedPersonHit(alert_id, reason, found.score, found.explanation, instruction))
        hits.sort(key=lambda hit: -hit.score)
        return hits

    # -- internals ---------------------------------------------------------------
    def _run(self, every_s: float) -> None:
        while not self._stopping.is_set():
            try:
                changes = self.refresh()
                if changes:
                    log.info("alert cache: %d change(s), now at version %d", changes, self.version)
            except Exception as exc:  # central down: keep the list we have, try again later
                log.info("alert cache not refreshed: %s", exc)
            self._stopping.wait(every_s)

    def _apply(self, delta) -> None:
        with self._db_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for alert in delta.document_alerts:
                    if alert.withdrawn:
                        self._db.execute("DELETE FROM alert_cache_documents WHERE alert_id = ?", (alert.alert_id,))
                        continue
                    self._db.execute(
                        "INSERT OR REPLACE INTO alert_cache_documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (alert.alert_id, alert.document_number, document_number(alert.document_number),
                         ocr_key(alert.document_number), alert.document_type, state_code(alert.issuing_state),
                         central_pb2.DocumentAlert.Reason.Name(alert.reason).lower(), alert.handling_instruction,
                         alert.issuing_agency, alert.valid_from, alert.valid_to, alert.version))
                for alert in delta.person_alerts:
                    if alert.withdrawn:
                        self._db.execute("DELETE FROM alert_cache_persons WHERE alert_id = ?", (alert.alert_id,))
                        continue
                    self._db.execute(
                        "INSERT OR REPLACE INTO alert_cache_persons VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (alert.alert_id, alert.surname, alert.given_names, alert.birth_date,
                         state_code(alert.nationality), central_pb2.PersonAlert.Reason.Name(alert.reason).lower(),
                         alert.handling_instruction, alert.issuing_agency, alert.valid_from, alert.valid_to,
                         alert.version))
                self._db.execute("UPDATE alert_cache_state SET version = ? WHERE id = 1", (delta.current_version,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _clear(self) -> None:
        with self._db_lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM alert_cache_documents")
            self._db.execute("DELETE FROM alert_cache_persons")
            self._db.execute("UPDATE alert_cache_state SET version = 0 WHERE id = 1")
            self._db.execute("COMMIT")

    def _state(self) -> tuple[int, str | None]:
        with self._db_lock:
            return self._db.execute("SELECT version, synced_at FROM alert_cache_state WHERE id = 1").fetchone()
