"""Pseudonymised export of crossings for analysts: who is who replaced by a keyed HMAC.

A traveller's pseudonym is HMAC-SHA256 over their normalised names, birth
date and nationality under a secret key, so the same person gets the same
pseudonym in every export made with that key (journeys can be followed), and
nobody without the key can link a pseudonym to a person, not even by trying
candidate names: a plain hash of names and birth date could be reversed that
way. Rows carry the day, never the time, and the age band, never the birth date.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import asdict, dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.database import models as m
from central.errors import InvalidArgument
from central.statistics.tables import age_band

MIN_KEY_BYTES = 16


def check_key(key: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise InvalidArgument("key", f"a pseudonymisation key of at least {MIN_KEY_BYTES} bytes is required")
    return key


def pseudonym(key: bytes, name_key: str, birth_date: dt.date | None, nationality: str) -> str:
    message = f"{name_key}|{birth_date.isoformat() if birth_date else ''}|{nationality}".encode()
    return hmac.new(check_key(key), message, hashlib.sha256).hexdigest()[:24]


@dataclass(frozen=True)
class ExportRow:
    traveller: str  # the pseudonym
    day: str
    border_point: str
    direction: str
    nationality: str
    sex: str
    age_band: str
    document_type: str
    decision: str
    risk_score: float

    FIELDS = ("traveller", "day", "border_point", "direction", "nationality", "sex", "age_band",
              "document_type", "decision", "risk_score")

    def as_dict(self) -> dict:
        return asdict(self)


def export(session: Session, key: bytes, start: dt.date | None = None, end: dt.date | None = None
           ) -> Iterable[ExportRow]:
    check_key(key)
    query = (select(m.Crossing.occurred_at, m.Crossing.direction, m.Crossing.decision, m.Crossing.risk_score,
                    m.Traveller.name_key, m.Traveller.birth_date, m.Traveller.nationality, m.Traveller.sex,
                    m.BorderPoint.code, m.TravelDocument.doc_type)
             .join(m.Traveller, m.Crossing.traveller_id == m.Traveller.id)
             .join(m.TravelDocument, m.Crossing.document_id == m.TravelDocument.id)
             .join(m.BorderPoint, m.Crossing.border_point_id == m.BorderPoint.id)
             .order_by(m.Crossing.occurred_at, m.Crossing.id))
    if start is not None:
        query = query.where(m.Crossing.occurred_at >= dt.datetime.combine(start, dt.time(), dt.timezone.utc))
    if end is not None:
        query = query.where(m.Crossing.occurred_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(),
                                                                         dt.timezone.utc))
    for at, direction, decision, risk, name_key, birth, nationality, sex, point, doc_type in session.execute(query):
        day = (at if at.tzinfo is None else at.astimezone(dt.timezone.utc)).date()
        yield ExportRow(pseudonym(key, name_key, birth, nationality), day.isoformat(), point, direction.value,
                        nationality, sex, age_band(birth, day), doc_type, decision.value, risk)
