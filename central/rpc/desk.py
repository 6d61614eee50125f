"""The limes.v1.Desk gRPC service (central.desk): officer sessions, the officer's decisions, the counter.

The caller is the desk station (its certificate; central.rpc.servicer.caller_of), which must hold the
role "desk" (or "gate" for HandToCounter). The officer of an act is the user of the officer session
the request carries, bound to that station: never a name the desk sends. A request that also names a
user (x-limes-user) other than the session's is refused and audited, like any forged actor.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable, TypeVar

from sqlalchemy import select

from central.access import audit as audit_log
from central.access.roles import PermissionDenied
from central.database import models as m
from central.desk import counter, decisions, intel_reports, sessions
from central.errors import InvalidArgument
from central.intelligence import clearance
from central.intelligence.grading import GradingError, grade
from central.records import history
from central.rpc import convert, fields
from central.rpc.servicer import CentralServicer
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import desk_pb2, desk_pb2_grpc

log = logging.getLogger(__name__)
T = TypeVar("T")

_DECISIONS = {desk_pb2.DeskDecisionRequest.ADMIT: decisions.ADMIT, desk_pb2.DeskDecisionRequest.REFUSE:
              decisions.REFUSE, desk_pb2.DeskDecisionRequest.REFER: decisions.REFER}


class DeskServicer(desk_pb2_grpc.DeskServicer):
    """Shares the Central servicer's database, access checks, audit and error mapping."""

    def __init__(self, central: CentralServicer) -> None:
        self._central = central

    # -- who acts -----------------------------------------------------------
    def _officer(self, caller: audit_log.Caller, db, token: str, *,
                 at: dt.datetime | None = None) -> audit_log.Caller:
        """The caller as the officer of the session `token` at this desk; PermissionDenied otherwise
        (audited by _as_officer once the transaction is over)."""
        if not caller.station:
            raise PermissionDenied("an officer session is used by the desk station it was opened at")
        officer = sessions.officer_of(db, caller.station, token, self._central._clock(), at=at)
        if caller.user and caller.user != officer:
            raise PermissionDenied(f"x-limes-user: {caller.user!r} is not the signed-in officer ({officer!r}); "
                                   "the session names who acts")
        return audit_log.Caller(caller.station, officer, caller.purpose)

    def _as_officer(self, caller: audit_log.Caller, method: str, transaction: Callable[[object], T]) -> T:
        """The transaction's answer; a refusal it raises is audited (once) after its rollback, then raised."""
        return self._central._run_or_refuse(caller, method, "officer session", transaction)

    def _point_of(self, db, caller: audit_log.Caller, claimed: str) -> str:
        """The desk's border point: where it is registered (its first crossing), else the one it names."""
        station = db.scalar(select(m.Station).where(m.Station.code == caller.station))
        if station is None:
            return fields.required("border_point", claimed, 32)
        registered = db.get(m.BorderPoint, station.border_point_id).code
        if claimed and claimed != registered:
            raise PermissionDenied(f"desk {caller.station!r} is at {registered!r}, not {claimed!r}")
        return registered

    # -- the service --------------------------------------------------------
    def OpenOfficerSession(self, request, context) -> desk_pb2.OfficerSession:
        def work(caller: audit_log.Caller) -> desk_pb2.OfficerSession:
            user = fields.required("user_name", request.user_name, 64)
            opened = self._central._db.run(
                lambda db: sessions.open_session(db, caller, user, request.password, self._central._clock()))
            if opened.token is None:
                raise PermissionDenied(opened.refusal)
            return desk_pb2.OfficerSession(token=opened.token, officer=opened.officer,
                                           expires_at=fields.format_instant(opened.expires_at))
        return self._central._call("OpenOfficerSession", context, work)

    def CloseOfficerSession(self, request, context) -> desk_pb2.CloseOfficerSessionResponse:
        def work(caller: audit_log.Caller) -> desk_pb2.CloseOfficerSessionResponse:
            self._central._db.run(lambda db: sessions.close_session(db, caller, request.token,
                                                                   self._central._clock()))
            return desk_pb2.CloseOfficerSessionResponse()
        return self._central._call("CloseOfficerSession", context, work)

    def RecordDeskDecision(self, request, context) -> desk_pb2.DeskDecisionResponse:
        def work(caller: audit_log.Caller) -> desk_pb2.DeskDecisionResponse:
            if request.decision not in _DECISIONS:
                raise InvalidArgument("decision", "must be ADMIT, REFUSE or REFER")
            crossing_request = pb.RecordCrossingRequest()
            crossing_request.CopyFrom(request.crossing)
            crossing_request.decision = pb.Crossing.REFER  # set by central from the officer's decision
            crossing = convert.new_crossing(crossing_request)
            self._central._own_station("RecordDeskDecision", caller, crossing.station)
            evidence = None
            if request.HasField("evidence"):
                evidence = convert.evidence(pb.OpenReferralRequest(evidence=request.evidence))
            decided = decisions.DeskDecision(
                _DECISIONS[request.decision], request.refusal_ground, fields.bounded("note", request.note, 1000),
                request.manual_entry, fields.client_uuid("counter_case_id", request.counter_case_id)
                if request.counter_case_id else "", evidence)

            def transaction(db) -> decisions.Decided:
                officer = self._officer(caller, db, request.session_token, at=crossing.occurred_at)
                return decisions.record(db, officer, officer.user, crossing, decided, self._central._rules,
                                        self._central._stay_rules)
            done = self._as_officer(caller, "RecordDeskDecision", transaction)
            return desk_pb2.DeskDecisionResponse(crossing_id=done.crossing_id, referral_id=done.referral_id,
                                                 officer=done.officer,
                                                 status=pb.Referral.Status.Value(done.status.value))
        return self._central._call("RecordDeskDecision", context, work)

    def DeskHistory(self, request, context) -> pb.TravellerHistory:
        def work(caller: audit_log.Caller) -> pb.TravellerHistory:
            number = fields.document_no("document.number", request.document.number)
            state = fields.state("document.issuing_state", request.document.issuing_state, is_required=True)

            def transaction(db) -> pb.TravellerHistory:
                officer = self._officer(caller, db, request.session_token)
                crossings, referrals = history.history_by_document(db, officer, number, state, request.limit or 20)
                return pb.TravellerHistory(crossings=[convert.crossing(c) for c in crossings],
                                           referrals=[convert.referral(r) for r in referrals],
                                           stays=[convert.stay(s) for s in history.stays_of(db, crossings)])
            return self._as_officer(caller, "DeskHistory", transaction)
        return self._central._call("DeskHistory", context, work)

    def HandToCounter(self, request, context) -> desk_pb2.CounterCase:
        def work(caller: audit_log.Caller) -> desk_pb2.CounterCase:
            case_id = fields.client_uuid("case_id", request.case_id)
            station = fields.required("station_id", request.station_id, 64)
            point = fields.required("border_point", request.border_point, 32)
            occurred = fields.instant("occurred_at", request.occurred_at)
            return _case(self._central._run_or_refuse(caller, "HandToCounter", f"counter case {case_id}",
                                                      lambda db: counter.hand_to_counter(
                                                          db, caller, case_id, station, point, occurred,
                                                          list(request.reasons))))
        return self._central._call("HandToCounter", context, work)

    def ListCounterCases(self, request, context) -> desk_pb2.ListCounterCasesResponse:
        def work(caller: audit_log.Caller) -> desk_pb2.ListCounterCasesResponse:
            def transaction(db) -> desk_pb2.ListCounterCasesResponse:
                officer = self._officer(caller, db, request.session_token)
                cases = counter.waiting(db, officer, self._point_of(db, caller, request.border_point))
                return desk_pb2.ListCounterCasesResponse(cases=[_case(c) for c in cases])
            return self._as_officer(caller, "ListCounterCases", transaction)
        return self._central._call("ListCounterCases", context, work)

    def FileIntelligenceReport(self, request, context) -> desk_pb2.FileIntelligenceReportResponse:
        def work(caller: audit_log.Caller) -> desk_pb2.FileIntelligenceReportResponse:
            try:
                graded = grade(request.source_evaluation, request.assessment, request.handling_code,
                               fields.bounded("handling_conditions", request.handling_conditions, 2000))
            except GradingError as exc:
                raise InvalidArgument("grading", str(exc)) from None
            report = intel_reports.DeskReport(
                reference=fields.client_uuid("report_id", request.report_id),
                source_kind=fields.required("source_kind", request.source_kind, 16),
                grading=graded, classification=clearance.parse_level(request.classification or "OFFICIAL"),
                text=fields.required("text", request.text, 20_000),
                crossing_id=fields.client_uuid("crossing_id", request.crossing_id) if request.crossing_id else "")
            written = fields.instant("written_at", request.written_at)

            def transaction(db) -> desk_pb2.FileIntelligenceReportResponse:
                officer = self._officer(caller, db, request.session_token, at=written)
                officer = audit_log.Caller(officer.station, officer.user, "intelligence report from the counter")
                filed = intel_reports.file_from_desk(db, officer, report, self._central._clock().date())
                return desk_pb2.FileIntelligenceReportResponse(
                    reference=filed.reference, originator=filed.originator,
                    grading=f"{filed.source_evaluation}{filed.assessment} {filed.handling_code}",
                    links=[f"{link.kind}: {link.target}" for link in filed.links])
            return self._as_officer(caller, "FileIntelligenceReport", transaction)
        return self._central._call("FileIntelligenceReport", context, work)


def _case(case: m.CounterCase) -> desk_pb2.CounterCase:
    return desk_pb2.CounterCase(case_id=case.case_id, station_id=case.station, border_point=case.border_point,
                                occurred_at=fields.format_instant(case.occurred_at), reasons=list(case.reasons),
                                crossing_id=case.crossing_id or "", settled_by=case.settled_by or "")
