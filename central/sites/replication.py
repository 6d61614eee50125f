"""The SQL that makes a PostgreSQL database of central a border post or headquarters (docs/SITES.md).

What a migration cannot do, because it depends on the site: a post's name as the default site of its
travel documents, the guard that refuses writes to tables
another site writes, publications and subscriptions. Each function is idempotent, and runs on a
database already migrated to head (central.sites.migration).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

from central.intelligence.clearance import LEVELS
from central.sites.links import LinkError, check_publisher
from central.sites.tables import DOWN, FILTERED_BY_CLEARANCE, UP

UP_PUBLICATION = "limes_up"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")


class SiteError(ValueError):
    """A database that cannot take the role asked of it, and why."""


@dataclass(frozen=True)
class Post:
    """A border post: its name (lower case, digits, _) and the highest classification of alerts it
    receives (central.intelligence.clearance.LEVELS). Its rows need nothing more to be told apart from
    other posts' at headquarters: their keys are UUIDs (central.database.keys)."""

    name: str
    clearance: str = "RESTRICTED"

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise SiteError(f"post name {self.name!r}: lower-case letters, digits and _, starting with a letter")
        if self.clearance not in LEVELS:
            raise SiteError(f"clearance {self.clearance!r} is not one of {', '.join(LEVELS)}")

    @property
    def down_publication(self) -> str:
        return f"limes_down_{self.name}"

    @property
    def subscription_at_hq(self) -> str:
        return f"hq_from_{self.name}"

    @property
    def subscription_at_post(self) -> str:
        return f"{self.name}_from_hq"

    def released_levels(self) -> tuple[str, ...]:
        return LEVELS[:LEVELS.index(self.clearance) + 1]


_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION limes_one_writer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'central: table % is written only at %, and replicated here (docs/SITES.md)',
    TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'read_only_sql_transaction';
END $$
"""


def _guard(connection: Connection, tables: tuple[str, ...], writer: str) -> None:
    """Refuse local writes to `tables`: the apply worker of a subscription runs with
    session_replication_role = replica, where ordinary triggers do not fire, so replication still writes."""
    connection.execute(text(_GUARD_FUNCTION))
    for table in tables:
        connection.execute(text(
            f"CREATE OR REPLACE TRIGGER limes_one_writer BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION limes_one_writer('{writer}')"))


def _guarded(connection: Connection, table: str) -> bool:
    return connection.scalar(text(
        "SELECT count(*) FROM pg_trigger WHERE tgname = 'limes_one_writer' AND tgrelid = CAST(:t AS regclass)"),
        {"t": table}) > 0


def _check_postgresql(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        raise SiteError(f"sites need PostgreSQL (logical replication); this database is {connection.dialect.name}")


def _refuse_rows(connection: Connection, tables: tuple[str, ...], where: str) -> None:
    for table in tables:
        count = connection.scalar(text(f"SELECT count(*) FROM {table}"))
        if count:
            raise SiteError(f"{table} holds {count} row(s), but it is written only at {where}: "
                            f"move them there first (docs/SITES.md)")


def prepare_post(connection: Connection, post: Post) -> None:
    """Make a migrated database border post `post`: its site name on documents, DOWN tables emptied for
    headquarters' copy and guarded, and the publication of its UP tables."""
    _check_postgresql(connection)
    connection.execute(text(f"ALTER TABLE travel_documents ALTER COLUMN site SET DEFAULT '{post.name}'"))
    if not _guarded(connection, DOWN[0]):
        # The migrations seed alert_version; headquarters' row replaces it. Nothing else may be there.
        _refuse_rows(connection, tuple(t for t in DOWN if t != "alert_version"), "headquarters")
        connection.execute(text("TRUNCATE alert_version"))
        _guard(connection, DOWN, "headquarters")
    if not connection.scalar(text("SELECT count(*) FROM pg_publication WHERE pubname = :p"), {"p": UP_PUBLICATION}):
        connection.execute(text(f"CREATE PUBLICATION {UP_PUBLICATION} FOR TABLE {', '.join(UP)}"))


def prepare_headquarters(connection: Connection, posts: list[Post]) -> None:
    """Make a migrated database headquarters: UP tables guarded (only posts write them), documents keyed by
    site, and a publication of the DOWN tables per post, alerts filtered to what the post is cleared for."""
    names = [post.name for post in posts]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # one name, one publication and one subscription
        raise SiteError(f"posts must differ: name {', '.join(twice)} given to more than one post")
    _check_postgresql(connection)
    if not _guarded(connection, UP[0]):
        _refuse_rows(connection, UP, "border posts")
        _guard(connection, UP, "border posts")
    connection.execute(text("ALTER TABLE travel_documents DROP CONSTRAINT IF EXISTS uq_travel_documents_state_number"))
    if not connection.scalar(text("SELECT count(*) FROM pg_constraint WHERE conname = :c"),
                             {"c": "uq_travel_documents_site_number"}):
        connection.execute(text("ALTER TABLE travel_documents ADD CONSTRAINT uq_travel_documents_site_number "
                                "UNIQUE (site, issuing_state, number_norm)"))
    for table in FILTERED_BY_CLEARANCE:
        connection.execute(text(f"ALTER TABLE {table} REPLICA IDENTITY FULL"))
    for post in posts:
        if connection.scalar(text("SELECT count(*) FROM pg_publication WHERE pubname = :p"),
                             {"p": post.down_publication}):
            continue
        # ORs rather than IN (...): PostgreSQL 15 refuses an IN list in a row filter.
        released = " OR ".join(f"classification = '{level}'" for level in post.released_levels())
        tables = [f"{t} WHERE ({released})" if t in FILTERED_BY_CLEARANCE else t for t in DOWN]
        connection.execute(text(f"CREATE PUBLICATION {post.down_publication} FOR TABLE {', '.join(tables)}"))


def subscribe(connection: Connection, name: str, conninfo: str, publication: str) -> None:
    """Subscribe (in autocommit: creating the slot at the publisher cannot run in a transaction).

    Without disable_on_error: in PostgreSQL 15 a lost connection to the publisher counts as an error
    too (seen on 2026-12-06: headquarters stopped, every post's subscription disabled itself and stayed
    so), and a post must resume by itself when its link comes back. A conflict instead makes the apply
    worker fail and retry, counted in apply_error_count: the metrics and the administrators' page show
    it (docs/SITES.md, Conflicts)."""
    try:
        check_publisher(conninfo)
    except LinkError as exc:
        raise SiteError(f"subscription {name}: {exc}") from None
    if connection.scalar(text("SELECT count(*) FROM pg_subscription WHERE subname = :s"), {"s": name}):
        return
    connection.execute(text(f"CREATE SUBSCRIPTION {name} CONNECTION '{_quote(conninfo)}' PUBLICATION {publication}"))


def _quote(value: str) -> str:
    return value.replace("'", "''")
