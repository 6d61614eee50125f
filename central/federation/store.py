"""The federation's records at central: partners' alerts we hold, how far each list is, bundles taken in,
hit notices for our agencies; and what we answer partners, audited. One transaction per exchange: a
delta or a bundle applies whole or not at all.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.alerts import lists as alert_lists
from central.database import models as m
from central.errors import InvalidArgument
from central.federation import exchange
from central.federation.bundle import Bundle, BundleRefused
from central.federation.exchange import DeltaRefused
from central.federation.trust import Partner
from central.records import gate_calls
from drivers.alertmatch.normalize import document_number
from drivers.alertmatch.persons import Identity
from proto.limes.v1 import federation_pb2 as fpb

PURPOSE = "federation"


def partner_caller(partner: str, purpose: str = PURPOSE) -> Caller:
    """How a partner appears in our audit log: its name as a station, "partner:NAME"."""
    return Caller(station=f"partner:{partner}"[:64], purpose=purpose)


# ------------------------------------------------------------------ answering a partner

def outgoing_delta(session: Session, partner: Partner, list_name: str, since_version: int,
                   limit: int) -> fpb.SharedDelta:
    """The changes of `list_name` after `since_version` as `partner` may hold them (central.alerts' delta)."""
    delta = alert_lists.alert_delta(session, partner_caller(partner.name, "federation: list delta"),
                                    since_version, limit)
    alerts = delta.documents if list_name == "documents" else delta.persons
    shared = [exchange.shared_alert(alert, partner) for alert in alerts]
    audit(session, partner_caller(partner.name), "FederationListDelta", f"{list_name} after version {since_version}",
          f"{sum(not a.withdrawn for a in shared)} shared, {sum(a.withdrawn for a in shared)} withdrawn or withheld, "
          f"up to {delta.version}", PURPOSE)
    return fpb.SharedDelta(list=list_name, since_version=since_version, current_version=delta.version,
                           more=delta.more, alerts=shared)


def answer_query(session: Session, partner: Partner, query: fpb.HitQuery, today: dt.date,
                 occurred_at: dt.datetime) -> fpb.HitAnswer:
    """Hit or no hit on our lists, disclosed as the partner is granted; each owner told where and when."""
    subject = query.WhichOneof("subject")
    if subject == "document":
        number = document_number(query.document.number)
        if not number:
            raise InvalidArgument("document.number", "is required")
        list_name, described = "documents", f"document {query.document.issuing_state or '?'} {number}"
        found = [h.alert for h in gate_calls.document_hits(session, number, query.document.document_type,
                                                           query.document.issuing_state, today)]
    elif subject == "person":
        person = query.person
        if not person.surname.strip():
            raise InvalidArgument("person.surname", "is required")
        birth = _date(person.birth_date, "person.birth_date")
        list_name = "persons"
        described = gate_calls.person_subject(person.surname, person.given_names, birth)
        found = [h.alert for h in gate_calls.person_hits(
            session, Identity(person.surname, person.given_names, birth, person.nationality), today)]
    else:
        raise InvalidArgument("subject", "give a document or a person")
    disclosed = [(alert, hit) for alert in found
                 if (hit := exchange.disclosed_hit(list_name, alert, partner)) is not None]
    hits = [hit for _, hit in disclosed]
    for alert, _ in disclosed:
        session.add(m.HitNotice(owning_agency=alert.owning_agency, alert_id=alert.alert_id, partner=partner.name,
                                place=query.place[:64], occurred_at=occurred_at, noticed_at=m.utcnow()))
    audit(session, partner_caller(partner.name, f"federation: hit/no-hit {query.query_id[:36]}"),
          "FederationQueryHit", described, f"{'hit' if hits else 'no hit'} ({len(hits)}) at {query.place[:64] or '?'}",
          PURPOSE)
    return fpb.HitAnswer(hit=bool(hits), hits=hits)


def take_notice(session: Session, partner: Partner, notice: fpb.HitNotice, occurred_at: dt.datetime) -> bool:
    """A partner met one of the alerts we share with it: the owning agency's notice. False: recorded already."""
    alert = session.scalar(select(m.DocumentAlert).where(m.DocumentAlert.alert_id == notice.alert_id)) or \
        session.scalar(select(m.PersonAlert).where(m.PersonAlert.alert_id == notice.alert_id))
    if alert is None or not partner.grants(exchange.list_of(alert), alert.handling_code, alert.classification):
        # Not ours, or not one we share with this partner: nothing to confirm either way.
        raise InvalidArgument("alert_id", "no alert shared with you has this id")
    key = f"notice {notice.notice_id[:36]}"
    if session.scalar(select(m.AuditEntry.id).where(m.AuditEntry.action == "FederationNotifyHit",
                                                    m.AuditEntry.subject == key,
                                                    m.AuditEntry.station == partner_caller(partner.name).station)):
        return False
    session.add(m.HitNotice(owning_agency=alert.owning_agency, alert_id=alert.alert_id, partner=partner.name,
                            place=notice.place[:64], occurred_at=occurred_at, noticed_at=m.utcnow()))
    audit(session, partner_caller(partner.name), "FederationNotifyHit", key,
          f"alert {alert.alert_id} of {alert.owning_agency or 'no agency'} hit at {notice.place[:64] or '?'}",
          PURPOSE)
    return True


def _date(text: str, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(field, f"{text[:20]!r} is not YYYY-MM-DD") from None


# ------------------------------------------------------------------ taking a partner's list in

def list_state(session: Session, partner: str, list_name: str) -> m.FederationState:
    row = session.scalar(select(m.FederationState).where(m.FederationState.partner == partner,
                                                         m.FederationState.list_name == list_name))
    if row is None:
        row = m.FederationState(partner=partner, list_name=list_name, version=0, last_error="")
        session.add(row)
        session.flush()
    return row


def _match_key(list_name: str, alert: fpb.SharedAlert) -> str:
    return document_number(alert.document_number) if list_name == "documents" else alert.birth_date


def apply_delta(session: Session, caller: Caller, partner: Partner, delta: fpb.SharedDelta, max_alerts: int,
                how: str) -> int:
    """Take a partner's delta whole, in the caller's transaction; the number of alerts changed.

    DeltaRefused when it is malformed, not one of the lists we subscribe to from this partner, starts after
    the version we hold (a delta or bundle is missing) or is older than it.
    """
    exchange.check_delta(delta, delta.list, max_alerts)
    if delta.list not in partner.subscribe:
        raise DeltaRefused(f"list {delta.list!r} is not one we take from {partner.name} "
                           f"(subscribe = {list(partner.subscribe)})")
    state = list_state(session, partner.name, delta.list)
    if delta.since_version > state.version:
        raise DeltaRefused(f"gap: the delta starts after version {delta.since_version}, we hold {state.version}")
    if delta.current_version < state.version:
        raise DeltaRefused(f"stale: the delta ends at version {delta.current_version}, we hold {state.version}")
    existing = {row.alert_id: row for row in session.scalars(select(m.FederatedAlert).where(
        m.FederatedAlert.partner == partner.name,
        m.FederatedAlert.alert_id.in_([a.alert_id for a in delta.alerts])))} if delta.alerts else {}
    changed = 0
    for alert in delta.alerts:
        if alert.version <= state.version:
            continue  # held already at this version or a newer one
        row = existing.get(alert.alert_id)
        if alert.withdrawn:
            if row is not None:
                session.delete(row)
                changed += 1
            continue
        if row is None:
            row = m.FederatedAlert(partner=partner.name, alert_id=alert.alert_id)
            session.add(row)
        row.list_name, row.version, row.handling_code = delta.list, alert.version, alert.handling_code
        row.match_key = _match_key(delta.list, alert)
        row.content = {key: value for key, value in (
            ("reason", alert.reason), ("handling_instruction", alert.handling_instruction),
            ("owning_agency", alert.owning_agency), ("document_number", alert.document_number),
            ("document_type", alert.document_type), ("issuing_state", alert.issuing_state),
            ("surname", alert.surname), ("given_names", alert.given_names), ("birth_date", alert.birth_date),
            ("nationality", alert.nationality), ("valid_from", alert.valid_from), ("valid_to", alert.valid_to))
            if value}
        row.received_at = m.utcnow()
        changed += 1
    state.version, state.synced_at, state.last_error = delta.current_version, m.utcnow(), ""
    audit(session, caller, "FederationTakeDelta", f"{partner.name} {delta.list} after version {delta.since_version}",
          f"{changed} change(s) by {how}, now at {delta.current_version}", PURPOSE)
    return changed


def take_bundle(session: Session, caller: Caller, partner: Partner, bundle: Bundle, max_alerts: int) -> int:
    """Apply a verified bundle once: the same bundle id again is a replay and refused."""
    seen = session.scalar(select(m.FederationBundleSeen.received_at).where(
        m.FederationBundleSeen.partner == partner.name, m.FederationBundleSeen.bundle_id == bundle.bundle_id))
    if seen is not None:
        raise BundleRefused(f"replay: bundle {bundle.bundle_id} from {partner.name} was taken in at "
                            f"{seen.isoformat()}")
    session.add(m.FederationBundleSeen(partner=partner.name, bundle_id=bundle.bundle_id, received_at=m.utcnow()))
    return apply_delta(session, caller, partner, bundle.delta, max_alerts, f"bundle {bundle.bundle_id}")


def note_failure(session: Session, caller: Caller, partner: str, list_name: str, what: str, reason: str) -> None:
    """A refused or failed exchange: kept on the list's state and audited (in a transaction of its own)."""
    list_state(session, partner, list_name).last_error = f"{m.utcnow().isoformat(timespec='seconds')} {reason}"[:400]
    audit(session, caller, what, f"{partner} {list_name}", f"REFUSED: {reason}"[:200], PURPOSE)


def status(session: Session) -> dict:
    """Each partner's lists as we hold them, and the hit notices not yet read."""
    states = list(session.scalars(select(m.FederationState).order_by(m.FederationState.partner,
                                                                     m.FederationState.list_name)))
    counts: dict[tuple[str, str], int] = {}
    for partner, list_name in session.execute(select(m.FederatedAlert.partner, m.FederatedAlert.list_name)):
        counts[(partner, list_name)] = counts.get((partner, list_name), 0) + 1
    unread = session.scalar(select(func.count(m.HitNotice.id)).where(m.HitNotice.read_at.is_(None)))
    return {"lists": [{"partner": s.partner, "list": s.list_name, "version": s.version,
                       "alerts": counts.get((s.partner, s.list_name), 0),
                       "synced_at": s.synced_at.isoformat() if s.synced_at else None, "last_error": s.last_error}
                      for s in states],
            "unread_notices": unread}


def notices(session: Session, caller: Caller, agency: str, limit: int = 100) -> list[m.HitNotice]:
    """Hit notices for an agency ("" all), newest first; reading them is audited and marks them read."""
    query = select(m.HitNotice).order_by(m.HitNotice.id.desc()).limit(limit)
    if agency:
        query = query.where(m.HitNotice.owning_agency == agency)
    found = list(session.scalars(query))
    for notice in found:
        notice.read_at = notice.read_at or m.utcnow()
    audit(session, caller, "ReadHitNotices", f"hit notices of {agency or 'every agency'}", f"{len(found)} notice(s)",
          PURPOSE)
    return found
