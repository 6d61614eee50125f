"""Alembic: upgrade head on an empty database gives exactly the schema of the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

from central.database import models as m
from central.database.engine import Database, alembic_config
from central.database.keys import from_integer, new_key


def test_upgrade_head_matches_the_models(empty_database_url):
    database = Database(empty_database_url)
    revision = database.migrate()
    head = ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()
    assert revision == head
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, m.Base.metadata) == []
    database.dispose()


def test_migrate_twice_is_harmless_and_seeds_the_alert_counter(empty_database_url):
    database = Database(empty_database_url)
    database.migrate()
    database.migrate()
    with database.engine.connect() as connection:
        assert connection.execute(select(m.AlertVersion.id, m.AlertVersion.value)).all() == [(1, 0)]
    database.dispose()


def test_a_crossing_stored_at_revision_0001_survives_the_upgrade(empty_database_url):
    from alembic import command

    database = Database(empty_database_url)
    config = alembic_config(empty_database_url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        for statement in (
            "INSERT INTO border_points (id, code, name) VALUES (1, 'FRA-T1', '')",
            "INSERT INTO stations (id, code, border_point_id) VALUES (1, 'G1', 1)",
            "INSERT INTO travellers (id, surname, given_names, name_key, nationality, sex)"
            " VALUES (1, 'ROE', '', 'ROE', '', '')",
            "INSERT INTO travel_documents (id, number, number_norm, issuing_state, doc_type, traveller_id)"
            " VALUES (1, 'X1', 'X1', 'DEU', 'P', 1)",
            "INSERT INTO crossings (id, crossing_id, request_digest, station_id, border_point_id, direction,"
            " occurred_at, recorded_at, document_id, traveller_id, decision, reasons, checks, risk_score,"
            " risk_rules_fired, risk_rules_version) VALUES (1, 'c-1', 'abc', 1, 1, 'ENTRY',"
            " '2026-11-01 08:00:00', '2026-11-01 08:00:01', 1, 1, 'OPEN', '[]', '[]', 0.0, '[]', 'v1')",
        ):
            connection.exec_driver_sql(statement)
    database.migrate()
    with database.engine.connect() as connection:
        assert connection.execute(select(m.Crossing.crossing_id, m.Crossing.direction)).all() == [
            ("c-1", m.Direction.ENTRY)]
    database.dispose()


def test_downgrade_to_base_and_up_again(empty_database_url):
    from alembic import command

    database = Database(empty_database_url)
    database.migrate()
    config = alembic_config(empty_database_url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert database.migrate() == ScriptDirectory.from_config(config).get_current_head()
    database.dispose()


def test_in_memory_database_is_usable(tmp_path):
    database = Database("sqlite://")
    database.migrate()
    assert database.run(lambda session: session.get(m.AlertVersion, 1).value) == 0
    database.dispose()


def test_a_permitted_stay_stored_at_revision_0005_becomes_a_residence_permit(empty_database_url):
    from alembic import command

    database = Database(empty_database_url)
    config = alembic_config(empty_database_url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.exec_driver_sql(
            "INSERT INTO permitted_stays (id, issuing_state, number_norm, valid_from, valid_to, reference)"
            " VALUES (1, 'DEU', 'X1', '2026-01-01', '2026-12-31', 'permit')")
    database.migrate()
    with database.engine.connect() as connection:
        assert connection.execute(select(m.PermittedStay.kind, m.PermittedStay.entries,
                                         m.PermittedStay.traveller_id)).all() == [
            (m.PermitKind.RESIDENCE_PERMIT, None, None)]
        assert connection.execute(select(m.StayRecord.id)).all() == []
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT reference FROM permitted_stays").all() == [("permit",)]
    database.dispose()


def test_the_addresses_of_pnrs_stored_before_0015_become_links_unless_depersonalised(empty_database_url):
    from alembic import command

    database = Database(empty_database_url)
    config = alembic_config(empty_database_url)
    address = ('{"addresses": [{"purpose": "700", "street": "Heidestrasse  17", "city": "KOELN", "country": "DE",'
               ' "postcode": "51147"}, {"street": "", "city": "KOELN"}]}')
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0013")
        for statement in (
            "INSERT INTO api_flights (id, flight_key, number, carrier, departure_airport, arrival_airport,"
            " departure_time, arrival_time, created_at) VALUES (1, 'LH400/FRA/2026-12-07', 'LH400', 'LH', 'JFK',"
            " 'FRA', '', '', '2026-12-06 10:00:00')",
            "INSERT INTO api_manifests (id, flight_id, list_kind, version, current, message_type, message_version,"
            " sender, received_at, received_by, digest, problems, person_count) VALUES (1, 1, 'pnr', 1, true,"
            " 'PNRGOV', '11.1', 'LH', '2026-12-06 10:00:00', 'LH', 'd', '[]', 2)",
            f"INSERT INTO pnr_records (id, manifest_id, locator, carrier, data) VALUES (1, 1, 'QX7Y2Z', 'LH',"
            f" '{address}')",
            f"INSERT INTO pnr_records (id, manifest_id, locator, carrier, data, depersonalised_at) VALUES"
            f" (2, 1, 'AB12CD', 'LH', '{address}', '2026-12-06 11:00:00')",
        ):
            connection.exec_driver_sql(statement)
    database.migrate()
    with database.engine.connect() as connection:
        assert connection.execute(select(m.PnrLink.pnr_id, m.PnrLink.kind, m.PnrLink.value)).all() == [
            (1, "address", "HEIDESTRASSE 17, 51147 KOELN")]
    database.dispose()


def test_rows_stored_before_0018_get_uuid_keys_and_keep_every_reference(empty_database_url):
    """0018 keys the tables border posts write by UUIDs: each old integer key becomes the same UUID at every
    site (a post and headquarters migrate their copies apart), in the old keys' order, and every column and
    intelligence link that named an old key names the new one. The downgrade numbers them back."""
    from alembic import command

    database = Database(empty_database_url)
    config = alembic_config(empty_database_url)
    crossing = ("INSERT INTO crossings (id, crossing_id, station_id, border_point_id, direction, occurred_at,"
                " recorded_at, document_id, traveller_id, decision, reasons, checks, risk_score, risk_rules_fired,"
                " risk_rules_version) VALUES ({id}, 'c-{id}', 7, 3, '{direction}', '2026-11-0{id} 08:00:00',"
                " '2026-11-01 08:00:01', 12, 5, 'OPEN', '[]', '[]', 0.0, '[]', 'v1')")
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0017")
        for statement in (
            "INSERT INTO border_points (id, code, name) VALUES (3, 'FRA-T1', '')",
            "INSERT INTO stations (id, code, border_point_id) VALUES (7, 'G1', 3)",
            "INSERT INTO travellers (id, surname, given_names, name_key, nationality, sex)"
            " VALUES (4, 'DOE', '', 'DOE', 'UTO', 'F'), (5, 'ROE', '', 'ROE', 'UTO', 'M')",
            "INSERT INTO travel_documents (id, number, number_norm, issuing_state, doc_type, traveller_id, site)"
            " VALUES (12, 'X1', 'X1', 'UTO', 'P', 5, '')",
            crossing.format(id=1, direction="ENTRY"), crossing.format(id=2, direction="EXIT"),
            "INSERT INTO referrals (id, referral_id, crossing_id, station_id, status, reasons, opened_at)"
            " VALUES (9, 'r-9', 2, 7, 'ADMITTED', '[]', '2026-11-02 08:01:00')",
            "INSERT INTO officer_decisions (id, referral_id, officer, decision, reason, note, decided_at)"
            " VALUES (1, 9, 'officer-1', 'ADMITTED', '', '', '2026-11-02 08:05:00')",
            "INSERT INTO stays (id, traveller_id, entry_day, exit_day, border_point_id, nationality, regime,"
            " overstay_days, entry_crossing_id, exit_crossing_id) VALUES (1, 5, '2026-11-01', '2026-11-02', 3, 'UTO',"
            " 'VISA_EXEMPT', 0, 1, 2)",
            "INSERT INTO intel_reports (id, reference, source_kind, source_evaluation, assessment, handling_code,"
            " handling_conditions, legacy_grading, classification, unit, shared_with, originator, text,"
            " sanitised_text, review_by, created_at) VALUES (1, 'rep-1', 'HUMAN', 'B', '2', 'P', '', '', 'OFFICIAL',"
            " 'ria', '[]', 'analyst-1', 'seen', '', '2027-01-01', '2026-11-03 09:00:00')",
            "INSERT INTO intel_links (id, report_id, kind, target) VALUES (1, 1, 'person', '5'),"
            " (2, 1, 'document', '12'), (3, 1, 'person', '99'), (4, 1, 'phone', '5')",
        ):
            connection.exec_driver_sql(statement)
    database.migrate()

    def check(session):
        doe, roe = session.scalars(select(m.Traveller).order_by(m.Traveller.id)).all()
        assert (doe.surname, roe.surname) == ("DOE", "ROE")  # new keys in the order of the old ones
        entry, leaving = session.scalars(select(m.Crossing).order_by(m.Crossing.id)).all()
        assert (entry.crossing_id, leaving.crossing_id) == ("c-1", "c-2")
        assert {entry.traveller_id, leaving.traveller_id} == {roe.id}
        assert entry.document.number == "X1" and entry.station.code == "G1" and entry.border_point.code == "FRA-T1"
        referral = session.scalar(select(m.Referral))
        assert referral.crossing_id == leaving.id and [d.officer for d in referral.decisions] == ["officer-1"]
        stay = session.scalar(select(m.StayRecord))
        assert (stay.traveller_id, stay.entry_crossing_id, stay.exit_crossing_id) == (roe.id, entry.id, leaving.id)
        document = session.scalar(select(m.TravelDocument))
        links = session.execute(select(m.IntelLink.kind, m.IntelLink.target).order_by(m.IntelLink.id)).all()
        # A link naming no row, and a link that is not a key, are kept as they were.
        assert links == [("person", str(roe.id)), ("document", str(document.id)), ("person", "99"), ("phone", "5")]
        assert (doe.id, roe.id, entry.id, leaving.id, referral.id, document.id) == tuple(
            from_integer(old) for old in (4, 5, 1, 2, 9, 12))
    database.run(check)
    new = database.run(lambda session: session.scalar(select(m.Crossing.id).where(m.Crossing.crossing_id == "c-2")))
    assert new.version == 8 and from_integer(2 ** 63 - 1) > new and new_key() > from_integer(2 ** 63 - 1)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0017")
        assert connection.exec_driver_sql(
            "SELECT c.crossing_id, t.surname, d.number, p.code, r.referral_id, o.officer FROM crossings c"
            " JOIN travellers t ON t.id = c.traveller_id JOIN travel_documents d ON d.id = c.document_id"
            " JOIN border_points p ON p.id = c.border_point_id JOIN referrals r ON r.crossing_id = c.id"
            " JOIN officer_decisions o ON o.referral_id = r.id").all() == [("c-2", "ROE", "X1", "FRA-T1", "r-9",
                                                                             "officer-1")]
        assert connection.exec_driver_sql("SELECT target FROM intel_links ORDER BY id").scalars().all() == [
            "2", "1", "99", "5"]  # numbered 1, 2, ... in key order again: ROE is the second traveller
    database.dispose()
