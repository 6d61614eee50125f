"""Risk profiles as rules the gates apply: written and versioned by analysts, applied to a traveller at
the gate (AssessRisk) together with central's TOML risk rules, and judged by their yield.

A gate asks before it decides: the score it gets (the capped sum of the weights of the profiles and
rules that fire) enters its decision (edge.policy: a high score refers). The names of what fired go
to the officer with the referral, never to the traveller's screen. Each profile version that selects
a traveller is recorded by the gate's crossing id, so that officers' decisions on the crossings'
referrals give each profile its yield.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument, NotFound
from central.intelligence import profiles
from central.intelligence.profiles import ProfileError, Subject
from central.risk.rules import RiskRules
from drivers.alertmatch.normalize import name_key, state_code

# A profile is flagged for review when at least this many of its selections were decided by officers
# and fewer than this share of those were refused.
MIN_DECIDED, POOR_YIELD = 10, 0.05


@dataclass(frozen=True)
class Traveller:
    """Who is at the gate and where, as the gate read it."""

    crossing_id: str
    surname: str
    given_names: str
    birth_date: dt.date | None
    nationality: str
    document_type: str
    border_point: str
    direction: str
    occurred_at: dt.datetime
    expiry_date: dt.date | None = None


@dataclass(frozen=True)
class Assessment:
    score: float
    # What fired: "profile NAME vN" and the TOML rules' names. For the officer only.
    fired: tuple[str, ...]
    version: str


@dataclass
class Yield:
    profile: m.RiskProfile
    selected: int = 0
    referred: int = 0
    refused: int = 0
    admitted: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        decided = self.refused + self.admitted
        return self.refused / decided if decided else None


def write_profile(session: Session, caller: Caller, name: str, raw_conditions: dict, weight: float,
                  rationale: str) -> m.RiskProfile:
    """A new profile, or the next version of one (retiring the current); refused ones are audited too."""
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidArgument("name", "1 to 64 characters are required")
    if not 0 < weight <= 1:
        raise InvalidArgument("weight", "a number above 0 and at most 1 is required")
    if len(rationale) > 5000:
        raise InvalidArgument("rationale", "at most 5000 characters")
    conditions = profiles.parse(raw_conditions)
    current = _current(session, name)
    if current is not None:
        current.retired_at = m.utcnow()
    profile = m.RiskProfile(name=name, version=(current.version + 1) if current else 1, conditions=conditions,
                            weight=round(weight, 3), rationale=rationale.strip(), author=caller.user or caller.station,
                            created_at=m.utcnow())
    session.add(profile)
    session.flush()
    audit(session, caller, "RiskProfiles", f"profile {name} v{profile.version}",
          f"written: {profiles.describe(conditions)}, weight {profile.weight}", "risk profiles")
    return profile


def refused_profile(session: Session, caller: Caller, name: str, error: ProfileError) -> None:
    """Keep a trace of a profile refused (e.g. on nationality alone), in a transaction of its own."""
    audit(session, caller, "RiskProfiles", f"profile {name.strip()[:64]}", f"NOT WRITTEN: {error}", "risk profiles")


def retire_profile(session: Session, caller: Caller, name: str) -> m.RiskProfile:
    current = _current(session, name)
    if current is None:
        raise NotFound("active profile", name)
    current.retired_at = m.utcnow()
    audit(session, caller, "RiskProfiles", f"profile {name} v{current.version}", "retired", "risk profiles")
    return current


def _current(session: Session, name: str) -> m.RiskProfile | None:
    return session.scalar(select(m.RiskProfile).where(m.RiskProfile.name == name,
                                                      m.RiskProfile.retired_at.is_(None)))


def active_profiles(session: Session) -> list[m.RiskProfile]:
    return list(session.scalars(select(m.RiskProfile).where(m.RiskProfile.retired_at.is_(None))
                                .order_by(m.RiskProfile.name)))


def _traveller_id(session: Session, who: Traveller) -> int | None:
    if who.birth_date is None:
        return None
    return session.scalar(select(m.Traveller.id).where(
        m.Traveller.name_key == name_key(who.surname, who.given_names), m.Traveller.birth_date == who.birth_date,
        m.Traveller.nationality == state_code(who.nationality)).limit(1))


def assess(session: Session, caller: Caller, who: Traveller, rules: RiskRules) -> Assessment:
    """The traveller's risk before the gate decides: active profiles and the TOML rules; audited."""
    traveller_id = _traveller_id(session, who)

    def crossings_within(days: int) -> int:
        if traveller_id is None:
            return 0
        return session.scalar(select(func.count(m.Crossing.id)).where(
            m.Crossing.traveller_id == traveller_id, m.Crossing.occurred_at >= who.occurred_at - dt.timedelta(days),
            m.Crossing.occurred_at < who.occurred_at)) or 0
    subject = Subject(state_code(who.nationality), who.birth_date, who.border_point.strip().upper(),
                      who.direction.upper(), who.document_type.upper()[:2], who.occurred_at.date(), crossings_within)
    matched = [p for p in active_profiles(session) if profiles.matches(p.conditions, subject)]
    known = {row for row in session.scalars(select(m.RiskProfileSelection.profile_id).where(
        m.RiskProfileSelection.crossing_id == who.crossing_id))} if matched else set()
    for profile in matched:
        if profile.id not in known:  # a retried call selects once
            session.add(m.RiskProfileSelection(profile_id=profile.id, crossing_id=who.crossing_id,
                                               selected_at=m.utcnow()))
    ruled = rules.assess(session, traveller_id, who.occurred_at, who.expiry_date)
    score = round(min(1.0, ruled.score + sum(p.weight for p in matched)), 4)
    fired = tuple(f"profile {p.name} v{p.version}" for p in matched) + ruled.fired
    newest = max((p.id for p in matched), default=0)
    audit(session, caller, "AssessRisk", f"crossing {who.crossing_id}",
          f"score {score}" + (f": {', '.join(fired)}" if fired else ""), "border check: risk")
    return Assessment(score, fired, f"{ruled.version}+profiles:{newest}")


