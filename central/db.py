"""Engine, migrations and the one-transaction-per-call runner.

SQLite is the embedded default. Two of its habits are changed here so that it
behaves like PostgreSQL under concurrent calls:
- Python's sqlite3 opens transactions lazily, so two writers that both read
  first deadlock and one fails at once with "database is locked". Every
  transaction here starts with BEGIN IMMEDIATE, which takes the write lock up
  front and makes the others wait (up to the busy timeout) instead.
- Foreign keys are off by default in SQLite; they are switched on.
- Threads of one process queue on a lock for the write lock: SQLite's own busy
  handler polls with sleeps of up to 100 ms, which showed as p99 latencies of
  several hundred ms under four concurrent gates. Other processes still wait
  through the busy timeout.
"""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Callable, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"

T = TypeVar("T")


def default_url() -> str:
    from limes.settings import var_dir

    return f"sqlite:///{var_dir() / 'central.sqlite'}"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(
        parsed,
        # gRPC calls run on worker threads; each uses its own pooled connection.
        connect_args={"check_same_thread": False, "timeout": 30},
        # An in-memory database lives and dies with its one connection: keep exactly one.
        **({"poolclass": QueuePool, "pool_size": 1, "max_overflow": 0} if in_memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            # Readers do not block the writer, nor the writer the readers.
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(url: str):
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' is interpolation syntax in ini files; URLs may contain it (escaped passwords).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Database:
    """One database: its engine, its migrations and transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Every SQLite transaction here is a writer (BEGIN IMMEDIATE): queue them in-process.
        self._writers = threading.Lock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()

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
        `work` again, which then finds the row the other call committed.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self._writers, self._sessions.begin() as session:
                    return work(session)
            except IntegrityError:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
