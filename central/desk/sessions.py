"""Officer sessions at a desk station.

The desk station (its certificate, role "desk") asks for a session with the officer's user name
and password: checked as the web desk's sign-in is (central.web.accounts.sign_in: argon2, lock-out,
audit), for a user holding the officer or supervisor role. The session is bound to the station that
asked: another station holding the token gets nothing from it. Only the token's SHA-256 is kept.

A desk working offline keeps deciding under the session it had, and its outbox sends the decisions
later: a decision is judged by the session as it was when the decision was made (`occurred_at`),
which must lie within the session's life (not before it opened, within a shift), and the session must
not have been signed out (the desk's outbox sends the sign-out after the decisions waiting before it).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access import roles as access
from central.access.audit import Caller, audit
from central.access.roles import PermissionDenied
from central.database import models as m
from central.web import accounts

DESK_ROLES = (access.Role.OFFICER, access.Role.SUPERVISOR)
PURPOSE = "officer desk sign-in"
IDLE_TIMEOUT = dt.timedelta(minutes=30)
MAX_SESSION = dt.timedelta(hours=10)  # one shift
# How far a desk's clock may be off central's (the decision's stamp against the session's times).
CLOCK_SLACK = dt.timedelta(minutes=2)

# Sign-in failures per source (here: per desk station), as the web desk counts them per address.
_FAILURES = accounts.FailedSignInsBySource(accounts.MAX_FAILED_PER_SOURCE, accounts.LOCKOUT)


@dataclass(frozen=True)
class Opened:
    token: str | None
    officer: str = ""
    expires_at: dt.datetime | None = None
    refusal: str = ""


def open_session(session: Session, caller: Caller, user_name: str, password: str, now: dt.datetime) -> Opened:
    """Sign an officer in at the calling desk station (caller.station); Opened.token None with the refusal."""
    if not caller.station:
        raise PermissionDenied("OpenOfficerSession: only a desk station opens officer sessions")

    def opens(token_hash: str) -> None:
        session.add(m.DeskSession(token_hash=token_hash, user_name=user_name.strip(), station=caller.station,
                                  created_at=now, last_seen_at=now))

    result = accounts.sign_in(session, Caller(caller.station, "", PURPOSE), user_name, password, now,
                              accounts.Timeouts(), source=f"desk {caller.station}", failures=_FAILURES,
                              roles=DESK_ROLES, opens=opens, purpose=PURPOSE)
    if result.token is None:
        return Opened(None, refusal=result.refusal)
    return Opened(result.token, user_name.strip(), now + MAX_SESSION)


def officer_of(session: Session, station: str, token: str, now: dt.datetime, *,
               at: dt.datetime | None = None) -> str:
    """The officer of a live session bound to `station`; PermissionDenied otherwise.

    `at`: when the act happened (a decision kept in the desk's outbox while central was down):
    the session must have been open then. Without it, the session must be open now and not idle.
    """
    row = session.scalar(select(m.DeskSession).where(m.DeskSession.token_hash == accounts.digest(token or "")))
    if row is None or not token:
        raise PermissionDenied("officer session: unknown token; the officer must sign in at the desk")
    if row.station != station:
        raise PermissionDenied(f"officer session: opened at desk {row.station!r}, not usable by {station!r}")
    created, ended, seen = _utc(row.created_at), _utc(row.ended_at), _utc(row.last_seen_at)
    if at is None:
        if ended is not None or now - seen > IDLE_TIMEOUT or now - created > MAX_SESSION:
            if ended is None:
                row.ended_at = now
            raise PermissionDenied("officer session: ended or expired; the officer must sign in again")
        row.last_seen_at = now
    else:
        if ended is not None:  # signed out: the desk sends its sign-out after its waiting decisions
            raise PermissionDenied("officer session: the officer signed out; the officer must sign in again")
        if at < created - CLOCK_SLACK or at > now + CLOCK_SLACK or at - created > MAX_SESSION:
            raise PermissionDenied(f"officer session: not open at {at.isoformat()}")
    if not set(access.roles_of(session, "", row.user_name)) & set(DESK_ROLES):
        raise PermissionDenied(f"officer session: {row.user_name!r} no longer holds an officer's role")
    return row.user_name


def close_session(session: Session, caller: Caller, token: str, now: dt.datetime) -> None:
    row = session.scalar(select(m.DeskSession).where(m.DeskSession.token_hash == accounts.digest(token or "")))
    if row is not None and row.ended_at is None and row.station == caller.station:
        row.ended_at = now
        audit(session, Caller(caller.station, row.user_name, PURPOSE), "SignOut", f"user {row.user_name}",
              f"signed out at desk {caller.station}", PURPOSE)


def _utc(instant: dt.datetime | None) -> dt.datetime | None:
    if instant is None:
        return None
    return instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant
