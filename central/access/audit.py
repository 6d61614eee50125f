"""Who is asking (Caller), and the audit_log row an access leaves (audit_row).

Every call that reads or writes personal data leaves one row, committed
before the call answers: no row, no access. Calls write it in their own
transaction, or hand it to central.database.group_commit to share a commit.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.database import models as m
from central.errors import InvalidArgument


@dataclass(frozen=True)
class Caller:
    """Who is asking and why, for the audit log."""

    station: str = ""
    user: str = ""
    purpose: str = ""


def command_line_caller(purpose: str) -> Caller:
    """Whoever runs a `limes central` command on the database: station "cli", the operating-system user."""
    return Caller(station="cli", user=getpass.getuser(), purpose=purpose)


def audit_row(caller: Caller, action: str, subject: str, outcome: str, purpose: str) -> dict:
    """The columns of one audit_log row, cut to their sizes; the caller's purpose before the standing one."""
    return dict(at=m.utcnow(), station=caller.station[:64], user_name=caller.user[:64], action=action,
                subject=subject[:400], purpose=(caller.purpose or purpose)[:200], outcome=outcome[:200])


def audit(session: Session, caller: Caller, action: str, subject: str, outcome: str, purpose: str) -> None:
    session.add(m.AuditEntry(**audit_row(caller, action, subject, outcome, purpose)))



def read_audit(session: Session, caller: Caller, limit: int, subject_contains: str = "", *, user: str = "",
               action: str = "") -> list[m.AuditEntry]:
    """The newest audit entries, optionally only those whose subject contains a text, of one user
    or of one action.

    The audit log names whose data was read, so reading it is audited as well.
    """
    if not 1 <= limit <= 10000:
        raise InvalidArgument("limit", "must be within 1..10000")
    query = select(m.AuditEntry).order_by(m.AuditEntry.id.desc()).limit(limit)
    if subject_contains:
        query = query.where(m.AuditEntry.subject.contains(subject_contains, autoescape=True))
    if user:
        query = query.where(m.AuditEntry.user_name == user)
    if action:
        query = query.where(m.AuditEntry.action == action)
    entries = list(session.scalars(query))
    filters = f"subject containing {subject_contains!r}" + (f", user {user!r}" if user else "") + (
        f", action {action!r}" if action else "")
    audit(session, caller, "ReadAuditLog", f"audit entries with {filters}", f"{len(entries)} entries",
          "audit review")
    return entries


