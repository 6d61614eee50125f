"""Referrals to secondary inspection: opened by gates, read and decided by officers; and crossings read
one by one. Each read and decision is audited in the caller's transaction.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access import scope
from central.access.audit import Caller, audit
from central.access.roles import PermissionDenied
from central.database import models as m
from central.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from central.records import stays
from central.records.evidence import ReferralEvidence
from central.records.evidence import attach as attach_evidence
from central.records.gate_calls import DEFAULT_STAY_RULES, station_ids
from central.records.history import MAX_HISTORY
from central.stays.regime import StayRules

# ---------------------------------------------------------------- referrals

def open_referral(session: Session, caller: Caller, referral_id: str, crossing_id: str, station_code: str,
                  reasons: list[str], evidence: ReferralEvidence | None = None) -> m.Referral:
    """Open a referral once, with the gate's evidence (central.records.evidence); a retry returns the stored one."""
    existing = session.scalar(select(m.Referral).where(m.Referral.referral_id == referral_id))
    if existing is not None:
        if existing.crossing.crossing_id != crossing_id:
            raise AlreadyExists(f"referral_id {referral_id} belongs to crossing {existing.crossing.crossing_id}")
        return existing
    crossing = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == crossing_id))
    if crossing is None:
        raise NotFound("crossing", crossing_id)
    if crossing.station.code != station_code:
        # The station handing over is the one that recorded the crossing, whoever calls (an officer's
        # certificate names no station): a referral cannot be put in another station's name.
        raise PermissionDenied(f"station_id: crossing {crossing_id} was recorded by station "
                               f"{crossing.station.code!r}, not {station_code!r}")
    station_id, _ = station_ids(session, station_code, crossing.border_point.code)
    referral = m.Referral(referral_id=referral_id, crossing=crossing, station_id=station_id,
                          status=m.ReferralStatus.OPEN, reasons=list(reasons), opened_at=m.utcnow(),
                          watchlist_candidates=[],
                          # Owned by the agency of the station that referred, whoever hands it over.
                          owning_agency=scope.scope_of(session, Caller(station=station_code)).agency)
    session.add(referral)
    session.flush()
    kept = ""
    if evidence is not None:
        left_out = attach_evidence(session, referral, evidence)
        kept = f", evidence kept{f' ({len(left_out)} part(s) left out)' if left_out else ''}"
    audit(session, caller, "OpenReferral", f"crossing {crossing_id}", f"referral {referral_id} OPEN{kept}",
          "referral")
    return referral


def get_referral(session: Session, caller: Caller, referral_id: str, purpose: str = "referral review") -> m.Referral:
    referral = session.scalar(select(m.Referral).where(m.Referral.referral_id == referral_id))
    if referral is None:
        raise NotFound("referral", referral_id)
    scope.require_full("GetReferral", f"referral {referral_id}",
                       scope.referral_sight(scope.scope_of(session, caller), referral))
    audit(session, caller, "GetReferral", f"referral {referral_id}",
          f"{referral.status.value}, document {referral.crossing.document.issuing_state} "
          f"{referral.crossing.document.number_norm}", purpose)
    return referral


_DECIDABLE = {m.ReferralStatus.OPEN, m.ReferralStatus.ESCALATED}
_DECISIONS = {m.ReferralStatus.ADMITTED, m.ReferralStatus.REFUSED, m.ReferralStatus.ESCALATED}


