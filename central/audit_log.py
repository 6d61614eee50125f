"""Who is asking (Caller), and the audit_log row an access leaves (audit_row).

Every call that reads or writes personal data leaves one row, committed
before the call answers: no row, no access. Calls write it in their own
transaction, or hand it to central.group_commit to share a commit.
"""
from __future__ import annotations

from dataclasses import dataclass

from central import models as m


@dataclass(frozen=True)
class Caller:
    """Who is asking and why, for the audit log."""

    station: str = ""
    user: str = ""
    purpose: str = ""


def audit_row(caller: Caller, action: str, subject: str, outcome: str, purpose: str) -> dict:
    """The columns of one audit_log row, cut to their sizes; the caller's purpose before the standing one."""
    return dict(at=m.utcnow(), station=caller.station[:64], user_name=caller.user[:64], action=action,
                subject=subject[:400], purpose=(caller.purpose or purpose)[:200], outcome=outcome[:200])
