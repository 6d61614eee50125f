"""Central's answers for the desk (limes.v1.Desk, beside the gate's edge.remote.RemoteCentral): the
officer's session, the decision and intelligence report requests the outbox keeps, the traveller's history,
the counter's cases.

The officer's identity reaches central only as the session token central issued: the desk never sends
a name for who decides."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import grpc

from drivers.checks import Check
from drivers.mrz import Mrz
from edge.policy import Decision
from edge.remote import CentralUnreachable, RemoteCentral, _code, _describe
from proto.clients import central_pb2, desk_pb2, face_template, fingerprints_pb2

DECISIONS = {"admit": desk_pb2.DeskDecisionRequest.ADMIT, "refuse": desk_pb2.DeskDecisionRequest.REFUSE,
             "refer": desk_pb2.DeskDecisionRequest.REFER}
_UNREACHED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
# Checking a password is argon2's deliberate work, behind others' on a busy central: more than a check's 2 s.
SIGN_IN_TIMEOUT_S = 10.0


class SignInRefused(Exception):
    """Central refused the sign-in (wrong password, locked account, no officer's role): its words."""


@dataclass
class _Seen:
    """What RemoteCentral.crossing_request reads of a gate's Outcome, for the desk's crossing."""
    crossing_id: str
    reasons: list[str]
    checks: list[Check]
    face_score: float | None = None
    decision: Decision = Decision.REFER  # central sets the crossing's decision from the officer's
    evidence: object = None
    extra: dict = field(default_factory=dict)


class DeskCentral:
    def __init__(self, central: RemoteCentral):
        self.central = central

    def _ask(self, method: str, request, timeout: float | None = None):
        try:
            return self.central.client.call(method, request, timeout=timeout)
        except grpc.RpcError as error:
            if _code(error) in _UNREACHED:
                raise CentralUnreachable(_describe(error)) from error
            raise

    def open_session(self, user_name: str, password: str) -> tuple[str, str]:
        """(token, officer); SignInRefused with central's words, CentralUnreachable when not reached."""
        try:
            reply = self._ask("OpenOfficerSession", desk_pb2.OpenOfficerSessionRequest(
                user_name=user_name, password=password), timeout=SIGN_IN_TIMEOUT_S)
        except grpc.RpcError as error:
            if _code(error) == grpc.StatusCode.PERMISSION_DENIED:
                raise SignInRefused(error.details()) from error
            raise
        return reply.token, reply.officer

    @staticmethod
    def close_request(token: str) -> desk_pb2.CloseOfficerSessionRequest:
        return desk_pb2.CloseOfficerSessionRequest(token=token)

    def decision_request(self, *, token: str, crossing_id: str, mrz: Mrz, station, checks: list[Check],
                         reasons: list[str], face_score: float | None, decision: str, ground: str = "",
                         note: str = "", manual_entry: bool = False, counter_case_id: str = "",
                         evidence=None) -> desk_pb2.DeskDecisionRequest:
        crossing = self.central.crossing_request(_Seen(crossing_id, reasons, checks, face_score), mrz, station)
        request = desk_pb2.DeskDecisionRequest(session_token=token, crossing=crossing, decision=DECISIONS[decision],
                                               refusal_ground=ground, note=note, manual_entry=manual_entry,
                                               counter_case_id=counter_case_id)
        if evidence is not None and decision == "refer":
            request.evidence.CopyFrom(self.central.referral_request(_Seen(crossing_id, reasons, checks,
                                                                          evidence=evidence), station).evidence)
        return request

    @staticmethod
    def report_request(*, token: str, report_id: str, source_kind: str, text: str, source_evaluation: str,
                       assessment: str, handling_code: str, handling_conditions: str, crossing_id: str,
                       written_at: dt.datetime) -> desk_pb2.FileIntelligenceReportRequest:
        """An intelligence report of the session's officer; central names the officer and links the crossing."""
        return desk_pb2.FileIntelligenceReportRequest(
            session_token=token, report_id=report_id, source_kind=source_kind, text=text,
            source_evaluation=source_evaluation, assessment=assessment, handling_code=handling_code,
            handling_conditions=handling_conditions, classification="OFFICIAL", crossing_id=crossing_id,
            written_at=written_at.isoformat())

    def history(self, token: str, mrz: Mrz, limit: int = 10) -> list[dict]:
        """The document's earlier crossings, newest first, as the screen shows them."""
        reply = self._ask("DeskHistory", desk_pb2.DeskHistoryRequest(
            session_token=token, limit=limit,
            document=central_pb2.TravelDocument(number=mrz.document_number, issuing_state=mrz.issuing_state)))
        decided = {r.crossing_id: central_pb2.Referral.Status.Name(r.status) for r in reply.referrals}
        return [{"crossing_id": c.crossing_id, "occurred_at": c.occurred_at, "border_point": c.border_point,
                 "direction": central_pb2.Crossing.Direction.Name(c.direction),
                 "decision": decided.get(c.crossing_id, central_pb2.Crossing.Decision.Name(c.decision))}
                for c in reply.crossings]

    def enrol_fingers(self, token: str, crossing_id: str, fingers, face=None, live_jpeg: bytes = b"",
                      timeout: float = 20.0) -> dict:
        """The fingers (edge.desk.fingers.EnrolmentFinger) into the traveller's file at central, under the
        officer's session; with the live face (drivers.face template, JPEG) when the file is to be opened."""
        request = fingerprints_pb2.EnrolFileFingerprintsRequest(
            session_token=token, crossing_id=crossing_id, live_capture_jpeg=live_jpeg,
            fingers=[fingerprints_pb2.EnrolledFinger(position=f.position, iso19794_2=f.iso19794_2, wsq=f.wsq,
                                                     quality=f.quality) for f in fingers])
        if face is not None:
            request.face.CopyFrom(face_template(face.vector, face.model, face.model_version))
        reply = self._ask("EnrolFileFingerprints", request, timeout=timeout)
        return {"file_id": reply.file_id, "positions": list(reply.positions), "file_opened": reply.file_opened,
                "reason": reply.reason, "duplicates": [{"file_id": d.file_id, "score": d.score}
                                                       for d in reply.duplicates]}

    def counter_cases(self, token: str, border_point: str) -> list[dict]:
        reply = self._ask("ListCounterCases", desk_pb2.ListCounterCasesRequest(session_token=token,
                                                                              border_point=border_point))
        return [{"case_id": c.case_id, "station": c.station_id, "occurred_at": c.occurred_at,
                 "reasons": list(c.reasons)} for c in reply.cases]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