def record_decision(session: Session, caller: Caller, referral_id: str, officer: str,
                    decision: m.ReferralStatus, reason: str, note: str, *,
                    may_decide_escalated: bool = True, stay_rules: StayRules = DEFAULT_STAY_RULES) -> m.Referral:
    """Record an officer's decision. An escalated referral waits for someone who may decide it
    (a supervisor: access "DecideEscalated"); `may_decide_escalated` says whether the caller may.
    A refusal takes back what its crossing did to the stays (central.records.stays.refused), by `stay_rules`."""
    if decision not in _DECISIONS:
        raise InvalidArgument("decision", f"must be ADMITTED, REFUSED or ESCALATED, not {decision.value}")
    if decision is m.ReferralStatus.REFUSED and not reason.strip():
        raise InvalidArgument("reason", "a refusal must state its ground")
    referral = session.scalar(select(m.Referral).where(m.Referral.referral_id == referral_id))
    if referral is None:
        raise NotFound("referral", referral_id)
    scope.require_full("RecordDecision", f"referral {referral_id}",
                       scope.referral_sight(scope.scope_of(session, caller), referral))
    last = referral.decisions[-1] if referral.decisions else None
    if last is not None and (last.officer, last.decision, last.reason, last.note) == (officer, decision, reason, note):
        return referral  # a retried call: the decision is already recorded
    if referral.status not in _DECIDABLE:
        raise FailedPrecondition(f"referral {referral_id} is already {referral.status.value}")
    if referral.status is m.ReferralStatus.ESCALATED and not may_decide_escalated:
        raise PermissionDenied(f"referral {referral_id} was escalated: a supervisor decides it")
    session.add(m.OfficerDecision(referral=referral, officer=officer, decision=decision, reason=reason,
                                  note=note, decided_at=m.utcnow()))
    referral.status = decision
    session.flush()
    if decision is m.ReferralStatus.REFUSED:
        stays.refused(session.connection(), stay_rules, referral.crossing)
    audit(session, caller, "RecordDecision", f"referral {referral_id}", f"{decision.value} by {officer}",
          "referral decision")
    return referral


MAX_REFERRAL_LIST = 1000


def list_referrals(session: Session, caller: Caller, status: m.ReferralStatus | None, border_point: str,
                   limit: int, *, newest_first: bool = False, audited: bool = True) -> list[m.Referral]:
    """Referrals in a status (None: still waiting, OPEN or ESCALATED), oldest first (or newest first).

    `audited=False` leaves the audit row to the caller: the web desk's live queue audits each referral
    a refresh shows for the first time, not every refresh (central.web.desk)."""
    if not 0 <= limit <= MAX_REFERRAL_LIST:
        raise InvalidArgument("limit", f"must be within 0..{MAX_REFERRAL_LIST}")
    statuses = [status] if status else [m.ReferralStatus.OPEN, m.ReferralStatus.ESCALATED]
    order = ((m.Referral.opened_at.desc(), m.Referral.id.desc()) if newest_first
             else (m.Referral.opened_at, m.Referral.id))
    query = select(m.Referral).where(m.Referral.status.in_(statuses)).order_by(*order).limit(limit or MAX_HISTORY)
    mine = scope.scope_of(session, caller)
    # Need to know (central.access.scope): referrals of the caller's agency (or of none), at its border points.
    query = query.where(m.Referral.owning_agency.in_(["", mine.agency]))
    if border_point or mine.border_points:
        query = query.join(m.Crossing, m.Referral.crossing_id == m.Crossing.id).join(
            m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id)
    if border_point:
        query = query.where(m.BorderPoint.code == border_point)
    if mine.border_points:
        query = query.where(m.BorderPoint.code.in_(sorted(mine.border_points)))
    referrals = list(session.scalars(query))
    if not audited:
        return referrals
    audit(session, caller, "ListReferrals",
          f"referrals {'/'.join(s.value for s in statuses)} at {border_point or 'all border points'}",
          f"{len(referrals)} referral(s)", "referral queue")
    return referrals


def get_crossing(session: Session, caller: Caller, crossing_id: str) -> m.Crossing:
    crossing = session.scalar(select(m.Crossing).where(m.Crossing.crossing_id == crossing_id))
    if crossing is None:
        raise NotFound("crossing", crossing_id)
    audit(session, caller, "GetCrossing", f"crossing {crossing_id}",
          f"document {crossing.document.issuing_state} {crossing.document.number_norm}", "crossing review")
    return crossing
