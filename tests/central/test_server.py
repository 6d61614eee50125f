"""The server's standard services: health SERVING and reflection listing limes.v1.Central."""
from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc


def test_health_is_serving_overall_and_for_central(server):
    health = health_pb2_grpc.HealthStub(server)
    for service in ("", "limes.v1.Central"):
        response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_central(server):
    reflection = reflection_pb2_grpc.ServerReflectionStub(server)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    [response] = list(reflection.ServerReflectionInfo(iter([request]), timeout=5))
    names = {s.name for s in response.list_services_response.service}
    assert {"limes.v1.Central", "grpc.health.v1.Health"} <= names


def test_reflection_serves_the_central_descriptor(server):
    reflection = reflection_pb2_grpc.ServerReflectionStub(server)
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="limes.v1.Central")
    [response] = list(reflection.ServerReflectionInfo(iter([request]), timeout=5))
    assert response.file_descriptor_response.file_descriptor_proto


def test_calls_and_hits_are_counted(stub):
    from prometheus_client import REGISTRY

    from proto.limes.v1 import central_pb2 as pb

    def sample(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (sample("limes_central_calls_total", method="CheckDocument", code="OK"),
              sample("limes_central_calls_total", method="CheckDocument", code="INVALID_ARGUMENT"),
              sample("limes_central_alert_hits_total", kind="document", match="ocr_variant"),
              sample("limes_central_call_seconds_count", method="CheckDocument"))
    stub.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number="AB0123", reason=pb.DocumentAlert.LOST))
    stub.CheckDocument(pb.CheckDocumentRequest(document_number="A80I23"))
    with pytest.raises(grpc.RpcError):
        stub.CheckDocument(pb.CheckDocumentRequest(document_number=""))
    after = (sample("limes_central_calls_total", method="CheckDocument", code="OK"),
             sample("limes_central_calls_total", method="CheckDocument", code="INVALID_ARGUMENT"),
             sample("limes_central_alert_hits_total", kind="document", match="ocr_variant"),
             sample("limes_central_call_seconds_count", method="CheckDocument"))
    assert [a - b for a, b in zip(after, before)] == [1, 1, 1, 2]
