"""Every gRPC read of personal data leaves an audit row naming caller, action, subject and purpose."""
from __future__ import annotations

import grpc
import pytest
from sqlalchemy import create_engine, select

from central.database import models as m
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc

from .conftest import GATE_METADATA, crossing_request


def audit_rows(database_url: str) -> list[m.AuditEntry]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(m.AuditEntry).order_by(m.AuditEntry.id)).all())
    finally:
        engine.dispose()


def test_reads_and_writes_are_audited_with_the_caller(stub, database_url):
    stub.CheckDocument(pb.CheckDocumentRequest(document_number="C01X00T47", issuing_state="DEU"),
                       metadata=GATE_METADATA)
    stub.CheckPerson(pb.CheckPersonRequest(surname="MUSTERMANN", given_names="ERIKA", birth_date="1964-08-12"),
                     metadata=(*GATE_METADATA, ("x-limes-purpose", "entry check")))
    request = crossing_request()
    stub.RecordCrossing(request, metadata=GATE_METADATA)
    stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(document=request.document),
                             metadata=(("x-limes-user", "officer-17"),))
    rows = audit_rows(database_url)
    assert [r.action for r in rows] == ["CheckDocument", "CheckPerson", "RecordCrossing", "GetTravellerHistory"]
    assert rows[0].station == "FRA-T1-G03" and rows[0].user_name == ""
    assert rows[0].subject == "document DEU C01X00T47" and rows[0].outcome == "0 hit(s)"
    assert rows[1].purpose == "entry check"
    assert rows[1].subject == "person MUSTERMANN, ERIKA 1964-08-12"
    assert (rows[3].user_name, rows[3].outcome) == ("officer-17", "1 crossing(s)")
    assert all(r.at is not None and r.purpose for r in rows)


def test_an_anonymous_caller_is_refused_and_audited_as_such(database_url):
    from central.rpc.server import serve

    from .conftest import TEST_ACCESS

    # Only plaintext knows callers that name nobody; under TLS every caller has a certificate.
    server, port = serve("127.0.0.1:0", database_url, plaintext=True, access=TEST_ACCESS)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            anonymous = central_pb2_grpc.CentralStub(channel)  # no metadata at all
            with pytest.raises(grpc.RpcError) as refused:
                anonymous.CheckDocument(pb.CheckDocumentRequest(document_number="X1"))
    finally:
        server.stop(None)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    [row] = audit_rows(database_url)
    assert (row.station, row.user_name, row.action) == ("", "", "CheckDocument")
    assert row.outcome.startswith("PERMISSION_DENIED")
