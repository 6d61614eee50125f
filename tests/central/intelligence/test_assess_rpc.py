"""AssessRisk over gRPC: gates only, for their own station; profiles and rules in the score."""
from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from central.access.audit import Caller
from central.database.engine import Database
from central.intelligence import targeting
from proto.limes.v1 import central_pb2 as pb
from tests.central.conftest import GATE_METADATA


def request(**overrides) -> pb.AssessRiskRequest:
    fields = dict(crossing_id=str(uuid.uuid4()), station_id="FRA-T1-G03", border_point="FRA-T1",
                  direction=pb.Crossing.ENTRY, surname="COURIER", given_names="A", birth_date="2001-03-03",
                  nationality="DEU", document_type="P", expiry_date="2031-01-01")
    fields.update(overrides)
    return pb.AssessRiskRequest(**fields)


def test_a_gate_gets_the_score_of_the_profiles_that_select_the_traveller(stub, database_url):
    database = Database(database_url)
    database.run(lambda s: targeting.write_profile(s, Caller("web-desk", "ivo"), "young at FRA",
                                                   {"route": ["FRA-T1 ENTRY"], "age_band": [18, 30]}, 0.8, ""))
    database.dispose()
    selected = stub.AssessRisk(request(), metadata=GATE_METADATA)
    assert selected.score == pytest.approx(0.8) and list(selected.fired) == ["profile young at FRA v1"]
    older = stub.AssessRisk(request(birth_date="1950-01-01"), metadata=GATE_METADATA)
    assert older.score == 0.0 and list(older.fired) == []


def test_only_a_gate_asks_and_only_for_itself(stub):
    with pytest.raises(grpc.RpcError) as refused:
        stub.AssessRisk(request(), metadata=(("x-limes-user", "analyst-1"),))
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as other:
        stub.AssessRisk(request(station_id="BER-T1-G01"), metadata=GATE_METADATA)
    assert other.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as bad:
        stub.AssessRisk(request(crossing_id="not-a-uuid"), metadata=GATE_METADATA)
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_the_gates_client_reads_the_score(central, database_url):
    from drivers.mrz import generate_td3, parse
    from edge.gate import GateStation
    from edge.remote import RemoteCentral
    from proto.clients import CentralClient

    database = Database(database_url)
    database.run(lambda s: targeting.write_profile(s, Caller("web-desk", "ivo"), "P at FRA",
                                                   {"route": ["FRA-T1"], "document_type": ["P"]}, 0.9, ""))
    database.dispose()
    mrz = parse(generate_td3(document_number="X4829A17", surname="COURIER", given_names="A",
                                 nationality="DEU", birth_date=dt.date(2001, 3, 3), sex="M",
                                 expiry_date=dt.date(2031, 1, 1), issuing_state="DEU"))
    client = CentralClient(central.address, tls=central.pki.station("FRA-T1-G03"))
    try:
        score, fired = RemoteCentral(client).assess_risk(mrz, str(uuid.uuid4()), GateStation("FRA-T1-G03", "FRA-T1"))
    finally:
        client.close()
    assert (score, fired) == (pytest.approx(0.9), ["profile P at FRA v1"])
