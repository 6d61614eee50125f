"""RecordCrossing: storage, idempotency (also under concurrent retries), malformed requests."""
from __future__ import annotations

import threading
import uuid

import grpc
import pytest
from sqlalchemy import create_engine, func, select

from central.database import models as m
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request


def count(database_url: str, model) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model))
    finally:
        engine.dispose()


def test_a_crossing_is_stored_once_and_a_retry_returns_it(stub, database_url):
    request = crossing_request()
    first = stub.RecordCrossing(request, metadata=GATE_METADATA)
    again = stub.RecordCrossing(request, metadata=GATE_METADATA)
    assert (first.crossing_id, first.already_recorded) == (request.crossing_id, False)
    assert (again.crossing_id, again.already_recorded) == (request.crossing_id, True)
    assert (again.risk_score, list(again.risk_rules_fired)) == (first.risk_score, list(first.risk_rules_fired))
    assert count(database_url, m.Crossing) == 1


def test_eight_concurrent_retries_make_one_row(stub, database_url):
    request = crossing_request()
    barrier = threading.Barrier(8)
    results: list[pb.RecordCrossingResponse] = []
    errors: list[Exception] = []

    def send() -> None:
        barrier.wait()
        try:
            results.append(stub.RecordCrossing(request, metadata=GATE_METADATA, timeout=30))
        except Exception as exc:  # collected: an assert in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(r.already_recorded for r in results) == [False] + [True] * 7
    assert {r.crossing_id for r in results} == {request.crossing_id}
    assert count(database_url, m.Crossing) == 1
    assert count(database_url, m.TravelDocument) == count(database_url, m.Traveller) == 1


def test_a_retry_with_a_new_timestamp_is_still_a_retry(stub, database_url):
    request = crossing_request()
    stub.RecordCrossing(request)
    retry = crossing_request(request.crossing_id, occurred_at="2026-11-25T07:00:02Z")
    assert stub.RecordCrossing(retry).already_recorded
    history = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(document=request.document))
    assert [c.occurred_at for c in history.crossings] == ["2026-11-25T07:00:00Z"]  # the first record stands


@pytest.mark.parametrize("overrides", [
    {"document": pb.TravelDocument(number="X1234567", issuing_state="DEU")},
    {"station_id": "FRA-T1-G04"},
    {"direction": pb.Crossing.EXIT},
])
def test_the_same_id_for_another_crossing_is_refused(stub, database_url, overrides):
    request = crossing_request()
    stub.RecordCrossing(request)
    with pytest.raises(grpc.RpcError) as error:
        stub.RecordCrossing(crossing_request(request.crossing_id, **overrides))
    assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert count(database_url, m.Crossing) == 1


def test_crossings_of_one_document_share_traveller_and_document(stub, database_url):
    stub.RecordCrossing(crossing_request())
    stub.RecordCrossing(crossing_request(direction=pb.Crossing.EXIT, occurred_at="2026-11-26T07:00:00+01:00"))
    assert count(database_url, m.Crossing) == 2
    assert count(database_url, m.TravelDocument) == count(database_url, m.Traveller) == 1
    assert count(database_url, m.Station) == count(database_url, m.BorderPoint) == 1


def test_a_station_stays_at_its_border_point(stub):
    stub.RecordCrossing(crossing_request())
    with pytest.raises(grpc.RpcError) as error:
        stub.RecordCrossing(crossing_request(border_point="MUC-T2"))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize("overrides, field", [
    ({"crossing_id": ""}, "crossing_id"),
    ({"crossing_id": "retry-1"}, "crossing_id"),
    ({"station_id": " "}, "station_id"),
    ({"border_point": ""}, "border_point"),
    ({"direction": pb.Crossing.DIRECTION_UNSPECIFIED}, "direction"),
    ({"direction": 7}, "direction"),
    ({"decision": 9}, "decision"),
    ({"occurred_at": ""}, "occurred_at"),
    ({"occurred_at": "yesterday"}, "occurred_at"),
    ({"occurred_at": "2026-11-25T07:00:00"}, "occurred_at"),  # no offset: ambiguous
    ({"document": pb.TravelDocument(number="", issuing_state="DEU")}, "document.number"),
    ({"document": pb.TravelDocument(number="C01X00T47", issuing_state="")}, "document.issuing_state"),
    ({"document": pb.TravelDocument(number="C01X00T47", issuing_state="D", expiry_date="2031-02-30")},
     "document.expiry_date"),
    ({"traveller": pb.Traveller(surname="")}, "traveller.surname"),
    ({"traveller": pb.Traveller(surname="X", birth_date="12.08.1964")}, "traveller.birth_date"),
    ({"traveller": pb.Traveller(surname="X", sex="Q")}, "traveller.sex"),
    ({"face_score": 1.5}, "face_score"),
    ({"station_id": "G" * 65}, "station_id"),
    ({"document": pb.TravelDocument(number="9" * 41, issuing_state="DEU")}, "document.number"),
    ({"document": pb.TravelDocument(number="C01X00T47", issuing_state="GERMANY")}, "document.issuing_state"),
    ({"traveller": pb.Traveller(surname="X", nationality="D1")}, "traveller.nationality"),
    ({"traveller": pb.Traveller(surname="X" * 201)}, "traveller.surname"),
])
def test_malformed_requests_are_invalid_and_store_nothing(stub, database_url, overrides, field):
    with pytest.raises(grpc.RpcError) as error:
        stub.RecordCrossing(crossing_request(**overrides))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith(field)
    for model in (m.Crossing, m.Traveller, m.TravelDocument, m.Station, m.BorderPoint, m.AuditEntry):
        assert count(database_url, model) == 0, model.__tablename__


def test_unknown_check_status_is_invalid(stub, database_url):
    request = crossing_request()
    request.checks[0].status = 17
    with pytest.raises(grpc.RpcError) as error:
        stub.RecordCrossing(request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "checks[0].status" in error.value.details()
    assert count(database_url, m.Crossing) == 0


def test_a_failure_inside_the_transaction_leaves_nothing(stub, database_url):
    # The station exists at FRA-T1; the crossing's new document and traveller are created
    # before the station check fails: all of it must roll back.
    stub.RecordCrossing(crossing_request())
    other = crossing_request(border_point="MUC-T2",
                             document=pb.TravelDocument(number="X9", issuing_state="FRA"),
                             traveller=pb.Traveller(surname="DUPONT"))
    with pytest.raises(grpc.RpcError):
        stub.RecordCrossing(other)
    assert count(database_url, m.TravelDocument) == count(database_url, m.Traveller) == 1
    assert count(database_url, m.BorderPoint) == 1


def test_face_score_absent_stays_absent(stub):
    request = crossing_request()
    request.ClearField("face_score")
    stub.RecordCrossing(request)
    history = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(document=request.document))
    assert not history.crossings[0].HasField("face_score")
    assert uuid.UUID(history.crossings[0].crossing_id)
