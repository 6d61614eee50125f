"""Notices on person alerts, lost/stolen categories on document alerts, and alerts written in
Cyrillic, Greek or Arabic script found by the MRZ's Latin form (over gRPC, and through the gate's
client, which decides from the notice whether a hit refers)."""
from __future__ import annotations

import datetime as dt

import grpc
import pytest

from central.access.audit import Caller
from central.alerts.lists import search_alerts
from central.database.engine import Database
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import notices_pb2 as notices

from .test_persons import add, check


@pytest.mark.parametrize("surname, given_names, mrz_surname, mrz_given", [
    ("Гагарин", "Юрий Алексеевич", "GAGARIN", "IURII ALEKSEEVICH"),
    ("Шевченко", "Тарас", "SHEVCHENKO", "TARAS"),
    ("Παπαδόπουλος", "Ευάγγελος", "PAPADOPOULOS", "EVANGELOS"),
    ("Müller", "Jürgen", "MUELLER", "JUERGEN"),
    ("محمد", "عبد الله", "MXHMD", "EBD ALLH"),  # as an issuer following Doc 9303's Arabic table writes them
])
def test_an_alert_in_national_script_hits_the_mrz_name(stub, surname, given_names, mrz_surname, mrz_given):
    alert = add(stub, surname, given_names)
    [hit] = check(stub, mrz_surname, mrz_given).hits
    assert hit.alert_id == alert.alert_id and hit.score == 1.0
    assert hit.surname == surname  # the officer reads the alert as written


def test_an_mrz_name_in_the_alert_is_hit_by_a_check_typed_in_cyrillic(stub):
    alert = add(stub, "GAGARIN", "IURII")
    [hit] = check(stub, "Гагарин", "Юрий").hits
    assert hit.alert_id == alert.alert_id


def test_different_cyrillic_names_do_not_hit(stub):
    add(stub, "Гагарин", "Юрий")
    assert list(check(stub, "TITOV", "GHERMAN").hits) == []


def test_a_search_typed_in_either_script_finds_the_alert(stub, database_url):
    cyrillic = add(stub, "Гагарин", "Юрий")
    latin = add(stub, "PAPADOPOULOS", "GEORGIOS")
    database = Database(database_url)
    try:
        for typed, expected in (("GAGARIN", cyrillic), ("гагарин юрий", cyrillic), ("Παπαδόπουλος", latin),
                                ("papadopoulos georgios", latin)):
            _, persons = database.run(lambda s, t=typed: search_alerts(s, Caller("web-desk", "ivo"), t,
                                                                       dt.date(2026, 12, 6)))
            assert [p.alert_id for p in persons] == [expected.alert_id], typed
    finally:
        database.dispose()


def test_a_notice_is_stored_returned_and_on_the_hit(stub):
    alert = add(stub, "Doe", "John", notice=notices.NOTICE_RED, notice_kind=notices.NOTICE_KIND_DIFFUSION)
    assert (alert.notice, alert.notice_kind) == (notices.NOTICE_RED, notices.NOTICE_KIND_DIFFUSION)
    [hit] = check(stub, "DOE", "JOHN").hits
    assert (hit.notice, hit.notice_kind) == (notices.NOTICE_RED, notices.NOTICE_KIND_DIFFUSION)


def test_a_notice_without_kind_is_a_notice_and_none_is_none(stub):
    assert add(stub, "Doe", "Jane", notice=notices.NOTICE_GREEN).notice_kind == notices.NOTICE_KIND_NOTICE
    plain = add(stub, "Roe", "Richard")
    assert (plain.notice, plain.notice_kind) == (0, 0)


def test_a_kind_without_a_notice_is_refused(stub):
    with pytest.raises(grpc.RpcError) as caught:
        add(stub, "Doe", "John", notice_kind=notices.NOTICE_KIND_DIFFUSION)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "notice_kind" in caught.value.details()


def document(stub, number: str, reason, **fields) -> pb.DocumentAlert:
    return stub.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number=number, document_type="P",
                                                            issuing_state="DEU", reason=reason, **fields))


def test_document_categories_follow_the_lost_stolen_convention(stub):
    blank = document(stub, "C01X00T47", pb.DocumentAlert.STOLEN, category=notices.CATEGORY_STOLEN_BLANK)
    assert blank.category == notices.CATEGORY_STOLEN_BLANK
    assert document(stub, "C01X00T48", pb.DocumentAlert.LOST).category == notices.CATEGORY_LOST
    assert document(stub, "C01X00T49", pb.DocumentAlert.STOLEN).category == 0  # blank or issued: not said
    [hit] = stub.CheckDocument(pb.CheckDocumentRequest(document_number="C01X00T47", document_type="P",
                                                       issuing_state="DEU")).hits
    assert hit.category == notices.CATEGORY_STOLEN_BLANK


