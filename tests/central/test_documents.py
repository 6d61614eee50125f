"""CheckDocument: exact and OCR-variant hits, misses, validity and state filters."""
from __future__ import annotations

import grpc
import pytest

from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA


def add_alert(stub, number: str, **fields) -> pb.DocumentAlert:
    request = pb.AddDocumentAlertRequest(document_number=number, document_type="P", issuing_state="DEU",
                                         reason=pb.DocumentAlert.STOLEN, handling_instruction="Seize the document",
                                         issuing_agency="BKA")
    for name, value in fields.items():
        setattr(request, name, value)
    return stub.AddDocumentAlert(request)


def check(stub, number: str, state: str = "DEU", doc_type: str = "P") -> list[pb.DocumentHit]:
    response = stub.CheckDocument(pb.CheckDocumentRequest(document_number=number, document_type=doc_type,
                                                          issuing_state=state), metadata=GATE_METADATA)
    return list(response.hits)


def test_exact_hit_carries_the_alert(stub):
    alert = add_alert(stub, "C01X00T47")
    [hit] = check(stub, "C01X00T47")
    assert (hit.alert_id, hit.match, hit.reason) == (alert.alert_id, "exact", pb.DocumentAlert.STOLEN)
    assert (hit.handling_instruction, hit.issuing_agency, hit.document_number) == ("Seize the document", "BKA",
                                                                                  "C01X00T47")


def test_mrz_fillers_spaces_and_state_aliases_still_match_exactly(stub):
    add_alert(stub, "C01X 00T47")
    [hit] = check(stub, "c01x00t47<", state="D<<")
    assert hit.match == "exact"


@pytest.mark.parametrize("misread", ["CO1XOOT47", "C0IX00T47", "C01XO0T47"])
def test_ocr_confusions_hit_as_variants(stub, misread):
    add_alert(stub, "C01X00T47")
    assert [h.match for h in check(stub, misread)] == ["ocr_variant"]


@pytest.mark.parametrize("stored, misread", [("01582", "OISBZ"), ("OISBZ", "01582")])
def test_each_confusion_pair_is_folded_both_ways(stub, stored, misread):
    add_alert(stub, stored)
    assert [h.match for h in check(stub, misread)] == ["ocr_variant"]


def test_misses(stub):
    add_alert(stub, "C01X00T47")
    assert check(stub, "C01X00T48") == []  # another check digit: another document
    assert check(stub, "C01X00T4") == []  # shorter
    assert check(stub, "C01X00T47", state="FRA") == []  # same number, other issuing state
    assert check(stub, "C01X00T47", doc_type="ID") == []  # same number, an ID card, not a passport


def test_exact_hits_come_before_variants(stub):
    add_alert(stub, "AB0123")
    add_alert(stub, "A80123", reason=pb.DocumentAlert.LOST)
    hits = check(stub, "AB0123")
    assert [(h.match, h.reason) for h in hits] == [("exact", pb.DocumentAlert.STOLEN),
                                                   ("ocr_variant", pb.DocumentAlert.LOST)]


def test_alerts_outside_their_validity_or_withdrawn_do_not_hit(stub):
    add_alert(stub, "EXPIRED1", valid_to="2020-01-01")
    add_alert(stub, "FUTURE1", valid_from="2999-01-01")
    withdrawn = add_alert(stub, "WITHDRAWN1")
    stub.WithdrawAlert(pb.WithdrawAlertRequest(alert_id=withdrawn.alert_id, reason="found again"))
    assert check(stub, "EXPIRED1") == check(stub, "FUTURE1") == check(stub, "WITHDRAWN1") == []


def test_alert_without_state_or_type_matches_any(stub):
    add_alert(stub, "L898902C3", issuing_state="", document_type="")
    assert len(check(stub, "L898902C3", state="UTO", doc_type="P")) == 1


@pytest.mark.parametrize("request_fields, field", [
    ({"document_number": ""}, "document_number"),
    ({"document_number": "<<< --"}, "document_number"),
])
def test_empty_number_is_invalid(stub, request_fields, field):
    with pytest.raises(grpc.RpcError) as error:
        stub.CheckDocument(pb.CheckDocumentRequest(**request_fields))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in error.value.details()


@pytest.mark.parametrize("fields, field", [
    ({"reason": pb.DocumentAlert.REASON_UNSPECIFIED}, "reason"),
    ({"reason": 42}, "reason"),
    ({"valid_from": "2026-13-01"}, "valid_from"),
    ({"valid_from": "2026-02-01", "valid_to": "2026-01-01"}, "valid_to"),
    ({"alert_id": "not-a-uuid"}, "alert_id"),
])
def test_bad_alerts_are_refused(stub, fields, field):
    with pytest.raises(grpc.RpcError) as error:
        add_alert(stub, "X1234567", **fields)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in error.value.details()
    assert stub.AlertDelta(pb.AlertDeltaRequest()).current_version == 0
