"""The matcher's finger gallery of the traveller files' fingers over gRPC (limes.v1.Matcher's Finger* RPCs):
what central.travellers.fingerprints.FingerGallery asks, errors.Unavailable when the matcher fails."""
from __future__ import annotations

import grpc

from central.errors import Unavailable
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles, open_channel


class GrpcFingerGallery:
    """`tls`: central's own CA, certificate and key (the matcher requires a client certificate, and a
    service's may write); or `plaintext=True` towards a plaintext matcher (development only)."""

    def __init__(self, address: str, gallery: str, *, tls: TlsFiles | None = None, plaintext: bool = False,
                 top_k: int = 5, timeout: float = 5.0) -> None:
        self.gallery = gallery
        self.top_k = top_k
        self.timeout = timeout
        self._channel = open_channel(address, tls, plaintext=plaintext)
        self._stub = matcher_pb2_grpc.MatcherStub(self._channel)

    @staticmethod
    def _templates(fingers: list[tuple[int, bytes]]) -> list[matcher_pb2.FingerTemplate]:
        return [matcher_pb2.FingerTemplate(position=position, iso19794_2=record) for position, record in fingers]

    def search(self, fingers: list[tuple[int, bytes]]) -> list[tuple[str, float]]:
        """(file id, fused score) of the subjects at or above the matcher's threshold for this many fingers."""
        request = matcher_pb2.FingerSearchRequest(gallery=self.gallery, fingers=self._templates(fingers),
                                                  top_k=self.top_k)
        try:
            response = self._stub.FingerSearch(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise Unavailable(f"matcher finger search failed: {exc.code().name} {exc.details()}") from None
        return [(c.subject_id, c.score) for c in response.candidates]

    def enrol(self, subject_id: str, fingers: list[tuple[int, bytes]]) -> None:
        request = matcher_pb2.FingerEnrolRequest(gallery=self.gallery, subject_id=subject_id,
                                                 fingers=self._templates(fingers))
        try:
            self._stub.FingerEnrol(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise Unavailable(f"matcher finger enrolment failed: {exc.code().name} {exc.details()}") from None

    def remove(self, subject_id: str) -> None:
        try:
            self._stub.FingerRemove(matcher_pb2.FingerRemoveRequest(gallery=self.gallery, subject_id=subject_id),
                                    timeout=self.timeout)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:  # not there: nothing to take out
                raise Unavailable(f"matcher finger removal failed: {exc.code().name} {exc.details()}") from None

    def close(self) -> None:
        self._channel.close()
