"""A web desk over a fresh SQLite file with one user per role, a referral with evidence, and a clock the
tests move. Drives the app through Flask's test client (the browser tests use a real server)."""
from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from central.access import audit as audit_log
from central.access import roles as access
from central.database import models as m
from central.database.engine import Database
from central.records import gate_calls, referrals
from central.records.evidence import ReferralCandidate, ReferralEvidence
from central.risk.rules import RiskRules
from central.web import WebSettings, create_app
from central.web.accounts import set_password

PASSWORD = "correct horse battery staple"
USERS = {"officer": "olga.officer", "supervisor": "sam.supervisor", "analyst": "ana.analyst",
         "administrator": "adam.admin", "intelligence": "ivo.intel"}
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self, now: dt.datetime = NOW):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class FakeEnroller:
    """The matcher's gallery as a dict."""
    subjects: dict[str, tuple] = field(default_factory=dict)

    def enrol(self, subject_id, face) -> None:
        self.subjects[subject_id] = face.vector

    def remove(self, subject_id) -> None:
        self.subjects.pop(subject_id, None)


def jpeg(colour=(120, 140, 160), size=(60, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


FACE_MISMATCH = ({"name": "mrz.valid", "status": "PASS", "reason": "TD3"},
                 {"name": "face.verification", "status": "FAIL", "reason": "score 0.31"})


def seed_referral(database: Database, *, surname="MUSTERMANN", given_names="ERIKA", note_reasons=None,
                  evidence: ReferralEvidence | None = None, occurred_at: dt.datetime = NOW,
                  checks: tuple[dict, ...] = FACE_MISMATCH, face_score: float | None = 0.31) -> str:
    """A referred crossing with the gate's evidence; its referral id."""
    crossing_id = str(uuid.uuid4())
    new = gate_calls.NewCrossing(
        crossing_id=crossing_id, station="FRA-T1-G03", border_point="FRA-T1", direction=m.Direction.ENTRY,
        occurred_at=occurred_at,
        document=gate_calls.DocumentData("C01X00T47", "P", "DEU", dt.date(2031, 8, 1)),
        traveller=gate_calls.TravellerData(surname, given_names, "DEU", "F", dt.date(1964, 8, 12)),
        decision=m.GateDecision.REFER, reasons=note_reasons or ["face.verification: live face does not match"],
        checks=list(checks), face_score=face_score)
    gate = audit_log.Caller("FRA-T1-G03", "")
    evidence = evidence if evidence is not None else ReferralEvidence(jpeg(), jpeg((200, 180, 170)),
                                                              (ReferralCandidate("watchlist", "PA-1", 0.82),))

    def work(session):
        gate_calls.record_crossing(session, gate, new, RiskRules.load(None))
        referrals.open_referral(session, gate, crossing_id, crossing_id, "FRA-T1-G03", list(new.reasons), evidence)
    database.run(work)
    return crossing_id


@dataclass
class Desk:
    database: Database
    app: object
    clock: Clock
    enroller: FakeEnroller
    referral_id: str

    def client(self):
        return self.app.test_client()

    def signed_in(self, role: str):
        client = self.client()
        response = sign_in(client, USERS[role])
        assert response.status_code == 302, response.data
        return client


def csrf_token(client, path: str = "/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def notices(client, path: str) -> list[str]:
    """The notices (flashed messages) a page shows."""
    page = client.get(path).get_data(as_text=True)
    return [html.unescape(n) for n in re.findall(r'<p class="alert-box [a-z-]+ notice" role="[a-z]+">(.*?)</p>', page)]


def notices_after(client, response) -> list[str]:
    """The notices on the page an action redirects to."""
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return notices(client, response.headers["Location"])


def sign_in(client, user: str, password: str = PASSWORD):
    return client.post("/sign-in", data={"user": user, "password": password, "csrf_token": csrf_token(client)})


@pytest.fixture(scope="session")
def desk_template(tmp_path_factory) -> tuple[Path, str]:
    """A migrated database with the users (argon2 hashing is slow on purpose) and a referral, made once;
    each test works on its own copy."""
    path = tmp_path_factory.mktemp("desk") / "template.sqlite"
    database = Database(f"sqlite:///{path}")
    database.migrate()

    def users(session):
        for role, user in USERS.items():
            access.grant(session, access.Kind.USER, user, access.Role(role))
            set_password(session, audit_log.Caller("test", "test"), user, PASSWORD, NOW)
    database.run(users)
    referral_id = seed_referral(database)
    database.dispose()  # the last connection closing folds the WAL into the file
    return path, referral_id


@pytest.fixture
def desk(tmp_path, desk_template) -> Desk:
    template, referral_id = desk_template
    shutil.copyfile(template, tmp_path / "central.sqlite")
    database = Database(f"sqlite:///{tmp_path / 'central.sqlite'}")
    clock = Clock()
    enroller = FakeEnroller()
    app = create_app(database, enroller=enroller, settings=WebSettings(secret_key="test-secret"), clock=clock)
    yield Desk(database, app, clock, enroller, referral_id)
    database.dispose()


# Debian's chromium, driven by Playwright (never a downloaded browser); one per test module.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install chromium (./limes setup installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
