"""Alembic environment for the central database.

The server and `limes central migrate` hand in an open connection
(config.attributes["connection"]); from the alembic command line the URL comes
from the ini file, LIMES_CENTRAL_DATABASE, or the embedded default.
"""
from __future__ import annotations

import os

from alembic import context

from central.database.engine import default_url, make_engine
from central.database.models import Base

config = context.config


def _configure(**kwargs) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table
    # instead, and on PostgreSQL it falls back to plain ALTER.
    context.configure(target_metadata=Base.metadata, render_as_batch=True, compare_type=True, **kwargs)


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or os.environ.get("LIMES_CENTRAL_DATABASE") or default_url()


if context.is_offline_mode():
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = make_engine(_url())
        with engine.begin() as own_connection:
            _configure(connection=own_connection)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
