"""A central server on an ephemeral port over a fresh SQLite file, and helpers to talk to it.

The server speaks mutual TLS with the run's development CA (the `dev_pki`
fixture), as in production: every caller is the station or user its client
certificate names. The `stub` fixture sends each call over the channel of the
identity its metadata names (see IdentityStub), so tests can say who calls
the way a gate or an officer tool does.

With LIMES_CENTRAL_TEST_DATABASE set to a PostgreSQL URL (e.g.
postgresql+psycopg://limes@127.0.0.1:55432/central, driver installed by hand),
the same tests run there instead: its public schema is emptied before each test.
"""
from __future__ import annotations

import os
import shutil
import threading
import uuid
from pathlib import Path

import grpc
import pytest

from central.access.roles import AccessPolicy, Kind, Role
from central.database.engine import Database
from central.rpc.server import serve
from proto.dev_pki import DevPki
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc, common_pb2
from proto.tls import open_channel

GATE_METADATA = (("x-limes-station", "FRA-T1-G03"),)
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


class Central:
    """A central server under test: its address, and a TLS channel per identity, opened on first use."""

    def __init__(self, address: str, pki: DevPki) -> None:
        self.address = address
        self.pki = pki
        self._channels: dict[tuple[str, str], grpc.Channel] = {}
        self._opening = threading.Lock()  # tests call from many threads at once

    def channel(self, *, station: str = "", user: str = "") -> grpc.Channel:
        """The channel of a station's certificate, or else of a user's (TEST_USER by default)."""
        key = ("station", station) if station else ("user", user or TEST_USER)
        with self._opening:
            if key not in self._channels:
                tls = self.pki.station(key[1]) if key[0] == "station" else self.pki.user(key[1])
                self._channels[key] = open_channel(self.address, tls)
            return self._channels[key]

    def stub(self) -> IdentityStub:
        return IdentityStub(self)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


class IdentityStub:
    """A CentralStub whose every call goes over the certificate of the identity its metadata names:
    x-limes-station picks that station's, else x-limes-user that user's, else TEST_USER's.
    The metadata goes along unchanged (under TLS it may repeat what the certificate says)."""

    def __init__(self, central: Central) -> None:
        self._central = central

    def __getattr__(self, method: str):
        def call(request, metadata=(), **options):
            names = dict(metadata or ())
            channel = self._central.channel(station=names.get("x-limes-station", ""),
                                            user=names.get("x-limes-user", ""))
            return getattr(central_pb2_grpc.CentralStub(channel), method)(request, metadata=metadata, **options)
        return call


def serve_central(database_url: str, pki: DevPki, **options):
    """serve() over TLS with the run's CA, on a free port: (server, Central)."""
    server, port = serve("127.0.0.1:0", database_url, tls=pki.server(), **options)
    return server, Central(f"127.0.0.1:{port}", pki)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite database migrated to head once for the run: migrating one from nothing takes about half a
    second (0018 rebuilds a dozen tables), and hundreds of tests start from one."""
    path = tmp_path_factory.mktemp("migrated") / "central.sqlite"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    database.dispose()  # its last connection closed: the WAL is checkpointed into the file
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """A database at head: on SQLite a copy of the run's migrated one, on PostgreSQL an emptied schema."""
    url = os.environ.get("LIMES_CENTRAL_TEST_DATABASE")
    if not url:
        shutil.copyfile(migrated_sqlite, tmp_path / "central.sqlite")
        return f"sqlite:///{tmp_path / 'central.sqlite'}"
    return empty_postgresql(url)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    """A database with nothing in it, for the tests of the migrations themselves."""
    url = os.environ.get("LIMES_CENTRAL_TEST_DATABASE")
    if not url:
        return f"sqlite:///{tmp_path / 'central.sqlite'}"
    return empty_postgresql(url)


def empty_postgresql(url: str) -> str:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


@pytest.fixture
def central(database_url: str, dev_pki: DevPki):
    server, central = serve_central(database_url, dev_pki, access=TEST_ACCESS)
    yield central
    central.close()
    server.stop(None)


@pytest.fixture
def server(central: Central) -> grpc.Channel:
    """A channel to the test server as TEST_USER."""
    return central.channel()


@pytest.fixture
def stub(central: Central) -> IdentityStub:
    return central.stub()


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
