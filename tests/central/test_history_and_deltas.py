"""GetTravellerHistory by document and by person; AlertDelta versions for the gates' caches."""
from __future__ import annotations

import uuid

import grpc
import pytest

from proto.limes.v1 import central_pb2 as pb

from .conftest import crossing_request


def test_history_by_document_newest_first_with_referrals(stub):
    first = crossing_request(occurred_at="2026-11-01T08:00:00Z")
    second = crossing_request(occurred_at="2026-11-20T08:00:00Z", direction=pb.Crossing.EXIT,
                              decision=pb.Crossing.REFER)
    for request in (first, second):
        stub.RecordCrossing(request)
    stub.OpenReferral(pb.OpenReferralRequest(referral_id=str(uuid.uuid4()), crossing_id=second.crossing_id,
                                             station_id=second.station_id, reasons=["manual check"]))
    history = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(
        document=pb.TravelDocument(number="C01X00T47<", issuing_state="D")))
    assert [c.crossing_id for c in history.crossings] == [second.crossing_id, first.crossing_id]
    assert history.crossings[0].direction == pb.Crossing.EXIT
    assert history.crossings[1].occurred_at == "2026-11-01T08:00:00Z"
    assert [r.crossing_id for r in history.referrals] == [second.crossing_id]
    assert history.referrals[0].station_id == second.station_id == "FRA-T1-G03"


def test_history_by_person_follows_a_renewed_passport(stub):
    stub.RecordCrossing(crossing_request(occurred_at="2026-01-01T08:00:00Z"))
    renewed = crossing_request(document=pb.TravelDocument(number="C22222222", type="P", issuing_state="DEU"))
    stub.RecordCrossing(renewed)
    history = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(
        traveller=pb.Traveller(surname="Mustermann", given_names="Erika", birth_date="1964-08-12")))
    assert [c.document.number for c in history.crossings] == ["C22222222", "C01X00T47"]


def test_history_limit_and_unknown_subjects(stub):
    for day in range(1, 4):
        stub.RecordCrossing(crossing_request(occurred_at=f"2026-11-0{day}T08:00:00Z"))
    limited = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(
        document=pb.TravelDocument(number="C01X00T47", issuing_state="DEU"), limit=2))
    assert [c.occurred_at[:10] for c in limited.crossings] == ["2026-11-03", "2026-11-02"]
    nobody = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(
        traveller=pb.Traveller(surname="NOBODY", birth_date="2000-01-01")))
    assert list(nobody.crossings) == [] and list(nobody.referrals) == []


@pytest.mark.parametrize("request_, field", [
    (pb.GetTravellerHistoryRequest(), "subject"),
    (pb.GetTravellerHistoryRequest(document=pb.TravelDocument(number="X1")), "document.issuing_state"),
    (pb.GetTravellerHistoryRequest(traveller=pb.Traveller(surname="X")), "traveller.birth_date"),
    (pb.GetTravellerHistoryRequest(traveller=pb.Traveller(surname="X", birth_date="2000-01-01"), limit=-1),
     "limit"),
])
def test_malformed_history_requests(stub, request_, field):
    with pytest.raises(grpc.RpcError) as error:
        stub.GetTravellerHistory(request_)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith(field)


def document_alert(stub, number: str, **fields) -> pb.DocumentAlert:
    return stub.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number=number, issuing_state="DEU",
                                                            reason=pb.DocumentAlert.LOST, **fields))


def person_alert(stub, surname: str) -> pb.PersonAlert:
    return stub.AddPersonAlert(pb.AddPersonAlertRequest(surname=surname, birth_date="1970-01-01",
                                                        reason=pb.PersonAlert.DISCREET_CHECK))


def test_alert_delta_is_versioned_and_incremental(stub):
    assert stub.AlertDelta(pb.AlertDeltaRequest()).current_version == 0
    a = document_alert(stub, "A1")
    b = person_alert(stub, "ROE")
    full = stub.AlertDelta(pb.AlertDeltaRequest(since_version=0))
    assert full.current_version == 2
    assert [x.alert_id for x in full.document_alerts] == [a.alert_id]
    assert [x.alert_id for x in full.person_alerts] == [b.alert_id]

    c = document_alert(stub, "C3")
    stub.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=a.alert_id, reason="found"))
    delta = stub.AlertDelta(pb.AlertDeltaRequest(since_version=full.current_version))
    assert delta.current_version == 4
    assert [(x.alert_id, x.withdrawn, x.version) for x in delta.document_alerts] == [
        (c.alert_id, False, 3), (a.alert_id, True, 4)]
    assert list(delta.person_alerts) == []
    assert stub.AlertDelta(pb.AlertDeltaRequest(since_version=4)) == pb.AlertDeltaResponse(current_version=4)


def test_alert_delta_pages_through_mixed_alerts_in_version_order(stub):
    added = []
    for i in range(7):
        added.append(document_alert(stub, f"D{i}").alert_id if i % 2 else person_alert(stub, f"P{i}").alert_id)
    seen, since, pages = [], 0, 0
    while True:
        delta = stub.AlertDelta(pb.AlertDeltaRequest(since_version=since, limit=3))
        page = sorted([*delta.document_alerts, *delta.person_alerts], key=lambda a: a.version)
        seen += [a.alert_id for a in page]
        since, pages = delta.current_version, pages + 1
        if not delta.more:
            break
        assert len(page) == 3 and since == page[-1].version
    assert (seen, since, pages) == (added, 7, 3)


@pytest.mark.parametrize("limit", [-1, 10001])
def test_delta_limit_out_of_range_is_invalid(stub, limit):
    with pytest.raises(grpc.RpcError) as error:
        stub.AlertDelta(pb.AlertDeltaRequest(limit=limit))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith("limit")


def test_adding_an_alert_twice_with_its_id_is_one_alert(stub):
    alert_id = str(uuid.uuid4())
    first = document_alert(stub, "A1", alert_id=alert_id)
    assert document_alert(stub, "A1", alert_id=alert_id) == first
    assert stub.AlertDelta(pb.AlertDeltaRequest()).current_version == 1


def test_withdrawing_twice_keeps_the_version_and_unknown_is_not_found(stub):
    alert = person_alert(stub, "ROE")
    once = stub.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=alert.alert_id))
    twice = stub.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=alert.alert_id))
    assert once.version == twice.version == 2
    with pytest.raises(grpc.RpcError) as error:
        stub.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=str(uuid.uuid4())))
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_negative_since_version_is_invalid(stub):
    with pytest.raises(grpc.RpcError) as error:
        stub.AlertDelta(pb.AlertDeltaRequest(since_version=-1))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
