"""Who may call what: roles of stations and users, checked on every call.

A caller is a station or a user: under mutual TLS the one its client
certificate names, in plaintext the pair (x-limes-station, x-limes-user) from
gRPC metadata (central.rpc.servicer.caller_of). Each may be registered in the
`principals` table with one or more roles; a call is allowed when a role of
the station or of the user permits it.

The roles of a caller are read from the database at most every few seconds
(RoleCache): a change made through this server's GrantRole/RevokeRole takes
effect at once, one made elsewhere (`limes central identity`, another server
over the same database) within the cache's lifetime.

Access is closed unless a server is started with open access, explicitly
(`AccessPolicy.demo()`, `limes central serve --open-access`; `limes demo` does):
it lets a caller who is registered nowhere read as an officer (history, queue,
one crossing) and nothing else: enough for people trying the demo, never a write.
The kind of database never opens it.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from central.database import models as m
from central.errors import CentralError, InvalidArgument

log = logging.getLogger(__name__)


class Role(enum.Enum):
    GATE = "gate"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    # The risk analysis unit's intelligence analyst: reads graded reports and networks on need to know.
    INTELLIGENCE = "intelligence"
    ADMINISTRATOR = "administrator"
    # A primary-line officer desk (a station): the gate's checks, and the officer's acts under an
    # officer session (central.desk.sessions), which names the person who decides.
    DESK = "desk"
    # A border post's central, registered at headquarters as a station: it asks for the stay on every
    # post's crossings before its own gates and desks admit (central.rpc.headquarters). Nothing else.
    SITE = "site"


class Kind(enum.Enum):
    STATION = "station"
    USER = "user"


# The read-only part of an officer's work, also what open access grants.
OFFICER_READS = frozenset({"GetTravellerHistory", "ListReferrals", "GetCrossing", "GetReferral",
                           "GetTravellerFile"})
# "ViewPhoto" is the web desk's (central.web): a face image, served by its opaque token.
_OFFICER = OFFICER_READS | {"CheckDocument", "CheckPerson", "CheckStay", "RecordDecision", "OpenReferral",
                            "ViewPhoto", "ViewTargeting", "FileIntelReport",
                            # What a traveller file holds of fingers (no template, no image): not open access's.
                            "GetFileFingerprints"}
# central.intelligence's operations, beyond filing a report: reading reports (on need to know as well),
# the intelligence cycle, link analysis, risk profiles, trends and export to partners (STIX); and the
# PNR links (ReadPnrLinks) that link analysis draws on: booking references, phones, addresses PNRs share.
_INTELLIGENCE = frozenset({"FileIntelReport", "ReadIntelReports", "IntelCycle", "LinkAnalysis", "RiskProfiles",
                           "Trends", "Statistics", "ExportIntel", "ReadPnrLinks"})

# RPC names, and the web desk's own operations (ViewPhoto, ListAlerts, UpdateAlert, EnrolFace,
# ReadAuditLog, DecideEscalated). The `limes central` commands (audit, purge, export) work on the
# database directly and are for whoever holds its credentials (see docs/CENTRAL.md).
PERMISSIONS: dict[Role, frozenset[str]] = {
    # A gate reads back only the referrals it opened (GetReferral: what the officer decided).
    # A gate checks a traveller's file and opens one (CheckTravellerFile, EnrolTraveller), never reads it.
    Role.GATE: frozenset({"CheckDocument", "CheckPerson", "CheckStay", "RecordCrossing", "OpenReferral",
                          "AlertDelta", "GetReferral", "CheckTravellerFile", "EnrolTraveller", "AssessRisk",
                          "HandToCounter", "VerifyFileFingerprints"}),
    # The desk records nothing in its own name: a crossing, a decision, a history read, the counter's
    # cases or an intelligence report go through RecordDeskDecision and the officer session's calls
    # (central.rpc.desk; a report also needs the officer's own FileIntelReport).
    Role.DESK: frozenset({"CheckDocument", "CheckPerson", "CheckStay", "AlertDelta", "CheckTravellerFile",
                          "AssessRisk", "OpenOfficerSession", "CloseOfficerSession", "RecordDeskDecision",
                          "DeskHistory", "ListCounterCases", "FileIntelligenceReport",
                          # Fingers: enrolled under the officer session (central.rpc.fingerprints), verified.
                          "EnrolFileFingerprints", "VerifyFileFingerprints"}),
    Role.OFFICER: _OFFICER,
    # CheckStay only: a post's gates and desks are registered at the post, not here; the post answers for
    # them, and the read is audited at both (here under the post's name, the asker in its purpose).
    Role.SITE: frozenset({"CheckStay"}),
    # Supervisors do what officers do, decide escalated referrals, read the audit log and the alert
    # lists, and see overstays and flight manifests.
    # ImportPassengerMessage: advance passenger data (PAXLST, PNRGOV); ViewTargeting, ReconcileApi and
    # ReadPnrLinks are the web desk's pages of it (central.web.passengers).
    # Supervisors also read intelligence reports, review overdue ones and issue taskings.
    Role.SUPERVISOR: _OFFICER | {"DecideEscalated", "ReadAuditLog", "ListAlerts", "ListOverstays", "ImportApi",
                                 "ImportPassengerMessage", "ReconcileApi", "ReadPnrLinks", "ReadIntelReports",
                                 "IntelCycle", "IssueTasking", "ReviewIntelReports"},
    # Analysts see numbers, never a name.
    Role.ANALYST: frozenset({"Statistics", "Trends"}),
    Role.INTELLIGENCE: _INTELLIGENCE,
    Role.ADMINISTRATOR: frozenset({"AddDocumentAlert", "AddPersonAlert", "WithdrawAlert", "AlertDelta",
                                   "ListAlerts", "UpdateAlert", "EnrolFace", "ViewPhoto",
                                   "GrantRole", "RevokeRole", "ListPrincipals", "ImportApi",
                                   "ImportPassengerMessage", "SetClearance",
                                   # the web desk's page of replication between sites (central.web.sites)
                                   "ReplicationStatus"}),
}


def permits(roles: set[Role], operation: str) -> bool:
    return any(operation in PERMISSIONS[role] for role in roles)


class PermissionDenied(CentralError):
    """The caller is unknown or none of its roles permits the operation (gRPC PERMISSION_DENIED)."""


@dataclass(frozen=True)
class AccessPolicy:
    """The identities to register at start and whether unknown callers may read as officers.

    `bootstrap` maps (kind, name) to roles and is written to `principals` at
    start (existing rows are kept). `open_access` is for the embedded demo only.
    The default, AccessPolicy(), is closed: nobody registered, no open access.
    """

    bootstrap: dict[tuple[Kind, str], tuple[Role, ...]] = field(default_factory=dict)
    open_access: bool = False

    @classmethod
    def demo(cls) -> AccessPolicy:
        """The demo's, chosen explicitly (`limes demo`, `--open-access`): the demo gate and the demo
        administrator registered, unknown users read as officers."""
        return cls(bootstrap={(Kind.STATION, "DEMO-EGATE-01"): (Role.GATE,),
                              (Kind.USER, "demo-admin"): (Role.ADMINISTRATOR,)}, open_access=True)


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidArgument("role", f"{text!r} is not one of {', '.join(r.value for r in Role)}") from None


def parse_kind(text: str) -> Kind:
    try:
        return Kind(text.strip().lower())
    except ValueError:
        raise InvalidArgument("kind", f"{text!r} is not station or user") from None


def grant(session: Session, kind: Kind, name: str, role: Role) -> bool:
    """Give a station or user a role; False when it had it already."""
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidArgument("name", "1 to 64 characters are required")
    exists = session.scalar(select(m.Principal).where(
        m.Principal.kind == kind.value, m.Principal.name == name, m.Principal.role == role.value))
    if exists is not None:
        return False
    session.add(m.Principal(kind=kind.value, name=name, role=role.value, created_at=m.utcnow()))
    session.flush()
    return True


def revoke(session: Session, kind: Kind, name: str, role: Role | None = None) -> int:
    """Take one role (or all, with role None) from a station or user; the number of roles removed."""
    query = select(m.Principal).where(m.Principal.kind == kind.value, m.Principal.name == name.strip())
    if role is not None:
        query = query.where(m.Principal.role == role.value)
    rows = list(session.scalars(query))
    for row in rows:
        session.delete(row)
    return len(rows)


def principals(session: Session) -> list[m.Principal]:
    return list(session.scalars(select(m.Principal).order_by(m.Principal.kind, m.Principal.name, m.Principal.role)))


def apply_bootstrap(session: Session, policy: AccessPolicy) -> None:
    for (kind, name), roles in policy.bootstrap.items():
        for role in roles:
            grant(session, kind, name, role)


_ROLES = select(m.Principal.kind, m.Principal.name, m.Principal.role).where(
    or_(m.Principal.name == bindparam("station"), m.Principal.name == bindparam("user")))


def roles_of(db, station: str, user: str) -> set[Role]:
    """The roles of the station and of the user (db: a Session or Connection)."""
    names = {(Kind.STATION.value, station), (Kind.USER.value, user)}
    rows = db.execute(_ROLES, {"station": station or None, "user": user or None}).all()
    return {Role(role) for kind, name, role in rows if (kind, name) in names}


def authorise(session: Session, policy: AccessPolicy, station: str, user: str, operation: str) -> set[Role]:
    """The caller's roles when one of them (or open access) permits `operation`; else PermissionDenied."""
    return permit(policy, roles_of(session, station, user), station, user, operation)


