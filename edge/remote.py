"""The gate's view of central and the matcher: domain objects in, plain
answers out. Maps edge objects onto the protobuf messages of proto.clients."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import DecodeError

from drivers.alertmatch.notices import notice_label, person_hit_refers
from drivers.mrz import Mrz
from edge.alert_cache import HitLine, describe_hit, describe_person_hit
from edge.evidence import GateCandidate
from edge.outbox import Reject, Retry
from proto.clients import CentralClient, MatcherClient, central_pb2, desk_pb2, face_template, fingerprints_pb2
from proto.limes.v1 import notices_pb2

_DIRECTIONS = {"ENTRY": central_pb2.Crossing.ENTRY, "EXIT": central_pb2.Crossing.EXIT}
_DECISIONS = {"open": central_pb2.Crossing.OPEN, "refer": central_pb2.Crossing.REFER}
_CHECK_STATUS = {"pass": 1, "fail": 2, "not_done": 3}
# The requests the outbox stores, by RPC: it keeps serialized bytes and parses them back to send.
_OUTBOX_REQUESTS = {"RecordCrossing": central_pb2.RecordCrossingRequest,
                    "OpenReferral": central_pb2.OpenReferralRequest,
                    "EnrolTraveller": central_pb2.EnrolTravellerRequest,
                    # limes.v1.Desk: a traveller the gate could not identify; the officer desk's records.
                    "HandToCounter": desk_pb2.HandToCounterRequest,
                    "RecordDeskDecision": desk_pb2.DeskDecisionRequest,
                    "CloseOfficerSession": desk_pb2.CloseOfficerSessionRequest,
                    "FileIntelligenceReport": desk_pb2.FileIntelligenceReportRequest}
# Central looked at the request and refused it: sending the same bytes again gets the same answer.
# ALREADY_EXISTS is among them: central answers a true retry (same id, same record) with OK and
# already_recorded; ALREADY_EXISTS means the id belongs to a different record.
_REFUSED = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION,
            grpc.StatusCode.NOT_FOUND, grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.UNIMPLEMENTED}

# Central was not reached (or did not answer in time): the gate may fall back on its own copies.
_UNREACHED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class CentralUnreachable(ConnectionError):
    """Central did not answer; unlike an error central reports, the gate's alert cache may stand in."""


@dataclass(frozen=True)
class TravellerFileAnswer:
    """Central's CheckTravellerFile answer: EXEMPT, NEW, VERIFIED, MISMATCH or DUPLICATE, and why."""

    status: str
    reason: str
    file_id: str = ""
    crossings: int = 0
    opened_at: str = ""
    # DUPLICATE: the other identities' files (gallery "travellers"), for the officer's evidence.
    candidates: list[GateCandidate] = field(default_factory=list)
    # The finger positions the traveller's own file holds (enrolled at a desk): the gate verifies them.
    finger_positions: tuple[int, ...] = ()

    def summary(self) -> dict:
        return {"status": self.status, "reason": self.reason, "file_id": self.file_id, "crossings": self.crossings,
                "opened_at": self.opened_at, "finger_positions": list(self.finger_positions),
                "candidates": [{"gallery": c.gallery, "subject_id": c.subject_id, "score": c.score}
                               for c in self.candidates]}


def _template(template) -> object:
    return face_template(template.vector, template.model, template.model_version)


