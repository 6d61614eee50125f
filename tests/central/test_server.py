"""The server's standard services: health SERVING and reflection listing limes.v1.Central."""
from __future__ import annotations

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
