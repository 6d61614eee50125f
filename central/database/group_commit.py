"""Group commit: the writes of many concurrent calls in one transaction, one commit.

A commit is durable when it returns (on SQLite the WAL is fsynced; see
central.database.engine), and that costs the same for one row as for fifty. With sixteen
gates calling at once, most of central's time went into commits taken one
after another under SQLite's single write lock. Here a call hands over its
write and waits; the first caller to find no commit under way takes every
write waiting at that moment, its own included, runs them in one transaction
and commits once; writes that arrive meanwhile go into the next commit, led
by the first of their callers.

Two kinds of write:
- an audit row (`add_row`): the one write of a call that only reads; all rows
  of a batch go in with one INSERT;
- a unit of work (`run`, e.g. RecordCrossing), whose own audit row (`audit`)
  joins the batch's one INSERT. The units of a batch first run one after the
  other in its transaction; should one fail (a refused crossing, a bad
  request), the whole transaction is undone and the batch runs again with
  each unit under a SAVEPOINT of its own, so that the failing one is undone
  alone and only its caller gets its error. A unit that meets a unique
  violation there (another server inserted the same document or crossing id
  first, possible on PostgreSQL) is undone and run once more, and then finds
  the other's row. Savepoints only after a failure: they are two statements
  per unit (two round trips on PostgreSQL), and units seldom fail.

Either way a call returns only after the commit that holds its write has
succeeded; if that commit fails, every call in it fails and none answers:
no row, no access.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, TypeVar

from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError

from central.database import models as m
from central.database.engine import Database
from central.rpc import metrics

T = TypeVar("T")
_INSERT_AUDIT = insert(m.AuditEntry)


class CommitFailed(RuntimeError):
    """The commit that held this call's write failed: the call must not answer."""


class _UnitFailed(Exception):
    """A unit raised while the batch ran without savepoints: the batch runs again, each unit isolated."""


class _Write:
    """One call's write, and its wait: for the commit that holds it, or for its turn to lead the next one."""

    __slots__ = ("row", "work", "audit", "result", "error", "state", "_signalled")

    def __init__(self, row: dict | None = None, work: Callable[[Connection], Any] | None = None,
                 audit: Callable[[Any], dict | None] | None = None) -> None:
        self.row, self.work, self.audit = row, work, audit
        self.result: Any = None
        self.error: BaseException | None = None
        self.state: str | None = None  # "lead" (take the next batch) or "done"
        # Held until signalled: a plain lock is the cheapest wake-up (a Condition cost 7% of the server's time).
        self._signalled = threading.Lock()
        self._signalled.acquire()

    def signal(self, state: str) -> None:
        self.state = state
        self._signalled.release()

    def next(self) -> str:
        """'lead' or 'done', whichever comes first."""
        self._signalled.acquire()
        return self.state


class GroupCommit:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._lock = threading.Lock()
        self._pending: list[_Write] = []
        self._committing = False

    def add_row(self, row: dict) -> None:
        """Return once the audit row (central.access.audit.audit_row) is committed; CommitFailed otherwise."""
        self._wait(_Write(row=row))

    def run(self, work: Callable[[Connection], T], audit: Callable[[T], dict | None] | None = None) -> T:
        """`work` (writes on a Core Connection) committed; its own exception, or CommitFailed.

        `audit(result)`: the unit's audit row (None: none), inserted with the batch's other rows."""
        return self._wait(_Write(work=work, audit=audit))

    def _wait(self, write: _Write) -> Any:
        with self._lock:
            self._pending.append(write)
            lead = not self._committing
            self._committing = True
        if lead:
            self._commit_waiting()
        while write.next() == "lead":
            self._commit_waiting()
        if write.error is not None:
            raise write.error
        return write.result

    def _commit_waiting(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            try:
                self._db.write(lambda connection: self._apply(connection, batch, isolated=False), attempts=1)
            except _UnitFailed:
                self._db.write(lambda connection: self._apply(connection, batch, isolated=True), attempts=1)
        except Exception as exc:  # BEGIN, the rows or COMMIT failed: nothing of the batch is stored
            failed = CommitFailed(f"not committed: {type(exc).__name__}: {exc}")
            failed.__cause__ = exc
            for write in batch:
                write.result, write.error = None, failed
        metrics.COMMITS.inc()
        metrics.COMMITTED_WRITES.inc(len(batch))
        for write in batch:
            write.signal("done")
        with self._lock:
            if self._pending:
                self._pending[0].signal("lead")  # still committing, until that call takes over
            else:
                self._committing = False

    @staticmethod
    def _apply(connection: Connection, batch: list[_Write], isolated: bool) -> None:
        """The batch's writes in `connection`'s transaction; `isolated`: each unit under a savepoint
        (else _UnitFailed at the first unit that raises)."""
        rows = []
        for write in batch:
            if write.work is None:
                rows.append(write.row)
                continue
            write.result, write.error = None, None
            if not isolated:
                try:
                    write.result = write.work(connection)
                except Exception as exc:
                    raise _UnitFailed() from exc
            else:
                try:
                    write.result = _in_savepoint(connection, write.work)
                except IntegrityError:  # lost a race for a unique key: once more finds the winner's row
                    try:
                        write.result = _in_savepoint(connection, write.work)
                    except Exception as exc:
                        write.error = exc
                except Exception as exc:  # this call's own failure: undone alone, reported to it alone
                    write.error = exc
            if write.error is None and write.audit is not None:
                row = write.audit(write.result)
                if row is not None:
                    rows.append(row)
        if rows:
            connection.execute(_INSERT_AUDIT, rows)


def _in_savepoint(connection: Connection, work: Callable[[Connection], T]) -> T:
    """`work` under a savepoint: undone alone if it raises. Plain SQL: SQLAlchemy's own savepoints
    compile a new statement for every savepoint name."""
    connection.exec_driver_sql("SAVEPOINT unit")
    try:
        result = work(connection)
    except BaseException:
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT unit")
        connection.exec_driver_sql("RELEASE SAVEPOINT unit")
        raise
    connection.exec_driver_sql("RELEASE SAVEPOINT unit")
    return result
