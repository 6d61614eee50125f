"""Risk indicators from a small TOML rule file (risk_rules.toml beside this module).

Each rule has a name, a kind (one of KINDS), a weight and the kind's
parameters. A crossing's risk score is the capped sum of the weights of the
rules that fire; the crossing stores the names and the rule set's version.
The score informs officers; it never decides anything by itself.
"""
from __future__ import annotations

import datetime as dt
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from central.database import models as m
from central.database.prepared import Prepared

DEFAULT_RULES = Path(__file__).resolve().parent / "risk_rules.toml"

# kind -> its required integer parameters
KINDS = {
    "document_expiring": ("within_days",),
    "previous_refusals": ("min_count", "lookback_days"),
    "crossing_frequency": ("min_crossings", "window_days"),
    "previous_overstay": ("lookback_days",),
}


# The history rules' queries, built once and run on the driver (central.database.prepared; session: an ORM Session or
# a Core Connection).
_REFUSALS = Prepared(select(func.count(m.OfficerDecision.id))
                     .join(m.Referral, m.OfficerDecision.referral_id == m.Referral.id)
                     .join(m.Crossing, m.Referral.crossing_id == m.Crossing.id)
                     .where(m.Crossing.traveller_id == bindparam("traveller_id"),
                            m.OfficerDecision.decision == m.ReferralStatus.REFUSED,
                            m.OfficerDecision.decided_at >= bindparam("since")))
_EARLIER_CROSSINGS = Prepared(select(func.count(m.Crossing.id)).where(
    m.Crossing.traveller_id == bindparam("traveller_id"), m.Crossing.occurred_at >= bindparam("since"),
    m.Crossing.occurred_at <= bindparam("until")))
# Stays (central.records.stays) that went past what was authorised: left late since `since`, or still open
# after their last authorised day.
_OVERSTAYS = Prepared(select(func.count(m.StayRecord.id)).where(
    m.StayRecord.traveller_id == bindparam("traveller_id"),
    or_(and_(m.StayRecord.overstay_days > 0, m.StayRecord.exit_day >= bindparam("since")),
        and_(m.StayRecord.exit_day.is_(None), m.StayRecord.allowed_until < bindparam("day")))))


class RiskConfigError(ValueError):
    """The rule file is malformed; the message names the rule and the field."""


@dataclass(frozen=True)
class RiskAssessment:
    score: float
    fired: tuple[str, ...]
    version: str


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    weight: float
    params: dict[str, int]


def _parse_rule(index: int, raw: dict[str, Any]) -> Rule:
    where = f"rule[{index}]"
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise RiskConfigError(f"{where}.name: a non-empty string is required")
    where = f"rule {name!r}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise RiskConfigError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    weight = raw.get("weight")
    if not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
        raise RiskConfigError(f"{where}.weight: a number from 0 to 1 is required")
    params = {}
    for key in KINDS[kind]:
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RiskConfigError(f"{where}.{key}: a non-negative integer is required")
        params[key] = value
    return Rule(name=name, kind=kind, weight=float(weight), params=params)


class RiskRules:
    def __init__(self, version: str, rules: list[Rule]) -> None:
        self.version = version
        self.rules = rules

    @classmethod
    def load(cls, path: Path | None = None) -> RiskRules:
        path = path or DEFAULT_RULES
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise RiskConfigError(f"{path}: {exc}") from None
        version = raw.get("version")
        if not isinstance(version, str) or not version:
            raise RiskConfigError(f"{path}: version: a non-empty string is required")
        rules = [_parse_rule(i, r) for i, r in enumerate(raw.get("rule", []))]
        names = [r.name for r in rules]
        if len(set(names)) != len(names):
            raise RiskConfigError(f"{path}: rule names must be unique")
        return cls(version, rules)

    def assess(self, session: Session, traveller_id: uuid.UUID | None, occurred_at: dt.datetime,
               expiry_date: dt.date | None) -> RiskAssessment:
        """Score a crossing about to be stored (earlier crossings and decisions only).

        traveller_id None: a traveller first seen with this crossing, who has no
        history, so only the rules about the document itself can fire.
        """
        fired = [r for r in self.rules if self._fires(r, session, traveller_id, occurred_at, expiry_date)]
        score = min(1.0, sum(r.weight for r in fired))
        return RiskAssessment(score=round(score, 4), fired=tuple(r.name for r in fired), version=self.version)

    @staticmethod
    def _fires(rule: Rule, session: Session, traveller_id: uuid.UUID | None, occurred_at: dt.datetime,
               expiry_date: dt.date | None) -> bool:
        p = rule.params
        if rule.kind == "document_expiring":
            return expiry_date is not None and (expiry_date - occurred_at.date()).days <= p["within_days"]
        if traveller_id is None:  # every other kind is about the traveller's history
            return False
        if rule.kind == "previous_refusals":
            since = occurred_at - dt.timedelta(days=p["lookback_days"])
            refusals = _REFUSALS.scalar(session, {"traveller_id": traveller_id, "since": since})
            return (refusals or 0) >= p["min_count"] > 0
        if rule.kind == "crossing_frequency":
            since = occurred_at - dt.timedelta(days=p["window_days"])
            earlier = _EARLIER_CROSSINGS.scalar(session, {"traveller_id": traveller_id, "since": since,
                                                         "until": occurred_at})
            return (earlier or 0) >= p["min_crossings"] > 0
        if rule.kind == "previous_overstay":
            day = occurred_at.astimezone(dt.timezone.utc).date() if occurred_at.tzinfo else occurred_at.date()
            since = day - dt.timedelta(days=p["lookback_days"])
            return (_OVERSTAYS.scalar(session, {"traveller_id": traveller_id, "since": since, "day": day}) or 0) > 0
        raise AssertionError(f"unvalidated rule kind {rule.kind}")
