"""AssessRisk over gRPC: gates only, for their own station; profiles and rules in the score."""
from __future__ import annotations

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
