"""Migrations across sites, subscribers first (docs/SITES.md, Migrations).

DDL is not replicated, and a subscriber must have every column a publisher sends it. So each
revision runs first where the tables it changes are received: at headquarters for the tables that
replicate up, at the posts for those that replicate down. A migration says which with a module
attribute `subscribers_first = "hq"` or `"posts"` (default "hq"; a migration that needs both is
split in two). Revisions run one at a time across every site, in that order.
"""
from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from central.database.engine import Database, alembic_config

ORDERS = ("hq", "posts")


@dataclass(frozen=True)
class Step:
    revision: str
    site: str  # "hq" or the post's url


def subscribers_first(script: ScriptDirectory, revision: str) -> str:
    order = getattr(script.get_revision(revision).module, "subscribers_first", "hq")
    if order not in ORDERS:
        raise ValueError(f"migration {revision}: subscribers_first = {order!r}, not one of {ORDERS}")
    return order


def _applied(script: ScriptDirectory, database: Database) -> set[str]:
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return set()
    return {r.revision for r in script.iterate_revisions(current, "base")}


def migrate_sites(hq_url: str, post_urls: list[str]) -> list[Step]:
    """Bring headquarters and every post to head, revision by revision, subscribers first; the steps taken."""
    config = alembic_config(hq_url)
    script = ScriptDirectory.from_config(config)
    databases = {"hq": Database(hq_url), **{url: Database(url) for url in post_urls}}
    steps: list[Step] = []
    try:
        applied = {site: _applied(script, database) for site, database in databases.items()}
        for revision in reversed(list(script.walk_revisions("base", "heads"))):
            order = ["hq", *post_urls] if subscribers_first(script, revision.revision) == "hq" else [*post_urls, "hq"]
            for site in order:
                if revision.revision in applied[site]:
                    continue
                site_config = alembic_config(databases[site].url)
                with databases[site].engine.begin() as connection:
                    site_config.attributes["connection"] = connection
                    command.upgrade(site_config, revision.revision)
                applied[site].add(revision.revision)
                steps.append(Step(revision.revision, site))
    finally:
        for database in databases.values():
            database.dispose()
    return steps
