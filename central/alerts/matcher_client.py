"""FaceMatcher and FaceEnroller over gRPC: searches (and enrols into) the alert gallery of a limes.v1.Matcher."""
from __future__ import annotations

import grpc

from central.alerts.face_matcher import FaceCandidate, FaceQuery
from central.errors import Unavailable
from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles, open_channel


class GrpcFaceMatcher:
    """`tls`: central's own CA, certificate and key (the matcher requires a client certificate);
    or `plaintext=True` towards a plaintext matcher (development only)."""

    def __init__(self, address: str, gallery: str, *, tls: TlsFiles | None = None, plaintext: bool = False,
                 top_k: int = 5, timeout: float = 2.0) -> None:
        self.gallery = gallery
        self.top_k = top_k
        self.timeout = timeout
        self._channel = open_channel(address, tls, plaintext=plaintext)
        self._stub = matcher_pb2_grpc.MatcherStub(self._channel)

    def search(self, face: FaceQuery) -> list[FaceCandidate]:
        request = matcher_pb2.SearchRequest(
            gallery=self.gallery, top_k=self.top_k,
            template=common_pb2.FaceTemplate(vector=face.vector, model=face.model, model_version=face.model_version))
        try:
            response = self._stub.Search(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise Unavailable(f"matcher search failed: {exc.code().name} {exc.details()}") from None
        if response.partial:
            # A missing shard may hold the one subject that matters: no answer is better than a wrong "no hit".
            raise Unavailable(f"matcher answered without shards {', '.join(response.missing_shards)}")
        return [FaceCandidate(c.subject_id, c.score) for c in response.candidates]

    def enrol(self, subject_id: str, face: FaceQuery) -> None:
        request = matcher_pb2.EnrolRequest(
            gallery=self.gallery,
            subject_id=subject_id,
            template=common_pb2.FaceTemplate(vector=face.vector, model=face.model, model_version=face.model_version),
        )
        try:
            self._stub.Enrol(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise Unavailable(f"matcher enrolment failed: {exc.code().name} {exc.details()}") from None

    def remove(self, subject_id: str) -> None:
        try:
            self._stub.Remove(matcher_pb2.RemoveRequest(gallery=self.gallery, subject_id=subject_id),
                              timeout=self.timeout)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:  # not there: nothing to take out
                raise Unavailable(f"matcher removal failed: {exc.code().name} {exc.details()}") from None

    def close(self) -> None:
        self._channel.close()
