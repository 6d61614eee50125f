"""Our gates' checks against the alerts partners share with us, and the notice each hit owes its owner.

A document hits a partner's alert on the normalised number; a person on the same fuzzy name comparison,
blocked on the birth date, as central's own person check (drivers.alertmatch). Each hit is queued in
`federation_outbox` in the check's transaction; the notifier (central.federation.service.HitNotifier)
tells the partner where and when within seconds, retrying while it is away.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select

from central.database import models as m
from drivers.alertmatch.normalize import document_number
from drivers.alertmatch.persons import DEFAULT_MIN_SIMILARITY, Identity, blocking_birth_dates, compare

FA = m.FederatedAlert


@dataclass(frozen=True)
class PartnerHit:
    partner: str
    alert_id: str
    content: dict
    score: float = 1.0
    explanation: str = ""

    @property
    def owner(self) -> str:
        """The partner and its agency, as our officers read it: "LIMES-B/B-POLICE"."""
        agency = self.content.get("owning_agency", "")
        return f"{self.partner}/{agency}" if agency else self.partner


def _in_force(content: dict, today: dt.date) -> bool:
    day = today.isoformat()
    return (not content.get("valid_from") or content["valid_from"] <= day) and (
        not content.get("valid_to") or content["valid_to"] >= day)


def document_hits(db, number: str, issuing_state: str, today: dt.date) -> list[PartnerHit]:
    """Partners' document alerts in force on the number (`db`: a Session or Connection)."""
    norm = document_number(number)
    if not norm:
        return []
    rows = db.execute(select(FA.partner, FA.alert_id, FA.content).where(
        FA.list_name == "documents", FA.match_key == norm)).all()
    return [PartnerHit(partner, alert_id, content) for partner, alert_id, content in rows
            if _in_force(content, today) and not (issuing_state and content.get("issuing_state")
                                                  and content["issuing_state"] != issuing_state)]


def person_hits(db, identity: Identity, today: dt.date,
                threshold: float = DEFAULT_MIN_SIMILARITY) -> list[PartnerHit]:
    """Partners' person alerts in force that the identity matches, best first."""
    dates = [d.isoformat() for d in blocking_birth_dates(identity.birth_date) if d is not None]
    rows = db.execute(select(FA.partner, FA.alert_id, FA.content).where(
        FA.list_name == "persons", or_(FA.match_key == "", FA.match_key.in_(dates)))).all()
    hits = []
    for partner, alert_id, content in rows:
        if not _in_force(content, today):
            continue
        birth = content.get("birth_date")
        alert = Identity(content.get("surname", ""), content.get("given_names", ""),
                         dt.date.fromisoformat(birth) if birth else None, content.get("nationality", ""))
        found = compare(alert, identity)
        if found is not None and found.score >= threshold:
            hits.append(PartnerHit(partner, alert_id, content, found.score, found.explanation))
    return sorted(hits, key=lambda hit: -hit.score)


def place_of(db, station: str) -> str:
    """Where a station stands, for the owner's notice: its border point's code, else the station's own."""
    code = db.execute(select(m.BorderPoint.code).join(m.Station, m.Station.border_point_id == m.BorderPoint.id)
                      .where(m.Station.code == station)).scalar()
    return code or station


def queue_notices(session, hits: list[PartnerHit], place: str, occurred_at: dt.datetime) -> int:
    """One notice per hit for its owner, sent by the notifier; how many were queued."""
    for hit in hits:
        session.add(m.FederationOutbox(notice_id=str(uuid.uuid4()), partner=hit.partner, alert_id=hit.alert_id,
                                       place=place[:64], occurred_at=occurred_at, created_at=m.utcnow(),
                                       attempts=0, last_error=""))
    return len(hits)
