"""Need to know: a user's unit and clearance, and whether they may read a report.

A report is read in full by a user cleared to at least its classification whose unit originated it
or was given it (shared_with); its originator always reads their own. A report owned by another
agency than the reader's (central.access.scope) is read sanitised at most, and not at all under
handling code C. Its sanitised version (which
names nobody) goes to any cleared user. A report past its review-by date is flagged; once
RESTRICT_AFTER has passed as well, only its originator and reviewers (supervisors) read it until it
is reviewed.
"""
from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument

# Lowest first.
LEVELS = ("OFFICIAL", "RESTRICTED", "CONFIDENTIAL", "SECRET")
# Where reports go whose originator belongs to no unit (an officer filing from the desk): the risk
# analysis unit takes them in.
DEFAULT_UNIT = "RAU"
RESTRICT_AFTER = dt.timedelta(days=30)


class Review(enum.Enum):
    CURRENT = "current"
    OVERDUE = "overdue"  # flagged: past its review-by date
    RESTRICTED = "restricted"  # overdue for longer than RESTRICT_AFTER: originator and reviewers only


class Access(enum.Enum):
    FULL = "full"
    SANITISED = "sanitised"
    NONE = "none"


@dataclass(frozen=True)
class Reader:
    """Who reads: their user name, their clearance (None: none), and whether they review reports."""

    user: str
    clearance: m.IntelClearance | None
    reviewer: bool = False
    # Their agency (principal_scopes, central.access.scope): another agency's report is read sanitised at most.
    agency: str = ""

    @property
    def unit(self) -> str:
        return self.clearance.unit if self.clearance else DEFAULT_UNIT

    @property
    def level(self) -> int:
        """The index in LEVELS of the highest classification they may read or write; -1: none."""
        return LEVELS.index(self.clearance.level) if self.clearance else -1


def parse_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LEVELS:
        raise InvalidArgument("classification", f"{text[:20]!r} is not one of {', '.join(LEVELS)}")
    return level


def parse_unit(text: str) -> str:
    unit = text.strip().upper()
    if not unit or len(unit) > 64 or not all(ch.isalnum() or ch in "-_" for ch in unit):
        raise InvalidArgument("unit", "1 to 64 letters, digits, '-' or '_' are required")
    return unit


def clearance_of(session: Session, user: str) -> m.IntelClearance | None:
    return session.scalar(select(m.IntelClearance).where(m.IntelClearance.user_name == user))


def reader(session: Session, user: str, reviewer: bool = False) -> Reader:
    agency = session.scalar(select(m.PrincipalScope.agency).where(m.PrincipalScope.kind == "user",
                                                                  m.PrincipalScope.name == user))
    return Reader(user, clearance_of(session, user), reviewer, agency or "")


def set_clearance(session: Session, caller: Caller, user: str, unit: str, level: str) -> m.IntelClearance:
    """Give a user a unit and a clearance level (replacing what they had); audited."""
    user = user.strip()
    if not user or len(user) > 64:
        raise InvalidArgument("user", "1 to 64 characters are required")
    unit, level = parse_unit(unit), parse_level(level)
    row = clearance_of(session, user)
    if row is None:
        row = m.IntelClearance(user_name=user)
        session.add(row)
    row.unit, row.level, row.granted_by, row.granted_at = unit, level, caller.user or caller.station, m.utcnow()
    session.flush()
    audit(session, caller, "SetClearance", f"user {user}", f"{unit} {level}", "need to know")
    return row


def review_state(report: m.IntelReport, today: dt.date) -> Review:
    if report.review_by >= today:
        return Review.CURRENT
    return Review.OVERDUE if today - report.review_by <= RESTRICT_AFTER else Review.RESTRICTED


def access_to(who: Reader, report: m.IntelReport, today: dt.date) -> tuple[Access, str]:
    """What `who` may read of `report`, and why not all of it."""
    if report.originator == who.user:
        return Access.FULL, "originator"
    if who.clearance is None:
        return Access.NONE, "no clearance"
    sanitised = (Access.SANITISED if report.sanitised_text else Access.NONE)
    if report.owning_agency and report.owning_agency != who.agency:
        # Another agency's: handling C stays with it; P goes no further than its sanitised text.
        if report.handling_code != "P":
            return Access.NONE, f"handling {report.handling_code} of {report.owning_agency}"
        return sanitised, f"a report of {report.owning_agency}: sanitised only"
    if review_state(report, today) is Review.RESTRICTED and not who.reviewer:
        return sanitised, f"review overdue since {report.review_by}: restricted until reviewed"
    if who.level < LEVELS.index(report.classification):
        return sanitised, f"classified {report.classification}, above your clearance {who.clearance.level}"
    if who.unit != report.unit and who.unit not in (report.shared_with or []):
        return sanitised, f"not disseminated to unit {who.unit}"
    return Access.FULL, "need to know"
