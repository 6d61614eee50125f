"""The replication link between sites: what a subscription's connection to its publisher must be.

Crossings, referrals and decisions go up and alert lists go down over these links: personal data, across
the wide-area network between a border post and headquarters. PostgreSQL sends it in clear text unless
the subscriber's connection string asks for TLS, and with `sslmode=require` it does not check whom it is
talking to. So a link to a publisher off this machine must use `sslmode=verify-full` (the publisher's
certificate checked against `sslrootcert`, and its name against the host) or `verify-ca`; a publisher on
loopback or a Unix socket (the local stand, `limes central sites stand`) is exempt.
"""
from __future__ import annotations

import ipaddress

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict

VERIFYING = ("verify-ca", "verify-full")


class LinkError(ValueError):
    """A publisher connection string that would replicate in clear or to an unverified server."""


def check_publisher(conninfo: str) -> None:
    """Refuse (LinkError) a connection string that does not read, or that reaches a publisher off this
    machine without verifying its certificate."""
    try:
        fields = conninfo_to_dict(conninfo)
    except ProgrammingError as exc:
        raise LinkError(f"the publisher's connection string does not read: {exc}") from None
    remote = [host for host in _hosts(fields) if not _local(host)]
    if remote and fields.get("sslmode") not in VERIFYING:
        raise LinkError(
            f"the link to {', '.join(remote)} would carry personal data without a verified TLS connection "
            f"(sslmode={fields.get('sslmode', 'prefer')}): give sslmode=verify-full and sslrootcert=<the "
            "publisher's CA> (docs/SITES.md, Links)")


def _hosts(fields: dict) -> list[str]:
    # libpq takes comma-separated lists; hostaddr, when given, is where it actually connects.
    named = fields.get("hostaddr") or fields.get("host") or ""
    return [host.strip() for host in str(named).split(",")] or [""]


def _local(host: str) -> bool:
    if host in ("", "localhost") or host.startswith("/") or host.startswith("@"):  # default or Unix socket
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost: it may resolve anywhere
        return False