def test_a_category_must_agree_with_the_reason(stub):
    with pytest.raises(grpc.RpcError) as caught:
        document(stub, "C01X00T50", pb.DocumentAlert.LOST, category=notices.CATEGORY_STOLEN_ISSUED)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "STOLEN_ISSUED is not a document listed as LOST" in caught.value.details()


def test_unknown_enum_numbers_are_refused(stub):
    with pytest.raises(grpc.RpcError) as caught:
        add(stub, "Doe", "John", notice=99)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "notice" in caught.value.details()


def _gate_lines(central, surname: str, given_names: str):
    from drivers.mrz import generate_td3, parse
    from edge.remote import RemoteCentral
    from proto.clients import CentralClient

    mrz = parse(generate_td3(document_number="X4829A17", surname=surname, given_names=given_names,
                             nationality="DEU", birth_date=dt.date(1980, 3, 4), sex="M",
                             expiry_date=dt.date(2031, 1, 1), issuing_state="DEU"))
    client = CentralClient(central.address, tls=central.pki.station("FRA-T1-G03"))
    try:
        return RemoteCentral(client).check_person(mrz)
    finally:
        client.close()


def test_the_gate_refers_on_red_and_is_informed_by_green_on_a_discreet_check(central, stub):
    stub.AddPersonAlert(pb.AddPersonAlertRequest(surname="Гагарин", given_names="Юрий", birth_date="1980-03-04",
                                                 nationality="DEU", reason=pb.PersonAlert.DISCREET_CHECK,
                                                 notice=notices.NOTICE_GREEN))
    stub.AddPersonAlert(pb.AddPersonAlertRequest(surname="Титов", given_names="Герман", birth_date="1980-03-04",
                                                 nationality="DEU", reason=pb.PersonAlert.ARREST,
                                                 notice=notices.NOTICE_RED))
    [green] = _gate_lines(central, "GAGARIN", "IURII")
    assert not green.refers and "discreet_check, green notice (score 1.00" in green.text
    [red] = _gate_lines(central, "TITOV", "GERMAN")
    assert red.refers and red.text.startswith("arrest, red notice")


def test_person_alerts_stored_before_0012_get_their_mrz_names(empty_database_url):
    from alembic import command
    from sqlalchemy import select

    from central.database import models as m
    from central.database.engine import alembic_config

    database = Database(empty_database_url)
    config = alembic_config(empty_database_url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
        connection.exec_driver_sql(
            "INSERT INTO person_alerts (alert_id, surname, given_names, nationality, reason, handling_instruction,"
            " issuing_agency, matcher_subject_id, version, withdrawn, created_at) VALUES ('old-1', 'Гагарин',"
            " 'Юрий', '', 'ARREST', '', '', '', 1, false, '2026-11-01 08:00:00')")
    database.migrate()
    try:
        alert = database.run(lambda s: s.scalar(select(m.PersonAlert)))
        assert (alert.name_mrz, alert.notice, alert.notice_kind) == ("GAGARIN IURII", None, None)
    finally:
        database.dispose()


def test_the_gates_document_line_names_a_stolen_blank_and_refers(central, stub):
    from drivers.mrz import generate_td3, parse
    from edge.remote import RemoteCentral
    from proto.clients import CentralClient

    document(stub, "X4829A17", pb.DocumentAlert.STOLEN, category=notices.CATEGORY_STOLEN_BLANK,
             handling_instruction="Seize")
    document(stub, "X4829A18", pb.DocumentAlert.LOST)
    client = CentralClient(central.address, tls=central.pki.station("FRA-T1-G03"))
    try:
        lines = [RemoteCentral(client).check_document(parse(generate_td3(
            document_number=number, surname="ROE", given_names="A", nationality="DEU",
            birth_date=dt.date(1980, 3, 4), sex="M", expiry_date=dt.date(2031, 1, 1), issuing_state="DEU")))
            for number in ("X4829A17", "X4829A18")]
    finally:
        client.close()
    assert lines[0] == [lines[0][0]] and lines[0][0].startswith("stolen (stolen blank, exact, alert ")
    assert lines[0][0].endswith(": Seize")
    assert lines[1][0].startswith("lost (exact, alert ")  # the category repeats the reason: said once
