"""Bulk loading with the indexes built after: the same indexes come back, and a failed load keeps them."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, inspect, select

from central.database import models as m
from central.database.bulk import indexes_deferred, secondary_indexes
from central.database.engine import Database
from limes.synthetic_crossings import load, world


def _indexes(database: Database) -> dict[str, list]:
    with database.engine.connect() as connection:
        found = inspect(connection)
        return {table: sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in found.get_indexes(table))
                for table in ("crossings", "travellers", "travel_documents")}


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def test_the_secondary_indexes_are_dropped_during_the_load_and_the_same_come_back(database):
    before = _indexes(database)
    assert "ix_crossings_point_time" in [name for name, *_ in before["crossings"]]
    data = world(3000, 3)

    def bulk_load(session):
        with indexes_deferred(session.connection(), ["crossings", "travellers", "travel_documents"]) as dropped:
            assert "ix_crossings_point_time" in dropped and "ix_crossings_traveller_id" in dropped
            assert secondary_indexes(session.connection(), "crossings") == []
            load(session, data)
    database.run(bulk_load)
    assert _indexes(database) == before
    with database.engine.connect() as connection:
        assert connection.scalar(select(func.count(m.Crossing.id))) == len(data)


def test_a_failed_load_rolls_back_and_leaves_the_indexes(database):
    before = _indexes(database)
    data = world(2000, 2)

    def failing_load(session):
        with indexes_deferred(session.connection(), ["crossings"]):
            load(session, data)
            raise RuntimeError("the import file ends in the middle of a row")
    with pytest.raises(RuntimeError):
        database.run(failing_load, attempts=1)
    assert _indexes(database) == before
    with database.engine.connect() as connection:
        assert connection.scalar(select(m.Crossing.id).limit(1)) is None


def test_unique_constraints_stay_while_loading(database):
    when = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)

    def twice(session):
        with indexes_deferred(session.connection(), ["crossings"]):
            load(session, world(1000, 1, start=when))
            session.execute(m.Crossing.__table__.insert().from_select(
                [c.name for c in m.Crossing.__table__.columns if c.name != "id"],
                select(*[c for c in m.Crossing.__table__.columns if c.name != "id"]).limit(1)))
    with pytest.raises(Exception, match="(?i)unique"):
        database.run(twice, attempts=1)
