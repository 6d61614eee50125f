"""Engine, migrations and the one-transaction-per-call runner.

SQLite is the embedded default. Some of its habits are changed here so that it
behaves like PostgreSQL under concurrent calls:
- Python's sqlite3 opens transactions lazily, so two writers that both read
  first deadlock and one fails at once with "database is locked". Every
  writing transaction (`run`, `write`) starts with BEGIN IMMEDIATE, which
  takes the write lock up front and makes the others wait (up to the busy
  timeout) instead. Reads (`read`) run in autocommit on connections of their
  own and, in WAL mode, beside the writer.
- Foreign keys are off by default in SQLite; they are switched on.
- Writers queue for the write lock instead of polling for it: SQLite's own
  busy handler polls with sleeps of up to 100 ms, which showed as p99
  latencies of several hundred ms under four concurrent gates (and over a
  second with two server processes). Threads of one process queue on a lock;
  processes on an exclusive flock of a file beside the database
  (`NAME.writer-lock`), which wakes the next writer as soon as the last
  one is done. A process that does not take it (the sqlite3 shell, say)
  still meets the busy timeout.
- Durability: journal_mode=WAL with synchronous=FULL, so a commit is on disk
  (the WAL fsynced) before the call answers. NORMAL would be faster but can
  lose the last commits on power loss, after the gate has already dropped the
  crossing from its outbox because central acknowledged it.

PostgreSQL: the pool holds as many connections as the server has threads.
Connections are not pinged before use (a round trip per transaction); a
transaction that finds its connection gone is run again once on a new one.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path
from typing import Callable, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from common.sealing import Sealer

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"

T = TypeVar("T")


def default_url() -> str:
    from common.settings import var_dir

    return f"sqlite:///{var_dir() / 'central.sqlite'}"


def configured_url(given: str | None = None) -> str:
    """The database a command works on: the one given, else $LIMES_CENTRAL_DATABASE, else default_url()."""
    return given or os.environ.get("LIMES_CENTRAL_DATABASE") or default_url()


def is_in_memory(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def make_engine(url: str, pool_size: int = 5, begin: str | None = "BEGIN IMMEDIATE") -> Engine:
    """An engine; on SQLite every transaction starts with `begin` (BEGIN IMMEDIATE: a writer; None:
    no transaction, each statement on its own, for readers)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size)
    in_memory = is_in_memory(url)
    engine = create_engine(
        parsed,
        # gRPC calls run on worker threads; each uses its own pooled connection.
        connect_args={"check_same_thread": False, "timeout": 30},
        # An in-memory database lives and dies with its one connection: keep exactly one.
        **({"poolclass": QueuePool, "pool_size": 1, "max_overflow": 0} if in_memory
           else {"poolclass": QueuePool, "pool_size": pool_size, "max_overflow": pool_size}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            # Readers do not block the writer, nor the writer the readers.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")  # see the module's docstring: durable on return
        cursor.close()

    if begin is not None:
        @event.listens_for(engine, "begin")
        def _on_begin(connection) -> None:
            connection.exec_driver_sql(begin)

    return engine


class WriterQueue:
    """The turn to write to one SQLite file: a lock among this process's threads, then an exclusive flock
    among processes. A context manager; the flock goes with its holder, even one that is killed."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._threads = threading.Lock()
        self._fd = -1

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            # Opened per turn (microseconds beside a commit's fsync), so that no descriptor outlives its use.
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # waits without holding the GIL
        except BaseException:
            self._release()
            raise

    def __exit__(self, *_) -> None:
        self._release()

    def _release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the flock
            self._fd = -1
        self._threads.release()


def alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' is interpolation syntax in ini files; URLs may contain it (escaped passwords).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Database:
    """One database: its engine, its migrations and transactions.

    `pool_size`: connections kept for concurrent calls (a server passes its thread count).
    """

    def __init__(self, url: str, pool_size: int = 5, sealer: Sealer | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        # Face images are sealed at rest with it (central.records.evidence); sessions carry it in their info.
        self.sealer = sealer
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={"sealer": sealer})
        sqlite = self.engine.dialect.name == "sqlite"
        # Readers get connections of their own in autocommit: each statement its own snapshot (in
        # WAL mode beside the writer on SQLite), no BEGIN, COMMIT or ROLLBACK around it. An in-memory
        # SQLite database has only its one connection.
        if sqlite:
            self._read_engine = self.engine if is_in_memory(url) else make_engine(url, pool_size, begin=None)
        else:
            self._read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # Every SQLite writer (BEGIN IMMEDIATE) queues first: see the module's docstring.
        if not sqlite:
            self._writers = contextlib.nullcontext()
        elif is_in_memory(url):
            self._writers = threading.Lock()
        else:
            self._writers = WriterQueue(Path(make_url(url).database + ".writer-lock"))

    def migrate(self) -> str:
        """Upgrade the schema to the newest migration; returns the revision now in force."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        config = alembic_config(self.url)
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() or ""

    def run(self, work: Callable[[Session], T], attempts: int = 3) -> T:
        """Run `work` in one transaction, committed when it returns, rolled back when it raises.

        A unique-key race (two calls creating the same station, document or
        idempotency key at once; possible on PostgreSQL) rolls back and runs
        `work` again, which then finds the row the other call committed. So
        does a connection found dead (the database restarted).
        """
        return self._in_transaction(self._sessions.begin, work, attempts)

    def write(self, work: Callable[[Connection], T], attempts: int = 3) -> T:
        """As run, on a Core Connection instead of an ORM Session (central.records.gate_calls)."""
        return self._in_transaction(self.engine.begin, work, attempts)

    def _in_transaction(self, begin: Callable, work: Callable, attempts: int):
        for attempt in range(1, attempts + 1):
            try:
                with self._writers, begin() as handle:
                    return work(handle)
            except (IntegrityError, DBAPIError) as exc:
                if attempt == attempts or not (isinstance(exc, IntegrityError) or exc.connection_invalidated):
                    raise
        raise AssertionError("unreachable")

    def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work`, which only reads, on a Core Connection in autocommit (each statement its own
        snapshot; on SQLite beside the writer). Nothing it writes would be kept: it is rolled back."""
        for attempt in (1, 2):
            try:
                with self._read_engine.connect() as connection:
                    try:
                        return work(connection)
                    finally:
                        connection.rollback()
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_engine.pool is not self.engine.pool:
            self._read_engine.dispose()
