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
import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access import roles as access
from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument

MIN_PASSWORD_LENGTH = 12
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
# Failed sign-ins from one address, to any accounts, within LOCKOUT before that address is refused too:
# enough for a few mistyped passwords behind one address, too few to lock out more than two accounts.
MAX_FAILED_PER_SOURCE = 10
IDLE_TIMEOUT = dt.timedelta(minutes=15)
MAX_SESSION = dt.timedelta(hours=10)  # one shift
# The roles that have pages on the web desk (a gate has none).
WEB_ROLES = (access.Role.OFFICER, access.Role.SUPERVISOR, access.Role.ANALYST, access.Role.INTELLIGENCE,
             access.Role.ADMINISTRATOR)

_hasher = PasswordHasher()
# Verified against whenever no real password is checked (unknown user, locked account, refused address),
# so every refusal takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# The one answer to every refused sign-in: which of unknown user, wrong password, locked account or
# refused address it was would tell a guesser which accounts exist (the audit row says which).
REFUSED = ("wrong user name or password; after repeated failed sign-ins, sign-in is refused for a while "
           "(even with the right password): try again later or ask an administrator")


@dataclass(frozen=True)
class Timeouts:
    idle: dt.timedelta = IDLE_TIMEOUT
    absolute: dt.timedelta = MAX_SESSION
    lockout: dt.timedelta = LOCKOUT
    max_failed: int = MAX_FAILED_LOGINS
    max_failed_per_source: int = MAX_FAILED_PER_SOURCE


@dataclass(frozen=True)
class SignInResult:
    """A session token, or why not (REFUSED, but for the right password of a user without a web role)."""
    token: str | None
    refusal: str = ""


class FailedSignInsBySource:
    """Recent sign-in attempts per source address, to refuse an address after too many failures.

    Held in memory by the web desk's process (thread-safe): it restarts empty, and each process
    counts its own. An attempt counts as failed from the moment it is admitted until `succeeded`
    says otherwise, so parallel attempts from one address cannot all slip under the limit.
    """

    def __init__(self, limit: int, window: dt.timedelta):
        self._limit, self._window = limit, window
        self._attempts: dict[str, deque[dt.datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, source: str, now: dt.datetime) -> bool:
        """Whether `source` may try once more (fewer than `limit` failures within `window`)."""
        with self._lock:
            self._forget_before(now - self._window)
            # Only the last `limit` attempts are kept: a refused address hammering on stays refused.
            recent = self._attempts.setdefault(source, deque(maxlen=self._limit))
            admitted = len(recent) < self._limit
            recent.append(now)
            return admitted

    def succeeded(self, source: str, now: dt.datetime) -> None:
        """The attempt admitted at `now` was the right password: it does not count as failed."""
        with self._lock:
            recent = self._attempts.get(source)
            if recent is not None and now in recent:
                recent.remove(now)

    def _forget_before(self, cutoff: dt.datetime) -> None:
        for source in list(self._attempts):
            recent = self._attempts[source]
            while recent and recent[0] < cutoff:
                recent.popleft()
            if not recent:
                del self._attempts[source]


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
            timeouts: Timeouts, *, source: str, failures: FailedSignInsBySource,
            roles: tuple[access.Role, ...] = WEB_ROLES, opens: Callable[[str], object] | None = None,
            purpose: str = "web desk sign-in") -> SignInResult:
    """Check the password and open a session: its token (for the cookie), or the refusal.

    Every attempt is audited, with its source address. After `max_failed` wrong passwords in a
    row the account is locked for `lockout`, even to the right password; after
    `max_failed_per_source` failures from one address within `lockout` that address is refused
    for any account, so one address cannot lock out account after account. Unknown user, wrong
    password, locked account and refused address get the same answer (REFUSED) after the same
    argon2 work. A refusal is returned, not raised: the failure count and the audit row must be
    committed.

    `roles`, `opens` and `purpose` let the officer desk (central.desk.sessions) sign in with the same
    password, lock-out and audit: the roles that may sign in there, and the row the token opens
    (a web session by default).
    """
    user_name = user_name.strip()[:64]
    # The row stays locked until commit, so concurrent wrong passwords all count (PostgreSQL).
    account = session.scalar(select(m.WebAccount).where(m.WebAccount.user_name == user_name).with_for_update())
    who = Caller(caller.station, user_name or "-", caller.purpose)
    source = source or "unknown address"

    def refuse(outcome: str, message: str = REFUSED) -> SignInResult:
        audit(session, who, "SignIn", f"user {user_name or '-'}", f"{outcome} (from {source})"[:200], purpose)
        return SignInResult(None, message)

    source_admitted = failures.admit(source, now)
    locked_until = _utc(account.locked_until) if account is not None else None
    if not source_admitted or account is None or (locked_until is not None and locked_until > now):
        _spend_a_verification(password)
        if not source_admitted:
            return refuse(f"refused: {timeouts.max_failed_per_source} or more failed sign-ins from this address "
                          f"within {timeouts.lockout}")
        if account is None:
            return refuse("refused: unknown user")
        return refuse(f"refused: locked until {locked_until:%Y-%m-%d %H:%M} UTC")
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        account.failed_logins += 1
        if account.failed_logins >= timeouts.max_failed:
            account.locked_until, account.failed_logins = now + timeouts.lockout, 0
            return refuse(f"refused: wrong password, account locked for {timeouts.lockout}")
        return refuse(f"refused: wrong password ({account.failed_logins} in a row)")
    failures.succeeded(source, now)
    held = {role for role in access.roles_of(session, "", user_name) if role in roles}
    if not held:  # the right password: telling its owner why helps no guesser
        where = "the web desk" if roles == WEB_ROLES else purpose.removesuffix(" sign-in")
        return refuse(f"refused: no role on {where}", f"this account has no role on {where}")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    token = secrets.token_urlsafe(32)
    if opens is None:
        session.add(m.WebSession(token_hash=digest(token), user_name=user_name, created_at=now, last_seen_at=now))
    else:
        opens(digest(token))
    audit(session, who, "SignIn", f"user {user_name}",
          f"signed in as {', '.join(sorted(r.value for r in held))} (from {source})", purpose)
    return SignInResult(token)


def _spend_a_verification(password: str) -> None:
    """As long as checking a real password, so the answer's timing does not say why it was refused."""
    try:
        _hasher.verify(_DUMMY_HASH, password)
    except VerificationError:
        pass


@dataclass(frozen=True)
class SignedIn:
    user_name: str
    roles: frozenset[access.Role]
    session_id: int


def resume(session: Session, token: str, now: dt.datetime, *, touch: bool = True,
           timeouts: Timeouts = Timeouts()) -> SignedIn | None:
    """The signed-in user of a session token, or None (unknown, ended, idle too long, too old, no role left).

    `touch` marks the session as used; a background poll (the live queue) does
    not, so an unattended screen still times out.
    """
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(m.WebSession).where(m.WebSession.token_hash == digest(token)))
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
    return SignedIn(row.user_name, frozenset(roles), row.id)


def sign_out(session: Session, caller: Caller, token: str, now: dt.datetime) -> None:
    row = session.scalar(select(m.WebSession).where(m.WebSession.token_hash == digest(token)))
    if row is not None and row.ended_at is None:
        row.ended_at = now
        audit(session, caller, "SignOut", f"user {row.user_name}", "signed out", "web desk sign-in")


def web_roles(session: Session, user_name: str) -> set[access.Role]:
    return {role for role in access.roles_of(session, "", user_name) if role in WEB_ROLES}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
