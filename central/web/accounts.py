"""Web desk accounts: argon2 password hashes, sign-in with lock-out, server-side sessions.

A user's roles are the `principals` rows of kind "user" (central.access.roles), the
same the gRPC service checks; `web_accounts` adds only a password. Sessions
live in `web_sessions`: the browser holds a random token, the database its
SHA-256, so a stolen database does not hand out live sessions, and signing
out or an expiry ends a session for good.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access import roles as access
from central.database import models as m
from central.errors import InvalidArgument
from central.access.audit import Caller, audit

MIN_PASSWORD_LENGTH = 12
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
IDLE_TIMEOUT = dt.timedelta(minutes=15)
MAX_SESSION = dt.timedelta(hours=10)  # one shift
# The roles that have pages on the web desk (a gate has none).
WEB_ROLES = (access.Role.OFFICER, access.Role.SUPERVISOR, access.Role.ANALYST, access.Role.ADMINISTRATOR)

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Timeouts:
    idle: dt.timedelta = IDLE_TIMEOUT
    absolute: dt.timedelta = MAX_SESSION
    lockout: dt.timedelta = LOCKOUT
    max_failed: int = MAX_FAILED_LOGINS


@dataclass(frozen=True)
class SignInResult:
    """A session token, or why not (the message says which only where telling does not help a guesser)."""
    token: str | None
    refusal: str = ""


def _utc(instant: dt.datetime | None) -> dt.datetime | None:
    if instant is None:
        return None
    return instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant


def set_password(session: Session, caller: Caller, user_name: str, password: str, now: dt.datetime) -> bool:
    """Give a user a web password (True when the account is new); unlocks it and ends its sessions."""
    user_name = user_name.strip()
    if not user_name or len(user_name) > 64:
        raise InvalidArgument("user", "1 to 64 characters are required")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgument("password", f"at least {MIN_PASSWORD_LENGTH} characters are required")
    account = session.scalar(select(m.WebAccount).where(m.WebAccount.user_name == user_name))
    new = account is None
    if new:
        account = m.WebAccount(user_name=user_name, password_hash="", failed_logins=0)
        session.add(account)
    account.password_hash = _hasher.hash(password)
    account.failed_logins, account.locked_until, account.password_set_at = 0, None, now
    for row in session.scalars(select(m.WebSession).where(m.WebSession.user_name == user_name,
                                                           m.WebSession.ended_at.is_(None))):
        row.ended_at = now
    audit(session, caller, "SetWebPassword", f"user {user_name}", "account created" if new else "password changed",
          "identity administration")
    return new


def sign_in(session: Session, caller: Caller, user_name: str, password: str, now: dt.datetime,
            timeouts: Timeouts = Timeouts()) -> SignInResult:
    """Check the password and open a session: its token (for the cookie), or the refusal.

    Every attempt is audited. After `max_failed` wrong passwords in a row the
    account is locked for `lockout`, even to the right password. A refusal is
    returned, not raised: the failure count and the audit row must be committed.
    """
    user_name = user_name.strip()[:64]
    account = session.scalar(select(m.WebAccount).where(m.WebAccount.user_name == user_name))
    who = Caller(caller.station, user_name or "-", caller.purpose)

    def refuse(outcome: str, message: str = "wrong user name or password") -> SignInResult:
        audit(session, who, "SignIn", f"user {user_name or '-'}", outcome, "web desk sign-in")
        return SignInResult(None, message)

    if account is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return refuse("refused: unknown user")
    locked_until = _utc(account.locked_until)
    if locked_until is not None and locked_until > now:
        return refuse(f"refused: locked until {locked_until:%Y-%m-%d %H:%M} UTC",
                     "this account is locked after repeated failed sign-ins; try again later or ask an administrator")
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        account.failed_logins += 1
        if account.failed_logins >= timeouts.max_failed:
            account.locked_until, account.failed_logins = now + timeouts.lockout, 0
            return refuse(f"refused: wrong password, account locked for {timeouts.lockout}",
                         "this account is locked after repeated failed sign-ins; try again later or ask an "
                         "administrator")
        return refuse(f"refused: wrong password ({account.failed_logins} in a row)")
    roles = web_roles(session, user_name)
    if not roles:
        return refuse("refused: no role on the web desk", "this account has no role on the web desk")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    token = secrets.token_urlsafe(32)
    session.add(m.WebSession(token_hash=_digest(token), user_name=user_name, created_at=now, last_seen_at=now))
    audit(session, who, "SignIn", f"user {user_name}", "signed in as " + ", ".join(sorted(r.value for r in roles)),
          "web desk sign-in")
    return SignInResult(token)


@dataclass(frozen=True)
class SignedIn:
    user_name: str
    roles: frozenset[access.Role]


def resume(session: Session, token: str, now: dt.datetime, *, touch: bool = True,
           timeouts: Timeouts = Timeouts()) -> SignedIn | None:
    """The signed-in user of a session token, or None (unknown, ended, idle too long, too old, no role left).

    `touch` marks the session as used; a background poll (the live queue) does
    not, so an unattended screen still times out.
    """
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(m.WebSession).where(m.WebSession.token_hash == _digest(token)))
    if row is None or row.ended_at is not None:
        return None
    if now - _utc(row.last_seen_at) > timeouts.idle or now - _utc(row.created_at) > timeouts.absolute:
        row.ended_at = now
        return None
    roles = web_roles(session, row.user_name)
    if not roles:  # roles revoked since sign-in: the session ends with them
        row.ended_at = now
        return None
    if touch:
        row.last_seen_at = now
    return SignedIn(row.user_name, frozenset(roles))


def sign_out(session: Session, caller: Caller, token: str, now: dt.datetime) -> None:
    row = session.scalar(select(m.WebSession).where(m.WebSession.token_hash == _digest(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = now
        audit(session, caller, "SignOut", f"user {row.user_name}", "signed out", "web desk sign-in")


def web_roles(session: Session, user_name: str) -> set[access.Role]:
    return {role for role in access.roles_of(session, "", user_name) if role in WEB_ROLES}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
