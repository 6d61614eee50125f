"""The gate's view of central and the matcher: domain objects in, plain
answers out. Maps edge objects onto the protobuf messages of proto.clients."""
from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf.message import DecodeError

from drivers.mrz import Mrz
from edge.alert_cache import describe_hit, describe_person_hit
from edge.outbox import Reject, Retry
from proto.clients import CentralClient, MatcherClient, central_pb2, face_template

_DIRECTIONS = {"ENTRY": central_pb2.Crossing.ENTRY, "EXIT": central_pb2.Crossing.EXIT}
_DECISIONS = {"open": central_pb2.Crossing.OPEN, "refer": central_pb2.Crossing.REFER}
_CHECK_STATUS = {"pass": 1, "fail": 2, "not_done": 3}
# The requests the outbox stores, by RPC: it keeps serialized bytes and parses them back to send.
_OUTBOX_REQUESTS = {"RecordCrossing": central_pb2.RecordCrossingRequest,
                    "OpenReferral": central_pb2.OpenReferralRequest}
# Central looked at the request and refused it: sending the same bytes again gets the same answer.
# ALREADY_EXISTS is among them: central answers a true retry (same id, same record) with OK and
# already_recorded; ALREADY_EXISTS means the id belongs to a different record.
_REFUSED = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.NOT_FOUND, grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.UNIMPLEMENTED}

# Central was not reached (or did not answer in time): the gate may fall back on its own copies.
_UNREACHED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class CentralUnreachable(ConnectionError):
    """Central did not answer; unlike an error central reports, the gate's alert cache may stand in."""


