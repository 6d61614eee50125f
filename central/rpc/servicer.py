"""The limes.v1.Central gRPC service: parses requests, runs one transaction per call, maps errors.

Status codes: INVALID_ARGUMENT (malformed field, named in the message),
NOT_FOUND (unknown crossing, referral or alert), FAILED_PRECONDITION (state
does not allow it, e.g. deciding a closed referral), ALREADY_EXISTS (an
idempotency key reused for other content), UNAVAILABLE (the matcher
did not answer a face search fully), INTERNAL (anything else; logged).
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Callable, TypeVar

import grpc

from central import reports
from central.access import audit as audit_log
from central.access import roles as access
from central.access import scope
from central.access.roles import AccessPolicy, PermissionDenied
from central.alerts import lists as alert_lists
from central.alerts.face_matcher import FaceMatcher
from central.database import models as m
from central.database.engine import Database
from central.database.group_commit import GroupCommit
from central.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from central.federation import checks as partner_checks
from central.intelligence import targeting
from central.records import gate_calls, history, national_stay, referrals
from central.risk.rules import RiskRules
from central.rpc import convert, fields, metrics
from central.rpc.headquarters import (
    FORWARDED_METADATA,
    Headquarters,
    HeadquartersLink,
    national_answer,
    rule_alone,
)
from central.stays.regime import StayRules
from central.travellers import files, fingerprints
from drivers.alertmatch.persons import DEFAULT_MIN_SIMILARITY
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.tls import peer_identity

log = logging.getLogger(__name__)
T = TypeVar("T")

# gRPC metadata naming the caller: trusted as sent in plaintext (development), checked against
# the client certificate under TLS (see caller_of).
STATION_METADATA = "x-limes-station"
USER_METADATA = "x-limes-user"
PURPOSE_METADATA = "x-limes-purpose"
STAY_CHECK_PURPOSE = "border check: authorised stay"

_STATUS = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
}


class IdentityRefused(PermissionDenied):
    """The caller's identity itself is refused (a certificate naming nobody, a claim it does not back)."""

    def __init__(self, caller: audit_log.Caller, message: str) -> None:
        super().__init__(message)
        self.caller = caller


def caller_of(context: grpc.ServicerContext) -> audit_log.Caller:
    """Who is calling: the verified client certificate under TLS, else the metadata (plaintext, unverified).

    Under TLS a station certificate makes the caller that station and nobody
    else, a user certificate that user. Metadata may repeat the certificate's
    name (a gate sends its station id either way) but not claim another station
    or user: that is refused (IdentityRefused), not quietly ignored.
    """
    metadata = {key: value for key, value in (context.invocation_metadata() or ())}
    station, user = str(metadata.get(STATION_METADATA, "")), str(metadata.get(USER_METADATA, ""))
    purpose = str(metadata.get(PURPOSE_METADATA, ""))
    peer = peer_identity(context)
    if peer is None:
        return audit_log.Caller(station=station, user=user, purpose=purpose)
    caller = audit_log.Caller(station=peer.name if peer.kind == "station" else "",
                            user=peer.name if peer.kind == "user" else "", purpose=purpose)
    if not (caller.station or caller.user):
        raise IdentityRefused(caller, f"the client certificate (CN={peer.name!r}) names no station or user "
                                      "(its OU must be 'station' or 'user')")
    for header, claimed, certified in ((STATION_METADATA, station, caller.station), (USER_METADATA, user, caller.user)):
        if claimed and claimed != certified:
            holder = f"station {caller.station!r}" if caller.station else f"user {caller.user!r}"
            raise IdentityRefused(caller, f"{header}: {claimed!r} is not who the client certificate names "
                                          f"({holder}); under TLS the certificate is the identity")
    return caller


def document_hit(h: gate_calls.DocumentHit, mine: scope.Scope = scope.UNSCOPED) -> pb.DocumentHit:
    """The hit as `mine` may see it: in full, or only its fact and handling instruction (central.access.scope)."""
    if scope.alert_sight(mine, h.alert)[0] is not scope.Sight.FULL:
        return pb.DocumentHit(alert_id=h.alert.alert_id, match=h.match, owning_agency=h.alert.owning_agency,
                              handling_instruction=h.alert.handling_instruction, hit_only=True)
    return pb.DocumentHit(owning_agency=h.alert.owning_agency, alert_id=h.alert.alert_id,
                          reason=pb.DocumentAlert.Reason.Value(h.alert.reason.name),
                          match=h.match, handling_instruction=h.alert.handling_instruction,
                          issuing_agency=h.alert.issuing_agency, document_number=h.alert.number,
                          category=convert.category_number(h.alert.category))


