"""Two Limes centrals with separate CAs, each with a trust file naming the other; helpers to start them as
processes (`limes central serve --federation`) and to look into their databases."""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from central.access import scope
from central.access.audit import Caller
from central.access.roles import Kind
from central.alerts import lists as alert_lists
from central.database import models as m
from central.database.engine import Database
from proto.dev_pki import DevPki
from tests.central.serving import CentralProcess

AGENCY = {"A": "A-POLICE", "B": "B-POLICE", "C": "C-POLICE"}
NAME = {"A": "LIMES-A", "B": "LIMES-B", "C": "LIMES-C"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bundle_keys(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / "bundle.key", folder / "bundle.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


@dataclass
class Side:
    """One central: its folder, CA, database, federation port and trust file."""

    letter: str
    folder: Path
    pki: DevPki
    database_url: str
    port: int
    bundle_key: Path
    bundle_public: Path
    trust: Path | None = None
    central_address: str = ""  # its Central gRPC service, once running

    @property
    def name(self) -> str:
        return NAME[self.letter]

    def database(self) -> Database:
        return Database(self.database_url)

    def write_trust(self, partner: Side, *, lists=("documents",), subscribe=("documents",), handling=("P",),
                    disclose=(), sync_every_s: float = 0.5, max_delta_alerts: int = 5000) -> Path:
        tls = self.pki.server()

        def strings(values) -> str:
            return "[" + ", ".join(f'"{v}"' for v in values) + "]"
        self.trust = self.folder / "trust.toml"
        self.trust.write_text(f"""
[self]
name = "{self.name}"
listen = "127.0.0.1:{self.port}"
certificate = "{tls.certificate}"
key = "{tls.key}"
bundle_key = "{self.bundle_key}"
max_delta_alerts = {max_delta_alerts}
sync_every_s = {sync_every_s}

[[partner]]
name = "{partner.name}"
address = "127.0.0.1:{partner.port}"
ca = "{partner.pki.ca_path}"
bundle_key = "{partner.bundle_public}"
lists = {strings(lists)}
handling_codes = {strings(handling)}
disclose = {strings(disclose)}
subscribe = {strings(subscribe)}
""", encoding="utf-8")
        return self.trust

    def issue(self, number: str = "", surname: str = "", handling: str = "P", instruction: str = "seize it"):
        """An alert issued by this side's police administrator (its agency owns it); the alert."""
        database = self.database()
        admin = Caller("cli", f"{self.letter.lower()}-admin")
        conditions = "" if handling == "P" else "our police only"
        try:
            def work(session):
                scope.set_scope(session, Caller("cli", "setup"), Kind.USER, admin.user, AGENCY[self.letter])
                if number:
                    return alert_lists.add_document_alert(session, admin, alert_lists.NewDocumentAlert(
                        "", number, "P", "", m.DocumentAlertReason.STOLEN, instruction, "", None, None,
                        handling_code=handling, handling_conditions=conditions)).alert_id
                return alert_lists.add_person_alert(session, admin, alert_lists.NewPersonAlert(
                    "", surname, "ANNA", None, "", m.PersonAlertReason.ENTRY_BAN, instruction, "", None, None, "",
                    handling_code=handling, handling_conditions=conditions)).alert_id
            return database.run(work)
        finally:
            database.dispose()

    def rows(self, model, *where) -> list:
        database = self.database()
        try:
            return database.run(lambda s: [
                {c.name: getattr(row, c.name) for c in model.__table__.columns}
                for row in s.scalars(select(model).where(*where).order_by(model.id))])
        finally:
            database.dispose()


def make_side(tmp_path: Path, letter: str) -> Side:
    folder = tmp_path / letter
    folder.mkdir()
    key, public = bundle_keys(folder)
    side = Side(letter, folder, DevPki(folder / "pki"), f"sqlite:///{folder / 'central.sqlite'}", free_port(),
                key, public)
    side.database().migrate()
    return side


@pytest.fixture
def sides(tmp_path) -> tuple[Side, Side]:
    """Central A and central B, each with its own CA; trust files not yet written."""
    return make_side(tmp_path, "A"), make_side(tmp_path, "B")


class Running(CentralProcess):
    """A `limes central serve --federation` process."""

    def __init__(self, side: Side) -> None:
        self.side = side
        super().__init__(side.folder, side.database_url, side.pki, "--federation", str(side.trust))

    def wait_ready(self) -> Running:
        """Until it prints where it serves (started processes come up side by side)."""
        self.started = super().wait_ready(f"central {self.side.letter}")
        self.side.central_address = self.started["address"]
        return self


@pytest.fixture
def running():
    """Starts centrals as processes side by side (running(a, b)), ready when it returns; stops them at the end."""
    started: list[Running] = []

    def start(*sides: Side) -> list[Running]:
        processes = [Running(side) for side in sides]
        started.extend(processes)
        return [process.wait_ready() for process in processes]
    yield start
    for process in started:
        process.stop()


def wait_for(condition, timeout_s: float = 20.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not hold within {timeout_s} s")