class RemoteCentral:
    def __init__(self, client: CentralClient):
        self.client = client

    def check_document(self, mrz: Mrz) -> list[str]:
        """One line per alert in force on the document; empty when none. CentralUnreachable when not reached."""
        try:
            reply = self.client.call("CheckDocument", central_pb2.CheckDocumentRequest(
                document_number=mrz.document_number, document_type=mrz.document_type,
                issuing_state=mrz.issuing_state))
        except grpc.RpcError as error:
            if _code(error) in _UNREACHED:
                raise CentralUnreachable(_describe(error)) from error
            raise
        return [describe_hit(central_pb2.DocumentAlert.Reason.Name(hit.reason).lower(), hit.match, hit.alert_id,
                             hit.handling_instruction) for hit in reply.hits]

    def check_person(self, mrz: Mrz) -> list[str]:
        """One line per person alert central finds for the holder; empty when none."""
        try:
            reply = self.client.call("CheckPerson", central_pb2.CheckPersonRequest(
                surname=mrz.surname, given_names=mrz.given_names, birth_date=mrz.birth_date.isoformat(),
                nationality=mrz.nationality))
        except grpc.RpcError as error:
            if _code(error) in _UNREACHED:
                raise CentralUnreachable(_describe(error)) from error
            raise
        return [describe_person_hit(central_pb2.PersonAlert.Reason.Name(hit.reason).lower(), hit.score, hit.alert_id,
                                    hit.explanation, hit.handling_instruction) for hit in reply.hits]

    def assess_risk(self, mrz: Mrz, crossing_id: str, station) -> tuple[float, list[str]]:
        """Central's risk score for the traveller before the gate decides, and what fired (for the officer)."""
        try:
            reply = self.client.call("AssessRisk", central_pb2.AssessRiskRequest(
                crossing_id=crossing_id, station_id=station.station_id, border_point=station.border_point,
                direction=_DIRECTIONS[station.direction], surname=mrz.surname, given_names=mrz.given_names,
                birth_date=mrz.birth_date.isoformat() if mrz.birth_date else "", nationality=mrz.nationality,
                document_type=mrz.document_type, expiry_date=mrz.expiry_date.isoformat() if mrz.expiry_date else ""))
        except grpc.RpcError as error:
            if _code(error) in _UNREACHED:
                raise CentralUnreachable(_describe(error)) from error
            raise
        return reply.score, list(reply.fired)

    def alert_delta(self, since_version: int, limit: int) -> central_pb2.AlertDeltaResponse:
        """For edge.alert_cache: alert changes after since_version."""
        return self.client.call("AlertDelta", central_pb2.AlertDeltaRequest(since_version=since_version,
                                                                           limit=limit))

    def record_crossing(self, outcome, mrz: Mrz, station) -> central_pb2.RecordCrossingResponse:
        return self.client.call("RecordCrossing", self.crossing_request(outcome, mrz, station))

    def open_referral(self, outcome, station) -> str:
        request = self.referral_request(outcome, station)
        self.client.call("OpenReferral", request)
        return request.referral_id

    def crossing_request(self, outcome, mrz: Mrz, station) -> central_pb2.RecordCrossingRequest:
        """The crossing as central records it, stamped now: the time it happened, however late it is sent."""
        request = central_pb2.RecordCrossingRequest(
            crossing_id=outcome.crossing_id,
            station_id=station.station_id,
            border_point=station.border_point,
            direction=_DIRECTIONS[station.direction],
            occurred_at=dt.datetime.now(dt.timezone.utc).isoformat(),
            document=central_pb2.TravelDocument(
                number=mrz.document_number, type=mrz.document_type, issuing_state=mrz.issuing_state,
                expiry_date=mrz.expiry_date.isoformat() if mrz.expiry_date else ""),
            traveller=central_pb2.Traveller(
                surname=mrz.surname, given_names=mrz.given_names, nationality=mrz.nationality,
                sex=mrz.sex if mrz.sex in ("M", "F") else "",
                birth_date=mrz.birth_date.isoformat() if mrz.birth_date else ""),
            decision=_DECISIONS[outcome.decision.value],
            reasons=outcome.reasons,
            checks=[{"name": c.name, "status": _CHECK_STATUS[c.status.value], "reason": c.reason}
                    for c in outcome.checks],
        )
        if outcome.face_score is not None:
            request.face_score = outcome.face_score
        return request

    def referral_request(self, outcome, station) -> central_pb2.OpenReferralRequest:
        """The referral with the gate's evidence for the officer (edge.evidence), when it has any."""
        # One referral per crossing: the crossing's id is the referral's idempotency key too.
        request = central_pb2.OpenReferralRequest(referral_id=outcome.crossing_id, crossing_id=outcome.crossing_id,
                                                  station_id=station.station_id, reasons=outcome.reasons)
        evidence = getattr(outcome, "evidence", None)
        if evidence is not None:
            request.evidence.CopyFrom(central_pb2.ReferralEvidence(
                live_capture_jpeg=evidence.live_jpeg, chip_photo_jpeg=evidence.chip_jpeg,
                watchlist_candidates=[central_pb2.WatchlistCandidate(gallery=c.gallery, subject_id=c.subject_id,
                                                                     score=c.score) for c in evidence.candidates]))
        return request

    def referral_decision(self, referral_id: str) -> dict:
        """What the officer decided on a referral this gate opened: status (OPEN while waiting) and decisions."""
        reply = self.client.call("GetReferral", central_pb2.GetReferralRequest(referral_id=referral_id))
        return {"referral_id": reply.referral_id, "status": central_pb2.Referral.Status.Name(reply.status),
                "decisions": [{"officer": d.officer, "decision": central_pb2.Referral.Status.Name(d.decision),
                               "reason": d.reason, "note": d.note, "decided_at": d.decided_at}
                              for d in reply.decisions]}

    def deliver(self, method: str, payload: bytes) -> None:
        """edge.outbox's sender: send one stored request; Retry when central is not reached, Reject when it refuses.

        A crossing central already had (already_recorded) is delivered: the
        outbox may resend after a crash between sending and marking it sent.
        """
        if method not in _OUTBOX_REQUESTS:
            raise Reject(f"no such outbox request: {method}")
        try:
            request = _OUTBOX_REQUESTS[method].FromString(payload)
        except DecodeError as error:
            raise Reject(f"{method} request unreadable: {error}") from error
        try:
            self.client.call(method, request)
        except grpc.RpcError as error:
            if _code(error) in _REFUSED:
                raise Reject(_describe(error)) from error
            raise Retry(_describe(error)) from error


def _code(error: grpc.RpcError) -> grpc.StatusCode:
    # Errors raised by a call carry code() and details(); a bare RpcError does not.
    return error.code() if callable(getattr(error, "code", None)) else grpc.StatusCode.UNKNOWN


def _describe(error: grpc.RpcError) -> str:
    details = error.details() if callable(getattr(error, "details", None)) else str(error)
    return f"{_code(error).name}: {details}"


class RemoteMatcher:
    def __init__(self, client: MatcherClient, top_k: int = 5):
        self.client = client
        self.top_k = top_k

    def search(self, gallery: str, template):
        """template: a drivers.face.FaceTemplate; returns the matcher's SearchResponse."""
        return self.client.search(gallery, face_template(template.vector, template.model, template.model_version),
                                  top_k=self.top_k)
