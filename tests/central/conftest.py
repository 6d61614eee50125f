"""A central server on an ephemeral port over a fresh SQLite file, and helpers to talk to it.

With LIMES_CENTRAL_TEST_DATABASE set to a PostgreSQL URL (e.g.
postgresql+psycopg://limes@127.0.0.1:55432/central, driver installed by hand),
the same tests run there instead: its public schema is emptied before each test.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import grpc
import pytest

from central.server import serve
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.limes.v1 import common_pb2

from central.access import AccessPolicy, Kind, Role

GATE_METADATA = (("x-limes-station", "FRA-T1-G03"), ("x-limes-user", "gate"))
# Calls made without metadata by the `stub` fixture come from this user, who holds every role:
# most tests are about what a call does, not who may make it (tests/central/test_access.py is).
TEST_USER = "tester"
TEST_ACCESS = AccessPolicy(bootstrap={
    (Kind.STATION, "FRA-T1-G03"): (Role.GATE,),
    (Kind.USER, "officer-17"): (Role.OFFICER,),
    (Kind.USER, "analyst-1"): (Role.ANALYST,),
    (Kind.USER, "admin-1"): (Role.ADMINISTRATOR,),
    (Kind.USER, TEST_USER): tuple(Role),
})


class _DefaultCaller(grpc.UnaryUnaryClientInterceptor):
    """Adds x-limes-user: tester to calls that name no caller."""

    def intercept_unary_unary(self, continuation, details, request):
        if not details.metadata:
            details = details._replace(metadata=(("x-limes-user", TEST_USER),))
        return continuation(details, request)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = os.environ.get("LIMES_CENTRAL_TEST_DATABASE")
    if not url:
        return f"sqlite:///{tmp_path / 'central.sqlite'}"
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


@pytest.fixture
def server(database_url: str):
    server, port = serve("127.0.0.1:0", database_url, access=TEST_ACCESS)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield channel
    channel.close()
    server.stop(None)


@pytest.fixture
def stub(server) -> central_pb2_grpc.CentralStub:
    return test_stub(server)


def test_stub(channel: grpc.Channel) -> central_pb2_grpc.CentralStub:
    """A stub whose calls without metadata come from TEST_USER."""
    return central_pb2_grpc.CentralStub(grpc.intercept_channel(channel, _DefaultCaller()))


test_stub.__test__ = False  # a helper, not a test


def crossing_request(crossing_id: str | None = None, **overrides) -> pb.RecordCrossingRequest:
    request = pb.RecordCrossingRequest(
        crossing_id=str(uuid.uuid4()) if crossing_id is None else crossing_id,
        station_id="FRA-T1-G03",
        border_point="FRA-T1",
        direction=pb.Crossing.ENTRY,
        occurred_at="2026-11-25T07:00:00Z",
        document=pb.TravelDocument(number="C01X00T47", type="P", issuing_state="D", expiry_date="2031-08-01"),
        traveller=pb.Traveller(surname="MUSTERMANN", given_names="ERIKA", nationality="DEU", sex="F",
                               birth_date="1964-08-12"),
        decision=pb.Crossing.OPEN,
        reasons=["all checks passed"],
        checks=[common_pb2.Check(name="mrz.check_digits", status=common_pb2.Check.PASS, reason="")],
        face_score=0.93,
    )
    for name, value in overrides.items():
        field = getattr(request, name)
        if hasattr(field, "CopyFrom"):
            field.CopyFrom(value)
        elif isinstance(value, list):
            del field[:]
            field.extend(value)
        else:
            setattr(request, name, value)
    return request
