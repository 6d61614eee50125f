"""Central across sites (docs/SITES.md): headquarters and two border posts on PostgreSQL logical replication.

The stand's tests need PostgreSQL's server binaries and run in the PostgreSQL pass of the suite
(`.ci/postgres ./limes test tests/central`, which sets LIMES_CENTRAL_TEST_DATABASE): there they start
three clusters of their own on free loopback ports and remove them after, and fail if the binaries
are missing. The SQLite pass skips them, saying so; the table map, keys and migration order are
checked in both.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.serialization import Encoding
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Uuid, create_engine, text
from sqlalchemy.exc import DBAPIError

from central.access import roles as access_roles
from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database, alembic_config
from central.intelligence import network
from central.intelligence.profiles import parse as parse_conditions
from central.records import national_stay, referrals
from central.records.gate_calls import DocumentData, NewCrossing, TravellerData, record_crossing
from central.records.stays import StayQuestion
from central.risk.rules import RiskRules
from central.rpc.server import serve
from central.sites import monitoring, replication, tables
from central.sites.clusters import ClusterError, build_stand, free_port, postgres_bin
from central.sites.migration import migrate_sites, subscribers_first
from central.sites.replication import Post
from central.statistics.tables import statistics
from central.stays.regime import StayRules
from central.web import WebSettings, create_app
from central.web.accounts import set_password
from drivers.alertmatch.normalize import name_key
from drivers.checks import CheckStatus
from drivers.emrtd.passiveauth import CscaStore, verify
from edge.runtime import CrlRefresher
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import make_test_pki
from limes.cli import main

POSTGRES_PASS = bool(os.environ.get("LIMES_CENTRAL_TEST_DATABASE"))
POSTS = [Post("post_a", "RESTRICTED"), Post("post_b", "SECRET")]
DAY = dt.date(2026, 11, 25)
GATE = Caller(station="gate", purpose="test")
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TRUST_NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


# ---------------------------------------------------------------- both passes

def test_every_table_has_one_writer_side_and_replicates_one_way_at_most():
    up, down, local = set(tables.UP), set(tables.DOWN), set(tables.LOCAL)
    assert not (up & down) and not (up & local) and not (down & local)
    assert up | down | local == set(m.Base.metadata.tables) | {"alembic_version"}
    assert set(tables.FILTERED_BY_CLEARANCE) <= down


def test_the_up_tables_refer_only_to_what_headquarters_holds():
    """A row replicated up must find what it refers to at headquarters: another UP table, or a DOWN table
    (written there: a risk profile selection names the profile)."""
    for name in tables.UP:
        for key in m.Base.metadata.tables[name].foreign_keys:
            assert key.column.table.name in tables.UP + tables.DOWN, (name, key.target_fullname)


def test_the_up_tables_are_keyed_by_uuids_the_writing_site_makes():
    for name in tables.UP:
        key = m.Base.metadata.tables[name].c.id
        assert isinstance(key.type, Uuid) and key.default is not None and key.default.arg.__name__ == "new_key"
    with pytest.raises(replication.SiteError, match="lower-case"):
        Post("Post-X")
    with pytest.raises(replication.SiteError, match="clearance"):
        Post("post_x", "TOP")


def test_migrations_run_at_headquarters_first_for_the_tables_that_replicate_up(tmp_path):
    urls = {name: f"sqlite:///{tmp_path / name}.sqlite" for name in ("hq", "a", "b")}
    steps = migrate_sites(urls["hq"], [urls["a"], urls["b"]])
    revisions = list(dict.fromkeys(step.revision for step in steps))
    assert revisions[-1] == ScriptDirectory.from_config(alembic_config(urls["hq"])).get_current_head()
    script = ScriptDirectory.from_config(alembic_config(urls["hq"]))
    for revision in revisions:  # as each revision declares (the default: headquarters first)
        expected = ["hq", urls["a"], urls["b"]] if subscribers_first(script, revision) == "hq" else [
            urls["a"], urls["b"], "hq"]
        assert [s.site for s in steps if s.revision == revision] == expected
    # trust_objects replicates down: the posts receive it, so they have it before headquarters publishes it
    assert [s.site for s in steps if s.revision == "0017"] == [urls["a"], urls["b"], "hq"]
    assert migrate_sites(urls["hq"], [urls["a"], urls["b"]]) == []  # all at head: nothing to do


def test_a_single_site_on_sqlite_reports_no_replication(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'central.sqlite'}")
    database.migrate()
    state = monitoring.read_state(database.engine)
    assert not state.replicating and not state.error
    with database.engine.begin() as connection, pytest.raises(replication.SiteError, match="need PostgreSQL"):
        replication.prepare_post(connection, POSTS[0])
    with database.engine.begin() as connection, pytest.raises(replication.SiteError,
                                                              match="name post_a given to more"):
        replication.prepare_headquarters(connection, [Post("post_a"), Post("post_a", "SECRET")])
    database.dispose()


# ---------------------------------------------------------------- the stand (PostgreSQL pass)

@pytest.fixture(scope="module")
def stand():
    if not POSTGRES_PASS:
        pytest.skip("the multi-site stand belongs to the PostgreSQL pass (.ci/postgres ./limes test tests/central)")
    try:
        postgres_bin()
    except ClusterError as error:
        pytest.fail(f"the PostgreSQL pass is on but the stand cannot run: {error}")
    folder = Path(tempfile.mkdtemp(prefix="limes-sites-"))
    folder.chmod(0o755)  # run as root, the clusters run as postgres, who must reach their folders
    try:
        made = build_stand(folder / "stand", POSTS, fsync=False, wal_keep="256MB")
        yield made
        made.remove()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def crossing(point: str, number: str = "C01X00T47", at: dt.datetime | None = None,
             given_names: str = "ERIKA") -> NewCrossing:
    return NewCrossing(
        crossing_id=str(uuid.uuid4()), station=f"{point}-G1", border_point=point, direction=m.Direction.ENTRY,
        occurred_at=at or dt.datetime(2026, 11, 25, 7, 0, tzinfo=dt.timezone.utc),
        document=DocumentData(number, "P", "D", dt.date(2031, 8, 1)),
        traveller=TravellerData("MUSTERMANN", given_names, "DEU", "F", dt.date(1964, 8, 12)),
        decision=m.GateDecision.OPEN, reasons=["all checks passed"], checks=[], face_score=0.9)


def record(url: str, crossings: list[NewCrossing]) -> None:
    """Each crossing in a transaction of its own, as a post's central records its gates'."""
    database, rules = Database(url), RiskRules.load()
    try:
        for new in crossings:
            database.write(lambda connection, new=new: record_crossing(connection, GATE, new, rules))
    finally:
        database.dispose()


def scalar(url: str, sql: str, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def wait_for(check, timeout_s: float = 60.0, what: str = ""):
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(0.2)
    return result


def crossing_ids(url: str, point: str) -> list[str]:
    return [r[0] for r in rows(url, "SELECT c.crossing_id FROM crossings c JOIN border_points b "
                                    "ON b.id = c.border_point_id WHERE b.code = :p ORDER BY c.id", p=point)]


def test_crossings_referrals_and_decisions_of_every_post_reach_headquarters_and_its_statistics(stand):
    hq = stand.hq.url
    recorded = {}
    for post, cluster in stand.posts:
        recorded[post.name] = [crossing(post.name.upper()) for _ in range(6)]  # the same passport at both
        record(cluster.url, recorded[post.name])
    # An officer at post B decides a referral of one of its crossings.
    post_b, referral_id = Database(stand.post("post_b").url), str(uuid.uuid4())
    post_b.run(lambda session: referrals.open_referral(session, GATE, referral_id,
                                                       recorded["post_b"][0].crossing_id, "POST_B-G1", ["test"]))
    officer = Caller(station="web", user="officer-1", purpose="test")
    post_b.run(lambda session: referrals.record_decision(session, officer, referral_id, "officer-1",
                                                         m.ReferralStatus.ADMITTED, "", "checked"))
    post_b.dispose()
    wait_for(lambda: scalar(hq, "SELECT count(*) FROM crossings") >= 12, what="12 crossings at headquarters")
    wait_for(lambda: rows(hq, "SELECT r.status, d.officer, c.crossing_id FROM referrals r JOIN officer_decisions d "
                              "ON d.referral_id = r.id JOIN crossings c ON c.id = r.crossing_id") == [
        ("ADMITTED", "officer-1", recorded["post_b"][0].crossing_id)], what="the referral and its decision at HQ")
    database = Database(hq)
    table = database.run(lambda session: statistics(session, ("border_point",), "day", DAY, DAY))
    database.dispose()
    assert {(c.values, c.count) for c in table.cells} == {(("POST_A",), 6), (("POST_B",), 6)}
    # Each post's keys arrive as the post made them, and the one passport is a row per post.
    made = {row for _, cluster in stand.posts for row in rows(cluster.url, "SELECT id, crossing_id FROM crossings")}
    assert set(rows(hq, "SELECT id, crossing_id FROM crossings")) == made and len(made) == 12
    assert rows(hq, "SELECT site, number FROM travel_documents ORDER BY site") == [
        ("post_a", "C01X00T47"), ("post_b", "C01X00T47")]


def test_headquarters_judges_the_stay_on_both_posts_crossings_of_one_passport(stand):
    """In at post A on 1 January, out at post B on 31 March: 90 days, so on 1 June no day is left
    (central.records.national_stay); post A alone sees a stay still going on since January."""
    def passage(direction: m.Direction, on: dt.date, point: str) -> NewCrossing:
        # Each post its own border point: headquarters keys border points by code.
        return NewCrossing(
            crossing_id=str(uuid.uuid4()), station=f"{point}-G1", border_point=point, direction=direction,
            occurred_at=dt.datetime.combine(on, dt.time(9), dt.timezone.utc),
            document=DocumentData("N4T10NAL1", "P", "UTO", None),
            traveller=TravellerData("VOYAGER", "ANNA", "UTO", "F", dt.date(1990, 5, 1)),
            decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=None)
    record(stand.post("post_a").url, [passage(m.Direction.ENTRY, dt.date(2026, 1, 1), "NATIONAL_A")])
    record(stand.post("post_b").url, [passage(m.Direction.EXIT, dt.date(2026, 3, 31), "NATIONAL_B")])
    wait_for(lambda: scalar(stand.hq.url, "SELECT count(*) FROM crossings c JOIN travel_documents d ON "
                                          "d.id = c.document_id WHERE d.number = 'N4T10NAL1'") == 2,
             what="both posts' crossings at headquarters")
    question = StayQuestion("UTO", "N4T10NAL1", "P", name_key("VOYAGER", "ANNA"), dt.date(1990, 5, 1), "UTO")
    judged = {}
    for site, url in (("hq", stand.hq.url), ("post_a", stand.post("post_a").url)):
        database = Database(url)
        judged[site] = database.read(lambda c: national_stay.authorised_nationally(c, StayRules(), question,
                                                                                 dt.date(2026, 6, 1)))
        database.dispose()
    assert judged["hq"].travellers == 2 and judged["hq"].allowance.days_used == 91
    assert judged["hq"].allowance.refused.startswith("F:") and judged["hq"].allowance.latest_exit is None
    assert (judged["post_a"].travellers, judged["post_a"].allowance.days_used) == (1, 152)  # 1 Jan to 1 June


def test_headquarters_link_analysis_covers_the_posts_crossings_under_their_keys(stand):
    """Two travellers crossing together twice at post B are a group in headquarters' co-travel analysis,
    under the keys post B made for them."""
    trips = [dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.timezone.utc) + dt.timedelta(days=day) for day in (0, 1)]
    record(stand.post("post_b").url, [crossing("POST_B", number, trip + dt.timedelta(minutes=minute), given)
                                      for trip in trips
                                      for number, given, minute in (("T1000001", "ANNA", 0), ("T1000002", "HANS", 2))])
    hq = stand.hq.url
    wait_for(lambda: scalar(hq, "SELECT count(*) FROM crossings WHERE occurred_at >= :t", t=trips[0]) == 4,
             what="the four crossings at headquarters")
    post_b_travellers = {key for (key,) in rows(stand.post("post_b").url, "SELECT id FROM travellers")}
    database = Database(hq)
    analyst = Caller(station="web", user="analyst-1", purpose="test")
    found = database.run(lambda session: [
        ({t.given_names for t in group.members}, {t.id for t in group.members} <= post_b_travellers)
        for group in network.co_travel_groups(session, analyst, network.CoTravelQuery(min_together=2),
                                              trips[1] + dt.timedelta(days=1), "POST_B")])
    database.dispose()
    assert ({"ANNA", "HANS"}, True) in found


def test_a_post_cut_off_from_headquarters_catches_up_in_order_exactly_once(stand):
    post_a, hq = stand.post("post_a"), stand.hq
    before = scalar(hq.url, "SELECT count(*) FROM crossings")
    hq.stop()  # the link is down: the post keeps recording
    try:
        start = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
        offline = [crossing("POST_A", f"X{n:07d}", start + dt.timedelta(minutes=n)) for n in range(40)]
        record(post_a.url, offline)
        slot = {s.name: s for s in monitoring.read_state(create_engine(post_a.url)).slots}["hq_from_post_a"]
        assert not slot.active and slot.retained_wal_bytes > 0 and slot.lag_bytes > 0
    finally:
        hq.start()
    expected = [c.crossing_id for c in offline]
    wait_for(lambda: scalar(hq.url, "SELECT count(*) FROM crossings") >= before + 40, 90,
             "the post's 40 crossings at headquarters")
    time.sleep(1)  # anything applied twice would show now
    assert scalar(hq.url, "SELECT count(*) FROM crossings") == before + 40
    arrived = rows(hq.url, "SELECT crossing_id FROM crossings WHERE crossing_id = ANY(:ids) "
                          "ORDER BY CAST(CAST(xmin AS text) AS bigint)", ids=expected)
    # xmin: the transaction that wrote each row at headquarters, so this is the order they were applied in.
    assert [r[0] for r in arrived] == expected
    assert crossing_ids(hq.url, "POST_A")[-40:] == crossing_ids(post_a.url, "POST_A")[-40:] == expected


def test_alerts_and_profiles_written_at_headquarters_reach_posts_alerts_as_far_as_they_are_cleared(stand):
    hq = Database(stand.hq.url)

    def issue(session):
        for number, classification in (("OFF0001", "OFFICIAL"), ("SEC0001", "SECRET")):
            session.add(m.DocumentAlert(
                alert_id=str(uuid.uuid4()), number=number, number_norm=number, number_ocr_key=number,
                doc_type="P", issuing_state="D", reason=m.DocumentAlertReason.STOLEN, version=1,
                classification=classification))
        session.get(m.AlertVersion, 1).value += 1
        conditions = parse_conditions({"nationality": ["UTO"], "document_type": ["P"]})
        session.add(m.RiskProfile(name="sites-test", version=1, conditions=conditions, weight=0.5, author="analyst-1"))
    hq.run(issue)
    hq.dispose()

    def numbers(name: str) -> list[str]:
        return [r[0] for r in rows(stand.post(name).url, "SELECT number FROM document_alerts ORDER BY number")]
    wait_for(lambda: numbers("post_b") == ["OFF0001", "SEC0001"], what="both alerts at post_b (SECRET)")
    wait_for(lambda: numbers("post_a") == ["OFF0001"], what="the OFFICIAL alert at post_a (RESTRICTED)")
    time.sleep(0.5)
    assert numbers("post_a") == ["OFF0001"]  # the row filter kept the SECRET one at headquarters
    for post in ("post_a", "post_b"):  # risk profiles are not filtered: every post applies them
        wait_for(lambda post=post: rows(stand.post(post).url, "SELECT name, version FROM risk_profiles") == [
            ("sites-test", 1)], what=f"the risk profile at {post}")
    assert scalar(stand.post("post_a").url, "SELECT value FROM alert_version") == scalar(
        stand.hq.url, "SELECT value FROM alert_version")


def test_each_table_is_written_at_one_side_only(stand):
    with pytest.raises(DBAPIError, match="table border_points is written only at border posts"):
        record(stand.hq.url, [crossing("HQ")])
    post = Database(stand.post("post_a").url)
    with pytest.raises(DBAPIError, match="document_alerts is written only at headquarters"):
        post.run(lambda session: session.add(m.DocumentAlert(
            alert_id=str(uuid.uuid4()), number="P1", number_norm="P1", number_ocr_key="P1",
            reason=m.DocumentAlertReason.LOST, version=1)))
    post.dispose()


def test_trust_published_at_headquarters_reaches_the_posts_and_a_crl_revokes_there(stand, tmp_path, capsys):
    pki = make_test_pki("UTO", now=TRUST_NOW)
    ok, photo = cv2.imencode(".jpg", np.full((64, 48, 3), 150, np.uint8))
    assert ok
    document = personalise(TD3, photo.tobytes(), pki, faults=["revoked_dsc"])  # signed by the DSC the CRL revokes
    hq_folder, post_folder = tmp_path / "hq-csca", tmp_path / "post-a-csca"
    hq_folder.mkdir()

    def publish(url: str) -> int:
        return main(["central", "sites", "trust", "publish", "--database", url, "--store", str(hq_folder), "--json"])

    def arrived(post: str, kind: str) -> int:
        return scalar(stand.post(post).url, "SELECT count(*) FROM trust_objects WHERE kind = :k "
                                            "AND removed_at IS NULL", k=kind)

    (hq_folder / "uto.pem").write_bytes(pki.csca.certificate.public_bytes(Encoding.PEM))
    assert publish(stand.hq.url) == 0
    for post in ("post_a", "post_b"):  # trust data is not filtered: every post gets all of it
        wait_for(lambda post=post: arrived(post, "csca") == 1, what=f"the CSCA at {post}")
    assert main(["central", "sites", "trust", "materialise", "--database", stand.post("post_a").url,
                 "--store", str(post_folder)]) == 0
    gate = CscaStore()  # a gate of post A, started now, re-reading its folder's CRLs as it runs
    gate.load_dir(post_folder)
    crls = CrlRefresher(gate, [post_folder], every_s=3600)
    assert verify(document, gate, at=TRUST_NOW).check("dsc.revocation").status is CheckStatus.NOT_DONE

    (hq_folder / "uto.crl").write_bytes(pki.crl.public_bytes(Encoding.DER))
    assert publish(stand.hq.url) == 0
    wait_for(lambda: arrived("post_a", "crl") == 1, what="the CRL at post_a")
    assert main(["central", "sites", "trust", "materialise", "--database", stand.post("post_a").url,
                 "--store", str(post_folder)]) == 0
    assert [load.status for load in crls.refresh()] == ["accepted"]
    refused = verify(document, gate, at=TRUST_NOW)
    assert refused.check("dsc.revocation").status is CheckStatus.FAIL and not refused.passed
    assert "revoked on" in refused.check("dsc.revocation").reason
    capsys.readouterr()
    (hq_folder / "d.pem").write_bytes(make_test_pki("D", now=TRUST_NOW).csca.certificate.public_bytes(Encoding.PEM))
    assert publish(stand.post("post_b").url) == 1  # a post never writes trust data (its guard refuses)
    assert "trust_objects is written only at headquarters" in capsys.readouterr().err



def metrics_of(url: str) -> str:
    registry, engine = CollectorRegistry(), create_engine(url)
    registry.register(monitoring.ReplicationCollector(engine))
    try:
        return generate_latest(registry).decode()
    finally:
        engine.dispose()


def apply_errors(text_format: str, subscription: str) -> float:
    name = f'limes_central_subscription_apply_errors_total{{subscription="{subscription}"}}'
    found = re.search(re.escape(name) + r" (\S+)", text_format)
    assert found, f"no apply error count for {subscription}"
    return float(found.group(1))


def test_central_serves_the_replication_metrics_with_its_own(stand):
    metrics_port = free_port()
    server, _ = serve("127.0.0.1:0", stand.hq.url, plaintext=True, metrics_port=metrics_port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
            exported = response.read().decode()
    finally:
        server.stop(None)
    assert 'limes_central_subscription_worker_running{subscription="hq_from_post_b"} 1.0' in exported
    assert 'limes_central_replication_slot_active{slot="post_b_from_hq"} 1.0' in exported
    assert "limes_central_calls_total" in exported or "limes_central_group_commits_total" in exported


def test_the_administrators_page_shows_headquarters_subscriptions_and_slots(stand):
    hq = Database(stand.hq.url)
    password = "correct horse battery staple"

    def administrator(session):  # principals and web accounts are each site's own (LOCAL)
        access_roles.grant(session, access_roles.Kind.USER, "adam.admin", access_roles.Role.ADMINISTRATOR)
        set_password(session, Caller("test", "test"), "adam.admin", password, dt.datetime.now(dt.timezone.utc))
    hq.run(administrator)
    client = create_app(hq, settings=WebSettings(secret_key="test-secret")).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").get_data(as_text=True)).group(1)
    assert client.post("/sign-in", data={"user": "adam.admin", "password": password,
                                         "csrf_token": token}).status_code == 302
    page = client.get("/sites").get_data(as_text=True)
    hq.dispose()
    for name in ("hq_from_post_a", "hq_from_post_b", "post_a_from_hq", "post_b_from_hq", "limes_down_post_a"):
        assert name in page
    assert "A single site" not in page


def test_a_conflict_holds_the_subscription_back_and_shows_in_the_metrics(stand):
    hq, post_a = stand.hq.url, stand.post("post_a").url
    assert apply_errors(metrics_of(hq), "hq_from_post_a") == 0
    # Someone breaks the rule at headquarters, past the guard, as only a superuser can.
    engine = create_engine(hq)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("INSERT INTO border_points (id, code, name) "
                                "VALUES (gen_random_uuid(), 'POST_A_ANNEX', 'rogue')"))
    new = crossing("POST_A_ANNEX")
    record(post_a, [new])
    wait_for(lambda: apply_errors(metrics_of(hq), "hq_from_post_a") >= 1, what="the apply error counted")
    text_format = metrics_of(hq)
    assert apply_errors(text_format, "hq_from_post_a") >= 1
    assert apply_errors(text_format, "hq_from_post_b") == 0
    assert scalar(hq, "SELECT count(*) FROM crossings WHERE crossing_id = :c", c=new.crossing_id) == 0
    assert 'limes_central_subscription_enabled{subscription="hq_from_post_a"} 1.0' in text_format  # it retries
    # Resolved as docs/SITES.md says: the rogue row goes, and the retrying worker catches up by itself.
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("DELETE FROM border_points WHERE name = 'rogue'"))
    wait_for(lambda: scalar(hq, "SELECT count(*) FROM crossings WHERE crossing_id = :c", c=new.crossing_id) == 1,
             what="the crossing after the conflict was resolved")
    assert scalar(hq, "SELECT name FROM border_points WHERE code = 'POST_A_ANNEX'") == ""
    engine.dispose()


def test_the_stand_status_command_shows_every_site_replicating(stand, capsys):
    assert main(["central", "sites", "stand", "status", str(stand.directory), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["hq"]["replication"]["publications"] == ["limes_down_post_a", "limes_down_post_b"]
    assert {s["name"] for s in described["hq"]["replication"]["subscriptions"]} == {"hq_from_post_a",
                                                                                   "hq_from_post_b"}
    for post in described["posts"]:
        assert [s["name"] for s in post["replication"]["subscriptions"]] == [f"{post['name']}_from_hq"]
        assert [s["name"] for s in post["replication"]["slots"]] == [f"hq_from_{post['name']}"]


def test_the_stand_command_makes_a_stand_and_removes_it(capsys):
    if not POSTGRES_PASS:
        pytest.skip("the multi-site stand belongs to the PostgreSQL pass (.ci/postgres ./limes test tests/central)")
    folder = Path(tempfile.mkdtemp(prefix="limes-sites-"))
    folder.chmod(0o755)
    try:
        assert main(["central", "sites", "stand", "up", str(folder / "stand"), "--posts", "1", "--no-fsync",
                     "--json"]) == 0
        described = json.loads(capsys.readouterr().out)
        assert [p["name"] for p in described["posts"]] == ["post_a"] and described["hq"]["running"]
        assert scalar(described["posts"][0]["url"], "SHOW wal_level") == "logical"
        assert scalar(described["posts"][0]["url"], "SHOW max_slot_wal_keep_size") == "1GB"
        assert main(["central", "sites", "stand", "down", str(folder / "stand"), "--json"]) == 0
        assert not (folder / "stand").exists()
    finally:
        if (folder / "stand").exists():
            main(["central", "sites", "stand", "down", str(folder / "stand")])
        shutil.rmtree(folder, ignore_errors=True)
