"""The gate path's statements, compiled once per dialect and run straight on the DBAPI cursor.

SQLAlchemy Core spends about 50-80 microseconds of Python on every execution
of even a cached statement (cache key, execution context, result object);
the driver itself needs 10-15. A crossing runs about eight statements, and
that overhead was a third of the central server's interpreter time, which
bounds its throughput (docs/CENTRAL.md, Throughput). A `Prepared` statement
keeps what SQLAlchemy would compute every time: the SQL text for the
dialect, the parameter order, and the column types' own bind and result
processors (so values are stored and read exactly as SQLAlchemy stores and
reads them: dates, enums, JSON, timezones).

What it supports, and checks at compile time: SELECTs and INSERT ...
RETURNING without expanding (IN-list) parameters. Errors are SQLAlchemy's: a
driver error is wrapped as SQLAlchemy wraps it (IntegrityError stays an
IntegrityError), and a connection found dead is invalidated, so
central.database.engine's retries work as before.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable

from sqlalchemy import Connection, exc
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement


class _Compiled:
    __slots__ = ("sql", "names", "positional", "defaults", "plan", "row", "types", "results")

    def __init__(self, statement: ClauseElement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("Prepared: expanding (IN-list) parameters are not supported")
        self.sql = compiled.string
        self.positional = dialect.positional
        # Parameter name per position (qmark: a name used twice is sent twice), or the names (pyformat).
        self.names = tuple(compiled.positiontup) if self.positional else tuple(compiled.binds)
        # Parameters the statement carries itself (a LIMIT, a literal compared with): their own values.
        self.defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                      for name, bind in compiled.binds.items()}
        # (name, its bind processor or None) in the order the driver takes them.
        self.plan: tuple[tuple[str, Callable[[Any], Any] | None], ...] = tuple(
            (name, processors[name]) for name in self.names)
        columns = list(statement.exported_columns)  # a SELECT's columns, or those an INSERT returns
        if not columns:
            raise ValueError("Prepared: a statement that returns rows (a SELECT, or an INSERT ... RETURNING)")
        self.row = namedtuple("Row", [column.key for column in columns], rename=True)
        self.types = [column.type.dialect_impl(dialect) for column in columns]
        self.results: tuple | None = None  # at the first execution: some need the driver's column types

    def result_processors(self, dialect, description) -> tuple:
        if self.results is None:
            self.results = tuple(kind.result_processor(dialect, column[1])
                                 for kind, column in zip(self.types, description))
        return self.results

    def parameters(self, values: dict[str, Any]):
        if self.defaults:
            values = {**self.defaults, **values}
        converted = [values[name] if process is None else process(values[name]) for name, process in self.plan]
        return tuple(converted) if self.positional else dict(zip(self.names, converted))


class Prepared:
    """One Core statement (a SELECT, or an INSERT ... RETURNING), run on the DBAPI cursor of a Connection
    (or of an ORM Session, inside its transaction)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def rows(self, connection: Connection | Session, values: dict[str, Any]) -> list:
        """Every row, as named tuples with the statement's column names."""
        if isinstance(connection, Session):
            if connection.autoflush:  # as session.execute would: the query sees the session's pending objects
                connection.flush()
            connection = connection.connection()
        dialect = connection.dialect
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _Compiled(self.statement, dialect)
        parameters = compiled.parameters(values)
        dbapi_connection = connection.connection
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            fetched = cursor.fetchall()
            results = compiled.result_processors(dialect, cursor.description)
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, error, compiled.sql, parameters, cursor) from error
        finally:
            cursor.close()
        row = compiled.row
        if not any(results):
            return [row._make(values) for values in fetched]
        return [row._make([value if process is None else process(value) for process, value in zip(results, values)])
                for values in fetched]

    def first(self, connection: Connection | Session, values: dict[str, Any]):
        """The first row, or None."""
        rows = self.rows(connection, values)
        return rows[0] if rows else None

    def scalar(self, connection: Connection | Session, values: dict[str, Any]):
        """The first column of the first row, or None."""
        rows = self.rows(connection, values)
        return rows[0][0] if rows else None


def _wrapped(connection: Connection, error: Exception, sql: str, parameters, cursor) -> exc.DBAPIError:
    """The driver's error as SQLAlchemy raises it; a connection that is gone is invalidated first."""
    dialect = connection.dialect
    gone = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if gone:
        connection.invalidate(error)
    return exc.DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error,
                                   connection_invalidated=gone, dialect=dialect)