class RemoteCentral:
    def __init__(self, client: CentralClient):
        self.client = client

    def _ask(self, method: str, request):
        """Central's reply; CentralUnreachable when central was not reached, other errors as raised."""
        try:
            return self.client.call(method, request)
        except grpc.RpcError as error:
            if _code(error) in _UNREACHED:
                raise CentralUnreachable(_describe(error)) from error
            raise

    def check_document(self, mrz: Mrz) -> list[str]:
        """One line per alert in force on the document; empty when none. CentralUnreachable when not reached."""
        reply = self._ask("CheckDocument", central_pb2.CheckDocumentRequest(
            document_number=mrz.document_number, document_type=mrz.document_type, issuing_state=mrz.issuing_state))
        return [describe_hit(central_pb2.DocumentAlert.Reason.Name(hit.reason).lower(), hit.match, hit.alert_id,
                             hit.handling_instruction,
                             notices_pb2.DocumentAlertCategory.Name(hit.category).removeprefix("CATEGORY_")
                             if hit.category else "")
                for hit in reply.hits]

    def check_person(self, mrz: Mrz) -> list[HitLine]:
        """One line per person alert central finds for the holder, each saying whether it refers (a green
        notice on a discreet check only informs: drivers.alertmatch.notices); empty when none."""
        reply = self._ask("CheckPerson", central_pb2.CheckPersonRequest(
            surname=mrz.surname, given_names=mrz.given_names, birth_date=mrz.birth_date.isoformat(),
            nationality=mrz.nationality))
        lines = []
        for hit in reply.hits:
            reason = central_pb2.PersonAlert.Reason.Name(hit.reason)
            notice = notices_pb2.PersonNotice.Name(hit.notice).removeprefix("NOTICE_") if hit.notice else ""
            kind = notices_pb2.NoticeKind.Name(hit.notice_kind).removeprefix("NOTICE_KIND_")
            text = describe_person_hit(reason.lower(), hit.score, hit.alert_id, hit.explanation,
                                       hit.handling_instruction, notice_label(notice, kind))
            lines.append(HitLine(text, person_hit_refers(reason, notice)))
        return lines

    def check_stay(self, mrz: Mrz) -> dict:
        """Central's answer before an entry: {"latest_exit": date | None, "days_used", "refused", "regime",
        "scope"} (scope "post": a border post's central judged on its own crossings, headquarters not answering).

        CentralUnreachable when not reached."""
        reply = self._ask("CheckStay", central_pb2.CheckStayRequest(document=_document(mrz),
                                                                    traveller=_traveller(mrz)))
        return {"regime": central_pb2.CheckStayResponse.Regime.Name(reply.regime).lower(),
                "latest_exit": dt.date.fromisoformat(reply.latest_exit) if reply.latest_exit else None,
                "days_used": reply.days_used, "refused": reply.refused, "scope": reply.scope}

    def assess_risk(self, mrz: Mrz, crossing_id: str, station) -> tuple[float, list[str]]:
        """Central's risk score for the traveller before the gate decides, and what fired (for the officer)."""
        reply = self._ask("AssessRisk", central_pb2.AssessRiskRequest(
            crossing_id=crossing_id, station_id=station.station_id, border_point=station.border_point,
            direction=_DIRECTIONS[station.direction], surname=mrz.surname, given_names=mrz.given_names,
            birth_date=mrz.birth_date.isoformat() if mrz.birth_date else "", nationality=mrz.nationality,
            document_type=mrz.document_type, expiry_date=mrz.expiry_date.isoformat() if mrz.expiry_date else ""))
        return reply.score, list(reply.fired)

    def check_traveller_file(self, mrz: Mrz, template) -> TravellerFileAnswer:
        """The traveller's file for this live face (drivers.face.FaceTemplate); grpc.RpcError when central or
        its matcher cannot answer (the gate then refers)."""
        request = central_pb2.CheckTravellerFileRequest(document=_document(mrz), traveller=_traveller(mrz),
                                                        face=_template(template))
        try:
            reply = self._ask("CheckTravellerFile", request)
        except grpc.RpcError as error:  # the status and central's words, for the officer's reason
            raise RuntimeError(_describe(error)) from error
        return TravellerFileAnswer(
            central_pb2.TravellerFileCheck.Status.Name(reply.status), reply.reason, reply.file_id, reply.crossings,
            reply.opened_at, [GateCandidate(c.gallery, c.subject_id, round(c.score, 4)) for c in reply.candidates],
            tuple(reply.finger_positions))

    def verify_file_fingerprints(self, file_id: str, fingers: list[tuple[int, bytes]]) -> tuple[str, str]:
        """Central's 1:1 of live fingers (position, ISO/IEC 19794-2 record) against the file's: (status, reason).
        Raises RuntimeError with central's words when it cannot answer (the gate then refers)."""
        request = fingerprints_pb2.VerifyFileFingerprintsRequest(
            file_id=file_id, fingers=[fingerprints_pb2.LiveFinger(position=p, iso19794_2=r) for p, r in fingers])
        try:
            reply = self._ask("VerifyFileFingerprints", request)
        except grpc.RpcError as error:
            raise RuntimeError(_describe(error)) from error
        return fingerprints_pb2.VerifyFileFingerprintsResponse.Status.Name(reply.status), reply.reason

    def enrolment_request(self, outcome) -> central_pb2.EnrolTravellerRequest:
        """The file to open from the crossing just recorded (outcome.enrolment: live template and face JPEG)."""
        template, live_jpeg = outcome.enrolment
        return central_pb2.EnrolTravellerRequest(crossing_id=outcome.crossing_id, face=_template(template),
                                                 live_capture_jpeg=live_jpeg)

    def enrol_traveller(self, outcome) -> central_pb2.EnrolTravellerResponse:
        return self.client.call("EnrolTraveller", self.enrolment_request(outcome))

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
            document=_document(mrz),
            traveller=_traveller(mrz),
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

    def counter_request(self, outcome, station) -> desk_pb2.HandToCounterRequest:
        """A traveller the gate could not identify, for the officers at the counter (central.desk.counter);
        the crossing's id is the case's."""
        return desk_pb2.HandToCounterRequest(
            case_id=outcome.crossing_id, station_id=station.station_id, border_point=station.border_point,
            occurred_at=dt.datetime.now(dt.timezone.utc).isoformat(), reasons=outcome.reasons)

    def hand_to_counter(self, outcome, station) -> None:
        self.client.call("HandToCounter", self.counter_request(outcome, station))

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


def _document(mrz: Mrz) -> central_pb2.TravelDocument:
    return central_pb2.TravelDocument(number=mrz.document_number, type=mrz.document_type,
                                      issuing_state=mrz.issuing_state,
                                      expiry_date=mrz.expiry_date.isoformat() if mrz.expiry_date else "")


def _traveller(mrz: Mrz) -> central_pb2.Traveller:
    return central_pb2.Traveller(surname=mrz.surname, given_names=mrz.given_names, nationality=mrz.nationality,
                                 sex=mrz.sex if mrz.sex in ("M", "F") else "",
                                 birth_date=mrz.birth_date.isoformat() if mrz.birth_date else "")


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