def person_hit(h: gate_calls.PersonHit, mine: scope.Scope = scope.UNSCOPED) -> pb.PersonHit:
    if scope.alert_sight(mine, h.alert)[0] is not scope.Sight.FULL:
        return pb.PersonHit(alert_id=h.alert.alert_id, score=h.match.score,
                            handling_instruction=h.alert.handling_instruction, owning_agency=h.alert.owning_agency,
                            hit_only=True)
    return pb.PersonHit(owning_agency=h.alert.owning_agency, alert_id=h.alert.alert_id, score=h.match.score,
                        reason=pb.PersonAlert.Reason.Value(h.alert.reason.name),
                        handling_instruction=h.alert.handling_instruction, issuing_agency=h.alert.issuing_agency,
                        surname=h.alert.surname, given_names=h.alert.given_names,
                        birth_date=fields.format_date(h.alert.birth_date), nationality=h.alert.nationality,
                        explanation=h.match.explanation, **convert.notice_numbers(h.alert.notice, h.alert.notice_kind))


def _reason(enum_type, name: str) -> int:
    return enum_type.Value(name) if name in enum_type.keys() else 0


def partner_document_hit(h: partner_checks.PartnerHit) -> pb.DocumentHit:
    """A partner's shared alert hit at our gate: its owner named as partner/agency."""
    return pb.DocumentHit(alert_id=h.alert_id, match="exact", reason=_reason(pb.DocumentAlert.Reason,
                                                                             h.content.get("reason", "")),
                          handling_instruction=h.content.get("handling_instruction", ""), issuing_agency=h.owner,
                          owning_agency=h.owner, document_number=h.content.get("document_number", ""))


def partner_person_hit(h: partner_checks.PartnerHit) -> pb.PersonHit:
    return pb.PersonHit(alert_id=h.alert_id, score=h.score, reason=_reason(pb.PersonAlert.Reason,
                                                                          h.content.get("reason", "")),
                        handling_instruction=h.content.get("handling_instruction", ""), issuing_agency=h.owner,
                        owning_agency=h.owner, surname=h.content.get("surname", ""),
                        given_names=h.content.get("given_names", ""), birth_date=h.content.get("birth_date", ""),
                        nationality=h.content.get("nationality", ""), explanation=h.explanation)


def _hits_outcome(response) -> str:
    hit_only = sum(hit.hit_only for hit in response.hits)
    return f"{len(response.hits)} hit(s)" + (f", {hit_only} disclosed as hit only (need to know)" if hit_only else "")


def _stay_outcome(response: pb.CheckStayResponse) -> str:
    if response.refused:
        return "refused, ground " + response.refused.split(":")[0]
    return f"until {response.latest_exit}" if response.latest_exit else "no limit"


def _forwarded(context: grpc.ServicerContext) -> bool:
    """Whether a border post passed this call on (central.rpc.headquarters): answered here, never passed on."""
    return any(key == FORWARDED_METADATA for key, _ in (context.invocation_metadata() or ()))


