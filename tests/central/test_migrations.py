"""Alembic: upgrade head on an empty database gives exactly the schema of the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

from central import models as m
from central.db import Database, alembic_config


def test_upgrade_head_matches_the_models(database_url):
    database = Database(database_url)
    revision = database.migrate()
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert revision == head
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, m.Base.metadata) == []
    database.dispose()


def test_migrate_twice_is_harmless_and_seeds_the_alert_counter(database_url):
    database = Database(database_url)
    database.migrate()
    database.migrate()
    with database.engine.connect() as connection:
        assert connection.execute(select(m.AlertVersion.id, m.AlertVersion.value)).all() == [(1, 0)]
    database.dispose()


def test_in_memory_database_is_usable(tmp_path):
    database = Database("sqlite://")
    database.migrate()
    assert database.run(lambda session: session.get(m.AlertVersion, 1).value) == 0
    database.dispose()
