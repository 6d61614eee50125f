"""ImportPassengerMessage: a carrier's PAXLST or PNRGOV over gRPC, the actor from the client certificate."""
from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from central.database import models as m
from central.database.engine import Database
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA

CORPUS = Path(__file__).parent / "api_messages"


def test_a_message_is_stored_and_screened_with_its_problems(stub, database_url):
    stub.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number="L898902C3", issuing_state="USA",
                                                     reason=pb.DocumentAlert.STOLEN))
    answer = stub.ImportPassengerMessage(pb.ImportPassengerMessageRequest(
        message=(CORPUS / "paxlst_vendor_variant.edi").read_bytes()))
    assert answer.message_type == "PAXLST"
    [stored] = answer.lists
    assert (stored.list_kind, stored.version, stored.persons, stored.replaced_version) == ("passengers", 1, 3, 0)
    assert [(p.segment, p.tag) for p in answer.problems] == [(8, "DTM"), (18, "XYZ")]
    answer = stub.ImportPassengerMessage(pb.ImportPassengerMessageRequest(
        message=(CORPUS / "pnrgov_11_1.edi").read_bytes()))
    assert answer.lists[0].hits == 1 and answer.lists[0].list_kind == "pnr"
    database = Database(database_url)
    received_by = database.run(lambda s: list(s.scalars(select(m.ApiManifest.received_by))))
    database.dispose()
    assert received_by == ["tester", "tester"]  # the certificate's user, not the message's sender


def test_nothing_usable_is_invalid_argument_and_a_gate_may_not_import(stub):
    with pytest.raises(grpc.RpcError) as bad:
        stub.ImportPassengerMessage(pb.ImportPassengerMessageRequest(message=b"UNB+UNOA:4+X+Y'UNH+1+INVOIC'"))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.value.details() == "message: not a PAXLST or PNRGOV message (INVOIC)"
    with pytest.raises(grpc.RpcError) as refused:
        stub.ImportPassengerMessage(pb.ImportPassengerMessageRequest(
            message=(CORPUS / "pnrgov_13_1.edi").read_bytes()), metadata=GATE_METADATA)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