def permit(policy: AccessPolicy, roles: set[Role], station: str, user: str, operation: str) -> set[Role]:
    """`roles` when one of them (or open access) permits `operation`; else PermissionDenied."""
    if permits(roles, operation):
        return roles
    who = f"station {station or '-'!r}, user {user or '-'!r}"
    if roles:
        raise PermissionDenied(f"{operation} is not permitted to {who} (roles: "
                               f"{', '.join(sorted(r.value for r in roles))})")
    if policy.open_access and user and operation in OFFICER_READS:
        return set()
    raise PermissionDenied(f"{operation}: {who} is not registered at central"
                           + (" (open access lets unregistered users only read as officers)"
                              if policy.open_access else ""))


class RoleCache:
    """The roles of recent callers, each kept `ttl_s` seconds (0: not kept).

    Every call needs its caller's roles; reading them costs a transaction of
    its own, which on SQLite is one more turn at the write lock. Gates call
    several times per traveller with the same identity, so a few seconds of
    memory remove nearly all of those reads. clear() forgets everything (a
    role changed through this server).
    """

    def __init__(self, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._roles: dict[tuple[str, str], tuple[float, frozenset[Role]]] = {}
        self._lock = threading.Lock()
        self.generation = 0  # counts clear(): roles read before a change must not be kept after it

    def get(self, station: str, user: str) -> frozenset[Role] | None:
        with self._lock:
            found = self._roles.get((station, user))
        if found is None or self._clock() >= found[0]:
            return None
        return found[1]

    def put(self, station: str, user: str, roles: set[Role], generation: int) -> None:
        """Keep roles read when `generation` was current; dropped if clear() came in between."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._roles) > 10_000:  # callers that come and go: start afresh rather than grow
                self._roles.clear()
            self._roles[(station, user)] = (self._clock() + self.ttl_s, frozenset(roles))

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._roles.clear()
