"""Need to know between agencies: who owns a record, and what a principal of which agency may see of it.

A station or user belongs to an agency and optionally to border points, with a clearance
(`principal_scopes`; none: no agency, every border point, OFFICIAL). A record (alert, referral,
intelligence report) has an owning agency, a 3x5x2 handling code (central.intelligence.grading:
P shares lawfully, C only under the owner's recorded conditions) and a classification
(central.intelligence.clearance.LEVELS).

What a principal sees of a record (`sight`):
- FULL: the owner's own principals, or anyone when the record is unowned (issued before ownership)
  or handled P, as long as their clearance reaches its classification;
- HIT_ONLY: the fact of a hit and the handling instruction, nothing of the person or document:
  a C record of another agency, or one classified above the principal's clearance. A gate still
  refers the traveller; the details stay with the owner;
- border points narrow what a principal sees of records made at a border point (referrals).

Lists and reads show FULL records only (the rest are counted as withheld in the audit row);
asking for one record by its id that one may not see is refused and audited (NeedToKnowDenied).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.access.roles import Kind, PermissionDenied
from central.database import models as m
from central.errors import InvalidArgument
from central.intelligence.clearance import LEVELS, parse_level
from central.intelligence.grading import HANDLING_CODES, MAX_CONDITIONS

DEFAULT_CLEARANCE = LEVELS[0]


class Sight(enum.Enum):
    FULL = "full"
    HIT_ONLY = "hit_only"
    NONE = "none"


@dataclass(frozen=True)
class Scope:
    """A principal's agency ("" none), border points (empty: all) and clearance."""

    agency: str = ""
    border_points: frozenset[str] = frozenset()
    clearance: str = DEFAULT_CLEARANCE

    @property
    def level(self) -> int:
        return LEVELS.index(self.clearance)

    def covers(self, border_point: str) -> bool:
        return not self.border_points or border_point in self.border_points


UNSCOPED = Scope()


class NeedToKnowDenied(PermissionDenied):
    """A record the caller's agency, border points or clearance do not reach (gRPC PERMISSION_DENIED, web 403).
    Its message starts with the operation refused."""


def parse_agency(text: str) -> str:
    agency = text.strip().upper()
    if not agency or len(agency) > 64 or not all(ch.isalnum() or ch in "-_." for ch in agency):
        raise InvalidArgument("agency", "1 to 64 letters, digits, '-', '_' or '.' are required")
    return agency


def parse_handling(code: str, conditions: str) -> tuple[str, str]:
    """A record's handling code (P or C) and its conditions, checked as central.intelligence.grading checks them."""
    code, conditions = (code.strip().upper() or "P"), conditions.strip()
    if code not in HANDLING_CODES:
        raise InvalidArgument("handling_code", f"{code[:8]!r} is not P or C")
    if code == "C" and not conditions:
        raise InvalidArgument("handling_conditions", "handling code C needs its conditions recorded")
    if code == "P" and conditions:
        raise InvalidArgument("handling_conditions", "handling code P carries no conditions: use C")
    if len(conditions) > MAX_CONDITIONS:
        raise InvalidArgument("handling_conditions", f"longer than {MAX_CONDITIONS} characters")
    return code, conditions


def parse_classification(text: str) -> str:
    return parse_level(text) if text.strip() else DEFAULT_CLEARANCE


def sight(scope: Scope, owner: str, handling_code: str = "P", classification: str = DEFAULT_CLEARANCE,
          border_point: str = "") -> tuple[Sight, str]:
    """What `scope` may see of a record, and why not all of it."""
    if border_point and not scope.covers(border_point):
        return Sight.NONE, f"border point {border_point} is outside the principal's border points"
    if classification in LEVELS and scope.level < LEVELS.index(classification):
        return Sight.HIT_ONLY, f"classified {classification}, above the clearance {scope.clearance}"
    if not owner or owner == scope.agency:
        return Sight.FULL, "owner" if owner else "unowned"
    if handling_code == "P":
        return Sight.FULL, f"handling P of {owner}"
    return Sight.HIT_ONLY, f"handling {handling_code} of {owner}: the fact of a hit and the handling instruction"


def alert_sight(scope: Scope, alert: m.DocumentAlert | m.PersonAlert) -> tuple[Sight, str]:
    return sight(scope, alert.owning_agency, alert.handling_code, alert.classification)


def referral_sight(scope: Scope, referral: m.Referral) -> tuple[Sight, str]:
    seen, why = sight(scope, referral.owning_agency, "C", DEFAULT_CLEARANCE, referral.crossing.border_point.code)
    # A referral holds a traveller's crossing: another agency sees none of it, not even a hit.
    return (Sight.NONE, why) if seen is Sight.HIT_ONLY else (seen, why)


def require_full(action: str, subject: str, seen: tuple[Sight, str]) -> None:
    """NeedToKnowDenied unless FULL: asking for one record one may not see is refused (and the refusal audited
    by the path that asked: central.rpc's _refused, central.web.auth.deny)."""
    if seen[0] is not Sight.FULL:
        raise NeedToKnowDenied(f"{action}: {subject} is not yours to see ({seen[1]})")


# ------------------------------------------------------------------ principals' scopes

def scope_row(session: Session, kind: Kind, name: str) -> m.PrincipalScope | None:
    return session.scalar(select(m.PrincipalScope).where(m.PrincipalScope.kind == kind.value,
                                                         m.PrincipalScope.name == name))


_SCOPE = select(m.PrincipalScope.agency, m.PrincipalScope.border_points, m.PrincipalScope.clearance)


def scope_of(db, caller: Caller) -> Scope:
    """The caller's scope: its user's when it names one (a person at a station), else its station's.
    `db`: a Session or a Core Connection."""
    kind, name = (Kind.USER, caller.user) if caller.user else (Kind.STATION, caller.station)
    row = db.execute(_SCOPE.where(m.PrincipalScope.kind == kind.value, m.PrincipalScope.name == name)).first() \
        if name else None
    if row is None:
        return UNSCOPED
    return Scope(row.agency, frozenset(row.border_points or ()), row.clearance)


def set_scope(session: Session, caller: Caller, kind: Kind, name: str, agency: str,
              border_points: tuple[str, ...] = (), clearance: str = DEFAULT_CLEARANCE) -> m.PrincipalScope:
    """Put a station or user in an agency (replacing its scope); audited."""
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidArgument("name", "1 to 64 characters are required")
    agency, clearance = parse_agency(agency), parse_classification(clearance)
    points = sorted({point.strip().upper() for point in border_points if point.strip()})
    if any(len(point) > 32 for point in points):
        raise InvalidArgument("border_point", "at most 32 characters")
    row = scope_row(session, kind, name)
    if row is None:
        row = m.PrincipalScope(kind=kind.value, name=name)
        session.add(row)
    row.agency, row.border_points, row.clearance = agency, points, clearance
    row.set_by, row.set_at = (caller.user or caller.station)[:64], m.utcnow()
    session.flush()
    audit(session, caller, "SetScope", f"{kind.value} {name}",
          f"{agency} {clearance} at {', '.join(points) or 'every border point'}", "identity administration")
    return row