class CentralServicer(central_pb2_grpc.CentralServicer):
    """`role_cache_s`: how long a caller's roles are kept between reads (see central.access.roles.RoleCache)."""

    def __init__(self, database: Database, risk_rules: RiskRules, face_matcher: FaceMatcher | None = None,
                 person_threshold: float = DEFAULT_MIN_SIMILARITY,
                 clock: Callable[[], dt.datetime] = m.utcnow, policy: AccessPolicy | None = None,
                 role_cache_s: float = 5.0, stay_rules: StayRules | None = None,
                 traveller_gallery: files.TravellerGallery | None = None,
                 headquarters: HeadquartersLink | None = None) -> None:
        self._db = database
        self._stay_rules = stay_rules or StayRules()
        self._writes = GroupCommit(database)
        self._roles = access.RoleCache(role_cache_s)
        self._stations: gate_calls.StationCache = {}
        self._policy = policy or AccessPolicy()
        self._rules = risk_rules
        self._matcher = face_matcher
        self._threshold = person_threshold
        self._clock = clock
        # The matcher's travellers gallery (central.travellers.files); who needs no file is in the stay rules.
        self._travellers = traveller_gallery
        # At a border post: headquarters, asked first for the stay on every post's crossings (CheckStay).
        self._headquarters = (None if headquarters is None
                              else Headquarters(headquarters, STATION_METADATA, PURPOSE_METADATA))

    def _call(self, method: str, context: grpc.ServicerContext, work: Callable[[audit_log.Caller], T]) -> T:
        started = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN  # until known: the metrics are written in `finally`
        try:
            caller = self._identify(method, context)
            self._authorise(method, caller)
            try:
                result = work(caller)
            except PermissionDenied as exc:  # need to know refused inside the work: audited like any refusal
                if not getattr(exc, "audited", False):
                    self._refused(caller, method, "", exc)
                raise
            code = grpc.StatusCode.OK
            return result
        except tuple(_STATUS) as exc:
            code = next(status for kind, status in _STATUS.items() if isinstance(exc, kind))
            message = str(exc)
        except Exception:
            log.exception("central call %s failed", method)
            code, message = grpc.StatusCode.INTERNAL, "internal error (logged by central)"
        finally:
            metrics.CALLS.labels(method, code.name).inc()
            metrics.CALL_SECONDS.labels(method).observe(time.perf_counter() - started)
        context.abort(code, message)
        raise AssertionError("context.abort returned")

    def _identify(self, method: str, context: grpc.ServicerContext) -> audit_log.Caller:
        """The caller (see caller_of); a refused identity is audited like any refusal."""
        try:
            return caller_of(context)
        except IdentityRefused as exc:
            self._refused(exc.caller, method, "", exc)
            raise

    def _authorise(self, method: str, caller: audit_log.Caller) -> set[access.Role]:
        """The caller's roles; PermissionDenied unless one permits `method` (a refusal is audited)."""
        roles = self._roles.get(caller.station, caller.user)
        if roles is None:
            generation = self._roles.generation
            roles = self._db.read(lambda s: access.roles_of(s, caller.station, caller.user))
            self._roles.put(caller.station, caller.user, roles, generation)
        try:
            return access.permit(self._policy, set(roles), caller.station, caller.user, method)
        except PermissionDenied as exc:
            self._refused(caller, method, "", exc)
            raise

    def _refused(self, caller: audit_log.Caller, method: str, subject: str, reason: Exception) -> None:
        """The audit row of a refused call (purpose "access control"), committed before the refusal goes out."""
        self._writes.add_row(audit_log.audit_row(caller, method, subject, f"PERMISSION_DENIED: {reason}",
                                               "access control"))
        if isinstance(reason, Exception):
            reason.audited = True

    def _run_or_refuse(self, caller: audit_log.Caller, method: str, subject: str, transaction: Callable[..., T]) -> T:
        """The transaction's answer; a PermissionDenied it raises is audited as a refusal before it goes out."""
        try:
            return self._db.run(transaction)
        except PermissionDenied as exc:
            self._refused(caller, method, subject, exc)
            raise

    def _own_station(self, method: str, caller: audit_log.Caller, station_id: str) -> None:
        """A station reports (crossings, risk questions) for itself only; a user reports for a station only as
        an administrator (an import of records), never through a gate's or desk's role alone. Audited refusals."""
        if caller.station:
            message = "" if caller.station == station_id else (
                f"station_id: station {caller.station!r} may not report for station {station_id!r}")
        else:
            message = "" if access.Role.ADMINISTRATOR in self._authorise(method, caller) else (
                f"station_id: user {caller.user!r} may not report for station {station_id!r}: a station's "
                "crossings come from the station itself, or from an administrator's import")
        if message:
            refusal = PermissionDenied(message)
            self._refused(caller, method, f"station {station_id}", refusal)
            raise refusal

    def _decision_author(self, caller: audit_log.Caller, referral_id: str, claimed: str) -> str:
        """Who decides: the calling user (the client certificate's under TLS), never the request's word.

        `officer` in the request may only repeat that user's name (empty is the same); naming anyone
        else, or deciding as a station with no user, is refused and audited like any refusal.
        """
        author = caller.user
        if not author:
            message = "RecordDecision: a decision is a person's: the caller names no user"
        elif claimed and claimed != author:
            message = (f"officer: {claimed!r} is not the caller (user {author!r}); a decision is recorded "
                       "under the caller's own name")
        else:
            return author
        refusal = PermissionDenied(message)
        self._refused(caller, "RecordDecision", f"referral {referral_id}", refusal)
        raise refusal

    def _owe_notices(self, caller: audit_log.Caller, hits: list[partner_checks.PartnerHit]) -> None:
        """A hit on a partner's alert owes its owner a notice (central.federation.checks), queued now."""
        if hits:
            when = self._clock()
            self._db.run(lambda s: partner_checks.queue_notices(
                s, hits, partner_checks.place_of(s, caller.station or caller.user), when))

    def _today(self) -> dt.date:
        return self._clock().astimezone(dt.timezone.utc).date()

    # ------------------------------------------------------------ alerts

    def _audited_read(self, caller: audit_log.Caller, action: str, subject: str, purpose: str,
                      read: Callable[[object], T], outcome: Callable[[T], str]) -> T:
        """`read` in a read-only transaction, then its audit row committed (central.database.group_commit),
        then the answer.

        Two transactions, not one: the read runs beside the writer (on SQLite
        too), and the answer still waits for its row.
        """
        result = self._db.read(read)
        self._writes.add_row(audit_log.audit_row(caller, action, subject, outcome(result), purpose))
        return result

    def CheckDocument(self, request: pb.CheckDocumentRequest, context) -> pb.CheckDocumentResponse:
        def work(caller: audit_log.Caller) -> pb.CheckDocumentResponse:
            number = fields.document_no("document_number", request.document_number)
            shared: list[partner_checks.PartnerHit] = []  # hits on partners' alerts: their owners are owed a notice

            def read(db) -> pb.CheckDocumentResponse:
                hits = gate_calls.document_hits(db, number, request.document_type, request.issuing_state,
                                                self._today())
                mine = scope.scope_of(db, caller) if hits else scope.UNSCOPED
                shared[:] = partner_checks.document_hits(db, number, request.issuing_state, self._today())
                return pb.CheckDocumentResponse(hits=[document_hit(h, mine) for h in hits]
                                                + [partner_document_hit(h) for h in shared])
            response = self._audited_read(caller, "CheckDocument",
                                          gate_calls.document_subject(number, request.issuing_state),
                                          gate_calls.DOCUMENT_CHECK_PURPOSE, read, _hits_outcome)
            self._owe_notices(caller, shared)
            for hit in response.hits:
                metrics.ALERT_HITS.labels("document", hit.match).inc()
            return response
        return self._call("CheckDocument", context, work)

    def CheckPerson(self, request: pb.CheckPersonRequest, context) -> pb.CheckPersonResponse:
        def work(caller: audit_log.Caller) -> pb.CheckPersonResponse:
            identity, face = convert.identity(request), convert.face_query(request)
            shared: list[partner_checks.PartnerHit] = []

            def read(db) -> pb.CheckPersonResponse:
                hits = gate_calls.person_hits(db, identity, self._today(), self._threshold, face, self._matcher)
                mine = scope.scope_of(db, caller) if hits else scope.UNSCOPED
                shared[:] = partner_checks.person_hits(db, identity, self._today(), self._threshold)
                return pb.CheckPersonResponse(threshold=self._threshold, hits=[person_hit(h, mine) for h in hits]
                                              + [partner_person_hit(h) for h in shared])
            subject = gate_calls.person_subject(identity.surname, identity.given_names, identity.birth_date)
            response = self._audited_read(caller, "CheckPerson", subject, gate_calls.PERSON_CHECK_PURPOSE, read,
                                          _hits_outcome)
            self._owe_notices(caller, shared)
            for hit in response.hits:
                metrics.ALERT_HITS.labels("person", "face" if hit.explanation.startswith("face") else "names").inc()
            return response
        return self._call("CheckPerson", context, work)

    def AssessRisk(self, request: pb.AssessRiskRequest, context) -> pb.AssessRiskResponse:
        def work(caller: audit_log.Caller) -> pb.AssessRiskResponse:
            self._own_station("AssessRisk", caller, fields.required("station_id", request.station_id, 64))
            traveller = convert.risk_traveller(request, self._clock())
            assessed = self._db.run(lambda session: targeting.assess(session, caller, traveller, self._rules))
            return pb.AssessRiskResponse(score=assessed.score, fired=list(assessed.fired), version=assessed.version)
        return self._call("AssessRisk", context, work)

    def AddDocumentAlert(self, request: pb.AddDocumentAlertRequest, context) -> pb.DocumentAlert:
        def work(caller: audit_log.Caller) -> pb.DocumentAlert:
            new = convert.new_document_alert(request)
            return self._db.run(lambda s: convert.document_alert(alert_lists.add_document_alert(s, caller, new)))
        return self._call("AddDocumentAlert", context, work)

    def AddPersonAlert(self, request: pb.AddPersonAlertRequest, context) -> pb.PersonAlert:
        def work(caller: audit_log.Caller) -> pb.PersonAlert:
            new = convert.new_person_alert(request)
            return self._db.run(lambda s: convert.person_alert(alert_lists.add_person_alert(s, caller, new)))
        return self._call("AddPersonAlert", context, work)

    def WithdrawAlert(self, request: pb.WithdrawAlertRequest, context) -> pb.WithdrawAlertResponse:
        def work(caller: audit_log.Caller) -> pb.WithdrawAlertResponse:
            alert_id = fields.required("alert_id", request.alert_id)

            def transaction(session) -> pb.WithdrawAlertResponse:
                alert = alert_lists.withdraw_alert(session, caller, alert_id, request.reason,
                                               self._matcher if hasattr(self._matcher, "remove") else None)
                return pb.WithdrawAlertResponse(alert_id=alert.alert_id, version=alert.version)
            return self._db.run(transaction)
        return self._call("WithdrawAlert", context, work)

    def AlertDelta(self, request: pb.AlertDeltaRequest, context) -> pb.AlertDeltaResponse:
        def work(caller: audit_log.Caller) -> pb.AlertDeltaResponse:
            def transaction(session) -> pb.AlertDeltaResponse:
                delta = alert_lists.alert_delta(session, caller, request.since_version, request.limit)
                # An alert the caller's agency may not hold goes out as a withdrawal with no content.
                return pb.AlertDeltaResponse(
                    current_version=delta.version, more=delta.more,
                    document_alerts=[pb.DocumentAlert(alert_id=a.alert_id, version=a.version, withdrawn=True)
                                     if a.alert_id in delta.withheld else convert.document_alert(a)
                                     for a in delta.documents],
                    person_alerts=[pb.PersonAlert(alert_id=a.alert_id, version=a.version, withdrawn=True)
                                   if a.alert_id in delta.withheld else convert.person_alert(a)
                                   for a in delta.persons])
            return self._db.run(transaction)
        return self._call("AlertDelta", context, work)

    # ------------------------------------------------------------ crossings and referrals

    def RecordCrossing(self, request: pb.RecordCrossingRequest, context) -> pb.RecordCrossingResponse:
        def work(caller: audit_log.Caller) -> pb.RecordCrossingResponse:
            new = convert.new_crossing(request)
            self._own_station("RecordCrossing", caller, new.station)

            seen: gate_calls.StationCache = {}
            recorded = self._writes.run(
                lambda db: gate_calls.record_crossing(db, caller, new, self._rules, known=self._stations, seen=seen,
                                                      audited=False, stay_rules=self._stay_rules),
                audit=lambda done: None if done.already_recorded else gate_calls.crossing_audit_row(caller, new))
            self._stations.update(seen)  # committed now: safe to remember
            return pb.RecordCrossingResponse(
                crossing_id=recorded.crossing_id, already_recorded=recorded.already_recorded,
                risk_score=recorded.risk_score, risk_rules_fired=recorded.risk_rules_fired,
                risk_rules_version=recorded.risk_rules_version, overstay_days=recorded.overstay_days)
        return self._call("RecordCrossing", context, work)

    def CheckStay(self, request: pb.CheckStayRequest, context) -> pb.CheckStayResponse:
        def work(caller: audit_log.Caller) -> pb.CheckStayResponse:
            question = convert.stay_question(request)
            subject = f"document {question.issuing_state} {question.number_norm}"
            today = self._today()
            forwarded = _forwarded(context)
            # A post's question is judged on the rule alone: visas and permits are the post's (rpc.headquarters).
            site = forwarded and access.Role.SITE in self._authorise("CheckStay", caller)
            rules = rule_alone(self._stay_rules) if site else self._stay_rules

            def read(db) -> pb.CheckStayResponse:
                # Every traveller row holding the document: more than one only where posts' rows meet (central.sites).
                found = national_stay.authorised_nationally(db, rules, question, today).allowance
                return pb.CheckStayResponse(
                    regime=pb.CheckStayResponse.Regime.Value(found.regime.name),
                    latest_exit=fields.format_date(found.latest_exit), days_used=found.days_used,
                    refused=found.refused, on=today.isoformat())
            if self._headquarters is None or forwarded:
                return self._audited_read(caller, "CheckStay", subject, STAY_CHECK_PURPOSE, read, _stay_outcome)
            # A post asks headquarters first, and reads its own stays and permits too (audited once, with the scope).
            asker = caller.station or caller.user
            national = self._headquarters.check_stay(request, f"{STAY_CHECK_PURPOSE}, for {asker} at a post")
            own = self._db.read(read)
            if national is None:
                own.scope = "post"
                answer = own
            else:
                answer = national_answer(own, national)
            self._writes.add_row(audit_log.audit_row(caller, "CheckStay", subject,
                                                     f"{answer.scope}: {_stay_outcome(answer)}", STAY_CHECK_PURPOSE))
            return answer
        return self._call("CheckStay", context, work)

    def OpenReferral(self, request: pb.OpenReferralRequest, context) -> pb.Referral:
        def work(caller: audit_log.Caller) -> pb.Referral:
            referral_id = fields.client_uuid("referral_id", request.referral_id)
            crossing_id = fields.client_uuid("crossing_id", request.crossing_id)
            station = fields.required("station_id", request.station_id, 64)
            if caller.station:  # any caller's referral names the crossing's station (checked in open_referral)
                self._own_station("OpenReferral", caller, station)
            evidence = convert.evidence(request)
            return self._run_or_refuse(caller, "OpenReferral", f"crossing {crossing_id}",
                                       lambda s: convert.referral(referrals.open_referral(
                                           s, caller, referral_id, crossing_id, station, list(request.reasons),
                                           evidence)))
        return self._call("OpenReferral", context, work)

    def GetReferral(self, request: pb.GetReferralRequest, context) -> pb.Referral:
        def work(caller: audit_log.Caller) -> pb.Referral:
            referral_id = fields.client_uuid("referral_id", request.referral_id)
            roles = self._authorise("GetReferral", caller)
            # A gate reads only the referrals it opened; officers read any.
            gate_only = bool(roles) and not (roles & {access.Role.OFFICER, access.Role.SUPERVISOR})

            def transaction(session) -> pb.Referral:
                referral = referrals.get_referral(session, caller, referral_id,
                                                "gate: officer's decision" if gate_only else "referral review")
                if gate_only and referral.station.code != caller.station:
                    raise PermissionDenied(f"GetReferral: station {caller.station!r} did not open referral "
                                           f"{referral_id}")
                return convert.referral(referral)
            return self._run_or_refuse(caller, "GetReferral", f"referral {referral_id}", transaction)
        return self._call("GetReferral", context, work)

    def RecordDecision(self, request: pb.RecordDecisionRequest, context) -> pb.Referral:
        def work(caller: audit_log.Caller) -> pb.Referral:
            referral_id = fields.client_uuid("referral_id", request.referral_id)
            reason = fields.bounded("reason", request.reason, 400)
            decision = convert.enum_value("decision", pb.Referral.Status, request.decision, m.ReferralStatus)
            may_decide_escalated = access.permits(self._authorise("RecordDecision", caller), "DecideEscalated")
            officer = self._decision_author(caller, referral_id, request.officer)
            return self._db.run(lambda s: convert.referral(referrals.record_decision(
                s, caller, referral_id, officer, decision, reason, request.note,
                may_decide_escalated=may_decide_escalated, stay_rules=self._stay_rules)))
        return self._call("RecordDecision", context, work)

    def ListReferrals(self, request: pb.ListReferralsRequest, context) -> pb.ListReferralsResponse:
        def work(caller: audit_log.Caller) -> pb.ListReferralsResponse:
            status = (None if request.status == pb.Referral.STATUS_UNSPECIFIED
                      else convert.enum_value("status", pb.Referral.Status, request.status, m.ReferralStatus))
            border_point = fields.bounded("border_point", request.border_point, 32)
            return self._db.run(lambda s: pb.ListReferralsResponse(referrals=[
                convert.referral(r) for r in referrals.list_referrals(s, caller, status, border_point, request.limit)]))
        return self._call("ListReferrals", context, work)

    def GetCrossing(self, request: pb.GetCrossingRequest, context) -> pb.Crossing:
        def work(caller: audit_log.Caller) -> pb.Crossing:
            crossing_id = fields.client_uuid("crossing_id", request.crossing_id)
            return self._db.run(lambda s: convert.crossing(referrals.get_crossing(s, caller, crossing_id)))
        return self._call("GetCrossing", context, work)

    def GetTravellerHistory(self, request: pb.GetTravellerHistoryRequest, context) -> pb.TravellerHistory:
        def work(caller: audit_log.Caller) -> pb.TravellerHistory:
            subject = request.WhichOneof("subject")
            if subject == "document":
                number = fields.document_no("document.number", request.document.number)
                state = fields.state("document.issuing_state", request.document.issuing_state, is_required=True)

                def query(session):
                    return history.history_by_document(session, caller, number, state, request.limit)
            elif subject == "traveller":
                surname = fields.required("traveller.surname", request.traveller.surname)
                birth_date = fields.required_date("traveller.birth_date", request.traveller.birth_date)

                def query(session):
                    return history.history_by_person(session, caller, surname, request.traveller.given_names,
                                                     birth_date, request.traveller.nationality, request.limit)
            else:
                raise InvalidArgument("subject", "give a document or a traveller")

            def transaction(session) -> pb.TravellerHistory:
                crossings, referrals = query(session)
                return pb.TravellerHistory(crossings=[convert.crossing(c) for c in crossings],
                                           referrals=[convert.referral(r) for r in referrals],
                                           stays=[convert.stay(s) for s in history.stays_of(session, crossings)])
            return self._db.run(transaction)
        return self._call("GetTravellerHistory", context, work)

    # ------------------------------------------------------------ traveller files

    def CheckTravellerFile(self, request: pb.CheckTravellerFileRequest, context) -> pb.TravellerFileCheck:
        def work(caller: audit_log.Caller) -> pb.TravellerFileCheck:
            document, person = convert.document_data(request.document), convert.traveller_data(request.traveller)
            face = convert.face_template("face", request.face)

            def transaction(session) -> pb.TravellerFileCheck:
                found = files.check_file(session, caller, document, person, face, self._travellers,
                                         self._stay_rules)
                return pb.TravellerFileCheck(
                    status=pb.TravellerFileCheck.Status.Value(found.status.value), reason=found.reason,
                    file_id=found.file_id, score=found.score or 0.0, crossings=found.crossings,
                    opened_at=fields.format_instant(found.opened_at) if found.opened_at else "",
                    finger_positions=fingerprints.positions_of(session, found.file_id),
                    candidates=[pb.WatchlistCandidate(gallery=files.TRAVELLERS_GALLERY, subject_id=c.file_id,
                                                      score=c.score) for c in found.candidates])
            return self._db.run(transaction)
        return self._call("CheckTravellerFile", context, work)

    def EnrolTraveller(self, request: pb.EnrolTravellerRequest, context) -> pb.EnrolTravellerResponse:
        def work(caller: audit_log.Caller) -> pb.EnrolTravellerResponse:
            crossing_id = fields.client_uuid("crossing_id", request.crossing_id)
            face = convert.face_template("face", request.face)

            def transaction(session) -> pb.EnrolTravellerResponse:
                done = files.enrol(session, caller, crossing_id, face, request.live_capture_jpeg, self._travellers,
                                   self._stay_rules)
                return pb.EnrolTravellerResponse(file_id=done.file_id, already_enrolled=done.already_enrolled,
                                                 reason=done.reason)
            return self._db.run(transaction)
        return self._call("EnrolTraveller", context, work)

    def GetTravellerFile(self, request: pb.GetTravellerFileRequest, context) -> pb.TravellerFile:
        def work(caller: audit_log.Caller) -> pb.TravellerFile:
            file_id = fields.client_uuid("file_id", request.file_id)
            return self._db.run(lambda s: convert.traveller_file(files.read_file(s, caller, file_id)))
        return self._call("GetTravellerFile", context, work)

    # ------------------------------------------------------------ statistics and API

    def Statistics(self, request: pb.StatisticsRequest, context) -> pb.StatisticsResponse:
        def work(caller: audit_log.Caller) -> pb.StatisticsResponse:
            from central.statistics import tables as statistics

            subject = request.subject or "crossings"
            if subject not in ("crossings", "overstays"):
                raise InvalidArgument("subject", f"{subject!r} is not crossings or overstays")
            overstays = subject == "overstays"
            by, period, start, end = statistics.parse_request(
                () if overstays else request.by, request.period or "month", getattr(request, "from"), request.to)
            if overstays:
                by = statistics.parse_overstay_dimensions(request.by)

            def transaction(session) -> pb.StatisticsResponse:
                table = (reports.overstay_statistics(session, caller, by, period, start, end, self._today())
                         if overstays else reports.statistics(session, caller, by, period, start, end))

                def cell(c: statistics.Cell) -> pb.StatisticsCell:
                    return pb.StatisticsCell(period=c.period, values=list(c.values), shown=c.shown,
                                             count=0 if c.suppressed else c.count, suppressed=c.suppressed)
                return pb.StatisticsResponse(by=list(by), period=period, cells=[cell(c) for c in table.cells],
                                             period_totals=[cell(c) for c in table.period_totals],
                                             total=0 if table.total_suppressed else table.total,
                                             total_suppressed=table.total_suppressed, threshold=table.threshold)
            return self._db.run(transaction)
        return self._call("Statistics", context, work)

    def ImportApi(self, request: pb.ImportApiRequest, context) -> pb.ImportApiResponse:
        def work(caller: audit_log.Caller) -> pb.ImportApiResponse:
            from central.passengers import manifest as api

            manifest = api.Manifest(fields.required("flight", request.flight, 16),
                                    fields.bounded("border_point", request.border_point, 32),
                                    [api.Passenger(p.mrz, p.reference) for p in request.passengers])

            def transaction(session) -> pb.ImportApiResponse:
                reports = api.prescreen(session, caller, manifest, self._rules, self._clock(), self._threshold,
                                        self._matcher)
                mine = scope.scope_of(session, caller)
                return pb.ImportApiResponse(flight=manifest.flight, hits=sum(r.status == "HIT" for r in reports),
                                            reports=[pb.ApiPassengerReport(
                    index=r.index, reference=r.reference, status=r.status, error=r.error, surname=r.surname,
                    given_names=r.given_names, document_number=r.document_number, issuing_state=r.issuing_state,
                    nationality=r.nationality, birth_date=fields.format_date(r.birth_date),
                    document_hits=[document_hit(h, mine) for h in r.document_hits],
                    person_hits=[person_hit(h, mine) for h in r.person_hits], risk_score=r.risk_score,
                    risk_rules_fired=list(r.risk_rules_fired)) for r in reports])
            return self._db.run(transaction)
        return self._call("ImportApi", context, work)

    def ImportPassengerMessage(self, request: pb.ImportPassengerMessageRequest, context
                               ) -> pb.ImportPassengerMessageResponse:
        def work(caller: audit_log.Caller) -> pb.ImportPassengerMessageResponse:
            from central.passengers.intake import import_message

            imported = import_message(self._db, caller, request.message, self._clock(), self._rules,
                                      self._stay_rules)
            return pb.ImportPassengerMessageResponse(
                message_type=imported.message_type,
                lists=[pb.PassengerListStored(flight_key=s.flight_key, list_kind=s.list_kind, version=s.version,
                                              persons=s.persons, hits=s.hits, checks=s.checks,
                                              already_stored=s.already_stored,
                                              replaced_version=s.replaced_version or 0) for s in imported.lists],
                problems=[pb.MessageProblem(segment=p["segment"], tag=p["tag"], problem=p["problem"])
                          for p in imported.problems])
        return self._call("ImportPassengerMessage", context, work)

    # ------------------------------------------------------------ identities and overstays

    def _role_change(self, method: str, request: pb.RoleRequest, context) -> pb.RoleResponse:
        def work(caller: audit_log.Caller) -> pb.RoleResponse:
            kind = access.parse_kind(request.principal.kind)
            name = fields.required("principal.name", request.principal.name, 64)
            role = access.parse_role(request.principal.role) if request.principal.role else None
            if role is None and method == "GrantRole":
                raise InvalidArgument("principal.role", "is required")

            def transaction(session) -> pb.RoleResponse:
                changed = (access.grant(session, kind, name, role) if method == "GrantRole"
                           else access.revoke(session, kind, name, role) > 0)
                audit_log.audit(session, caller, method, f"{kind.value} {name}",
                              f"{role.value if role else 'all roles'}: {'changed' if changed else 'unchanged'}",
                              "identity administration")
                return pb.RoleResponse(changed=bool(changed))
            response = self._db.run(transaction)
            self._roles.clear()  # the change holds for the next call, not after the cache's lifetime
            return response
        return self._call(method, context, work)

    def GrantRole(self, request: pb.RoleRequest, context) -> pb.RoleResponse:
        return self._role_change("GrantRole", request, context)

    def RevokeRole(self, request: pb.RoleRequest, context) -> pb.RoleResponse:
        return self._role_change("RevokeRole", request, context)

    def ListPrincipals(self, request: pb.ListPrincipalsRequest, context) -> pb.ListPrincipalsResponse:
        def work(caller: audit_log.Caller) -> pb.ListPrincipalsResponse:
            def transaction(session) -> pb.ListPrincipalsResponse:
                rows = access.principals(session)
                audit_log.audit(session, caller, "ListPrincipals", "principals", f"{len(rows)} role(s)",
                              "identity administration")
                return pb.ListPrincipalsResponse(principals=[
                    pb.Principal(kind=r.kind, name=r.name, role=r.role) for r in rows])
            return self._db.run(transaction)
        return self._call("ListPrincipals", context, work)

    def ListOverstays(self, request: pb.ListOverstaysRequest, context) -> pb.ListOverstaysResponse:
        def work(caller: audit_log.Caller) -> pb.ListOverstaysResponse:
            def transaction(session) -> pb.ListOverstaysResponse:
                found = reports.list_overstays(session, caller, self._today(), request.include_exited)
                return pb.ListOverstaysResponse(overstays=[pb.Overstay(
                    traveller=pb.Traveller(surname=s.surname, given_names=s.given_names, nationality=s.nationality),
                    document=s.document, border_point=s.border_point, entry_crossing_id=s.entry_crossing_id,
                    entered_on=s.entered_on.isoformat(), allowed_until=s.allowed_until.isoformat(),
                    left_on=fields.format_date(s.left_on), days_over=s.days_over,
                    alerted_on=fields.format_date(s.alerted_on)) for s in found])
            return self._db.run(transaction)
        return self._call("ListOverstays", context, work)
