"""Bulk loading: a table's secondary indexes dropped for the load and built again after it.

Inserting millions of rows into a table with indexes updates every index row by row, in random order
for most of them (a crossing's UUID, its traveller); building an index afterwards sorts once, which is
several times faster. `indexes_deferred` does that inside the caller's transaction, so a failed load
rolls back with the indexes as they were (SQLite and PostgreSQL both drop and create indexes
transactionally). The indexes are rebuilt from the database's own definitions (sqlite_master,
pg_indexes), exactly as the migrations made them. Indexes that back a primary key or a unique
constraint stay: they are what keeps the rows unique while they are loaded.

Meant for an import into an otherwise idle table (`limes bench intel` loads millions of synthetic
crossings through it): while the indexes are gone, queries on the table in other transactions wait
for the lock (PostgreSQL) or the write lock (SQLite) anyway.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection


def secondary_indexes(connection: Connection, table: str) -> list[tuple[str, str]]:
    """(name, the statement that creates it) of the table's indexes that no constraint needs."""
    if connection.dialect.name == "sqlite":
        # Constraint indexes are sqlite_autoindex_* with no SQL of their own.
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                       "AND tbl_name = :table AND sql IS NOT NULL ORDER BY name"), {"table": table})
    elif connection.dialect.name == "postgresql":
        rows = connection.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = :table "
            "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace) "
            "ORDER BY i.indexname"), {"table": table})
    else:
        raise NotImplementedError(f"bulk loading on {connection.dialect.name}")
    return [(name, sql) for name, sql in rows]


@contextmanager
def indexes_deferred(connection: Connection, tables: Sequence[str]) -> Iterator[list[str]]:
    """Drop the tables' secondary indexes, yield their names, create them again (in the same transaction)."""
    dropped = [index for table in tables for index in secondary_indexes(connection, table)]
    quote = connection.dialect.identifier_preparer.quote
    for name, _ in dropped:
        connection.execute(text(f"DROP INDEX {quote(name)}"))
    yield [name for name, _ in dropped]
    for _, create in dropped:
        connection.execute(text(create))
