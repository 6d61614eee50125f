"""Links between PNRs for network analysis: booking references, contacts, addresses, payments and agencies they
share.

The table pnr_links holds one row per value a PNR carries (central.passengers.storage writes it);
two PNRs are linked when they carry the same (kind, value). Payments are linked by a digest of the
account number, never by the number. These functions are the way in for the intelligence work:
`shared_values` lists the values several PNRs share, `linked_pnrs` the PNRs one PNR is linked to.
Both are audited.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument, NotFound

KINDS = ("booking", "contact", "address", "payment", "agency")
PURPOSE = "advance passenger information: network analysis"


def _pnr_rows(session: Session, pnr_ids: list[int]) -> dict[int, dict]:
    rows = session.execute(
        select(m.PnrRecord.id, m.PnrRecord.locator, m.PnrRecord.carrier, m.ApiFlight.flight_key)
        .join(m.ApiManifest, m.PnrRecord.manifest_id == m.ApiManifest.id)
        .join(m.ApiFlight, m.ApiManifest.flight_id == m.ApiFlight.id)
        .where(m.PnrRecord.id.in_(pnr_ids))).all() if pnr_ids else []
    return {r.id: {"pnr_id": r.id, "locator": r.locator, "carrier": r.carrier, "flight_key": r.flight_key}
            for r in rows}


def shared_values(session: Session, caller: Caller, kinds: tuple[str, ...] = KINDS, min_pnrs: int = 2,
                  limit: int = 1000) -> list[dict]:
    """Each value at least `min_pnrs` distinct PNRs carry, with those PNRs; most shared first."""
    if not set(kinds) <= set(KINDS) or not kinds:
        raise InvalidArgument("kinds", f"each one of {', '.join(KINDS)}")
    if min_pnrs < 2 or not 1 <= limit <= 10000:
        raise InvalidArgument("min_pnrs", "at least 2, and limit within 1..10000")
    # A booking reference is shared when several messages (versions) carry it: count distinct locators too.
    groups = session.execute(
        select(m.PnrLink.kind, m.PnrLink.value, func.count(func.distinct(m.PnrLink.pnr_id)).label("n"))
        .where(m.PnrLink.kind.in_(kinds)).group_by(m.PnrLink.kind, m.PnrLink.value)
        .having(func.count(func.distinct(m.PnrLink.pnr_id)) >= min_pnrs)
        .order_by(func.count(func.distinct(m.PnrLink.pnr_id)).desc(), m.PnrLink.kind, m.PnrLink.value)
        .limit(limit)).all()
    found = []
    for kind, value, _ in groups:
        ids = list(session.scalars(select(m.PnrLink.pnr_id).where(m.PnrLink.kind == kind, m.PnrLink.value == value)))
        found.append({"kind": kind, "value": value, "pnrs": list(_pnr_rows(session, ids).values())})
    audit(session, caller, "ReadPnrLinks", f"values shared by >= {min_pnrs} PNRs ({', '.join(kinds)})",
          f"{len(found)} value(s)", PURPOSE)
    return found


def linked_pnrs(session: Session, caller: Caller, locator: str) -> list[dict]:
    """The PNRs sharing a value with any PNR of this record locator, with the kinds and values shared."""
    own = list(session.scalars(select(m.PnrRecord.id).where(m.PnrRecord.locator == locator.strip().upper())))
    if not own:
        raise NotFound("PNR", locator)
    theirs = aliased(m.PnrLink)
    rows = session.execute(
        select(theirs.pnr_id, m.PnrLink.kind, m.PnrLink.value)
        .join(theirs, (theirs.kind == m.PnrLink.kind) & (theirs.value == m.PnrLink.value))
        .where(m.PnrLink.pnr_id.in_(own), theirs.pnr_id.not_in(own))).all()
    shared: dict[int, list[dict]] = {}
    for pnr_id, kind, value in rows:
        if {"kind": kind, "value": value} not in shared.setdefault(pnr_id, []):
            shared[pnr_id].append({"kind": kind, "value": value})
    pnrs = _pnr_rows(session, list(shared))
    found = [pnrs[i] | {"shared": shared[i]} for i in sorted(shared) if i in pnrs]
    audit(session, caller, "ReadPnrLinks", f"PNR {locator.strip().upper()}", f"{len(found)} linked PNR(s)", PURPOSE)
    return found
