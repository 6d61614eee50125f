"""gRPC clients for the Limes services, with a deadline on every call.

Thin on purpose: they speak protobuf messages, and the caller (the edge, the
demo, tests) maps its own domain objects onto them. A call that fails raises
grpc.RpcError; callers decide what a failure means (the gate refers).

Every client talks mutual TLS (`tls`: the CA, the client's certificate and key,
see proto.tls) unless `plaintext=True` is given; giving neither is a TlsError.
"""
from __future__ import annotations

from typing import Sequence

from proto.limes.v1 import (
    central_pb2,
    central_pb2_grpc,
    common_pb2,
    desk_pb2,
    desk_pb2_grpc,
    fingerprints_pb2,
    fingerprints_pb2_grpc,
    matcher_pb2,
    matcher_pb2_grpc,
)
from proto.tls import TlsFiles, open_channel

DEFAULT_TIMEOUT_S = 2.0


def face_template(vector: Sequence[float], model: str, model_version: str) -> common_pb2.FaceTemplate:
    return common_pb2.FaceTemplate(vector=[float(v) for v in vector], model=model, model_version=model_version)


class MatcherClient:
    def __init__(self, address: str, *, tls: TlsFiles | None = None, plaintext: bool = False,
                 timeout: float = DEFAULT_TIMEOUT_S):
        self.address = address
        self.timeout = timeout
        self._channel = open_channel(address, tls, plaintext=plaintext)
        self.stub = matcher_pb2_grpc.MatcherStub(self._channel)

    def create_gallery(self, gallery: str, *, model: str, model_version: str, dimension: int,
                       threshold: float, index_factory: str = "") -> matcher_pb2.GalleryStatsResponse:
        return self.stub.CreateGallery(matcher_pb2.CreateGalleryRequest(
            gallery=gallery, model=model, model_version=model_version, dimension=dimension,
            threshold=threshold, index_factory=index_factory), timeout=self.timeout)

    def enrol(self, gallery: str, subject_id: str, template: common_pb2.FaceTemplate) -> matcher_pb2.EnrolResponse:
        return self.stub.Enrol(matcher_pb2.EnrolRequest(gallery=gallery, subject_id=subject_id, template=template),
                               timeout=self.timeout)

    def search(self, gallery: str, template: common_pb2.FaceTemplate, *, top_k: int = 5,
               threshold: float = 0.0) -> matcher_pb2.SearchResponse:
        return self.stub.Search(matcher_pb2.SearchRequest(gallery=gallery, template=template, top_k=top_k,
                                                          threshold=threshold), timeout=self.timeout)

    def close(self) -> None:
        self._channel.close()


class CentralClient:
    def __init__(self, address: str, *, tls: TlsFiles | None = None, plaintext: bool = False,
                 timeout: float = DEFAULT_TIMEOUT_S, metadata: Sequence[tuple[str, str]] = ()):
        self.address = address
        self.timeout = timeout
        # x-limes-station / x-limes-user: the identity in plaintext; under TLS the certificate is,
        # and metadata may only repeat it.
        self.metadata = tuple(metadata)
        self._channel = open_channel(address, tls, plaintext=plaintext)
        self.stub = central_pb2_grpc.CentralStub(self._channel)
        # The officer desk's service (limes.v1.Desk), served by central on the same port.
        self.desk_stub = desk_pb2_grpc.DeskStub(self._channel)
        # Traveller files' fingerprints (limes.v1.TravellerFingerprints), on the same port too.
        self.fingerprints_stub = fingerprints_pb2_grpc.TravellerFingerprintsStub(self._channel)

    def call(self, method: str, request, timeout: float | None = None):
        """Call any Central, Desk or TravellerFingerprints RPC by name with this client's identity and
        deadline (or `timeout`)."""
        stub = next((s for s in (self.stub, self.desk_stub) if hasattr(s, method)), self.fingerprints_stub)
        return getattr(stub, method)(request, timeout=timeout or self.timeout, metadata=self.metadata)

    def close(self) -> None:
        self._channel.close()


__all__ = ["CentralClient", "MatcherClient", "TlsFiles", "central_pb2", "common_pb2", "desk_pb2", "face_template",
           "fingerprints_pb2",
           "matcher_pb2", "open_channel"]
