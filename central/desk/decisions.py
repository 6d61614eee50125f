"""The officer's decision at a desk, in one transaction: the crossing, and a referral holding the
officer's decision (its author: the officer of the session, central.desk.sessions).

    admit   crossing OPEN (the traveller crossed), referral ADMITTED by the officer
    refuse  crossing REFER, referral REFUSED by the officer with the ground (A to J)
    refer   crossing REFER, referral OPEN: it waits in the web desk's queue for secondary inspection

The referral's id is the crossing's, so a decision sent again from the desk's outbox is recorded once.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy.orm import Session

from central.access.audit import Caller
from central.database import models as m
from central.desk import counter
from central.desk.grounds import ground
from central.errors import InvalidArgument
from central.records import gate_calls, referrals
from central.records.evidence import ReferralEvidence
from central.risk.rules import RiskRules
from central.stays.regime import StayRules

ADMIT, REFUSE, REFER = "ADMIT", "REFUSE", "REFER"
MANUAL_ENTRY = "mrz.manual_entry"


@dataclass(frozen=True)
class DeskDecision:
    decision: str                 # ADMIT, REFUSE or REFER
    refusal_ground: str = ""      # REFUSE: A to J
    note: str = ""
    manual_entry: bool = False
    counter_case_id: str = ""
    evidence: ReferralEvidence | None = None


@dataclass(frozen=True)
class Decided:
    crossing_id: str
    referral_id: str
    officer: str
    status: m.ReferralStatus


def record(session: Session, caller: Caller, officer: str, crossing: gate_calls.NewCrossing, decided: DeskDecision,
           rules: RiskRules, stay_rules: StayRules) -> Decided:
    """Record the officer's decision; `caller` is the desk station, `officer` the session's user."""
    if decided.decision not in (ADMIT, REFUSE, REFER):
        raise InvalidArgument("decision", "must be ADMIT, REFUSE or REFER")
    if decided.decision != REFUSE and decided.refusal_ground:
        raise InvalidArgument("refusal_ground", "only a refusal has a ground")
    reason = ground(decided.refusal_ground) if decided.decision == REFUSE else ""
    note = decided.note.strip()[:1000]
    lines = [f"desk {crossing.station}: officer {officer} decided {decided.decision.lower()}"
             + (f" (ground {reason})" if reason else "")]
    checks = list(crossing.checks)
    if decided.manual_entry:
        lines.append("MRZ entered by hand by the officer")
        checks.append({"name": MANUAL_ENTRY, "status": "NOT_DONE",
                       "reason": f"typed or corrected by officer {officer}: not read by the document reader"})
    crossing = dataclasses.replace(
        crossing, decision=m.GateDecision.OPEN if decided.decision == ADMIT else m.GateDecision.REFER,
        reasons=[*crossing.reasons, *lines], checks=checks)
    officer_caller = Caller(caller.station, officer, caller.purpose or "officer desk decision")
    gate_calls.record_crossing(session, officer_caller, crossing, rules, stay_rules=stay_rules)
    referral = referrals.open_referral(session, officer_caller, crossing.crossing_id, crossing.crossing_id,
                                       crossing.station, crossing.reasons, decided.evidence)
    if decided.decision == ADMIT:
        referral = referrals.record_decision(session, officer_caller, referral.referral_id, officer,
                                             m.ReferralStatus.ADMITTED, "admitted at the desk", note)
    elif decided.decision == REFUSE:
        referral = referrals.record_decision(session, officer_caller, referral.referral_id, officer,
                                             m.ReferralStatus.REFUSED, reason, note, stay_rules=stay_rules)
    if decided.counter_case_id:
        counter.settle(session, officer_caller, decided.counter_case_id, crossing.border_point,
                       crossing.crossing_id, officer)
    return Decided(crossing.crossing_id, referral.referral_id, officer, referral.status)