def yields(session: Session, include_retired: bool = False) -> list[Yield]:
    """Each profile version's selections and what officers made of them, poor yields flagged."""
    query = select(m.RiskProfile).order_by(m.RiskProfile.name, m.RiskProfile.version.desc())
    if not include_retired:
        query = query.where(m.RiskProfile.retired_at.is_(None))
    result = {p.id: Yield(p) for p in session.scalars(query)}
    if not result:
        return []
    counts = session.execute(
        select(m.RiskProfileSelection.profile_id, func.count(m.RiskProfileSelection.id))
        .where(m.RiskProfileSelection.profile_id.in_(result)).group_by(m.RiskProfileSelection.profile_id))
    for profile_id, count in counts:
        result[profile_id].selected = count
    referrals = session.execute(
        select(m.RiskProfileSelection.profile_id, m.Referral.status, func.count(m.Referral.id))
        .join(m.Crossing, m.Crossing.crossing_id == m.RiskProfileSelection.crossing_id)
        .join(m.Referral, m.Referral.crossing_id == m.Crossing.id)
        .where(m.RiskProfileSelection.profile_id.in_(result))
        .group_by(m.RiskProfileSelection.profile_id, m.Referral.status))
    for profile_id, status, count in referrals:
        row = result[profile_id]
        row.referred += count
        if status is m.ReferralStatus.REFUSED:
            row.refused += count
        elif status is m.ReferralStatus.ADMITTED:
            row.admitted += count
    for row in result.values():
        decided = row.refused + row.admitted
        if decided >= MIN_DECIDED and (row.rate or 0) < POOR_YIELD:
            row.flags.append(f"poor yield: {row.refused} of {decided} decided refused; review the profile")
    return list(result.values())
