"""A synthetic year of crossings for the analyst's world: seasonality over several border points, and
planted co-travelling groups (a facilitator crossing again and again with changing small groups).

Used by `limes bench intel` (recall and precision of the groups found) and by `limes demo --serve`
(so that the statistics, trends and network pages show what an analyst would see). `load` writes
them straight into central's tables in bulk (the gates' path, one RecordCrossing each, would take
hours for millions).
"""
from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from central.database import models as m

POINTS = ("FRA-T1", "MUC-T2", "BER-T1", "SALZBURG-ROAD")
NATIONALITIES = ("DEU", "FRA", "TUR", "USA", "UKR", "IND", "CHN", "GBR", "XXA", "SYR")
START = dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Row:
    traveller: int
    point: str
    direction: m.Direction
    at: dt.datetime
    decision: m.GateDecision = m.GateDecision.OPEN


@dataclass
class World:
    rows: list[Row]
    groups: list[set[int]]  # planted: each facilitator with every companion they crossed with
    travellers: int


def _seasonal_instant(rng: random.Random, start: dt.datetime) -> dt.datetime:
    """A moment of the year, more often in summer (and on Fridays and Sundays), by day."""
    while True:
        day = rng.randrange(365)
        when = start + dt.timedelta(days=day)
        summer = 1 + 0.6 * math.cos(2 * math.pi * (when.timetuple().tm_yday - 200) / 365)
        weekend = 1.3 if when.weekday() in (4, 6) else 1.0
        if rng.random() * 2.0 < summer * weekend / 1.3:
            return when + dt.timedelta(minutes=rng.randrange(6 * 60, 22 * 60))


def world(crossings: int, groups: int, seed: int = 19, start: dt.datetime = START) -> World:
    """About `crossings` crossings by a population of travellers, `groups` of them planted rings."""
    rng = random.Random(seed)
    population = max(50, crossings // 4)
    rows: list[Row] = []
    planted: list[set[int]] = []
    next_id = population
    for _ in range(groups):
        facilitator, companions = next_id, list(range(next_id + 1, next_id + 7))
        next_id += 7
        point = rng.choice(POINTS)
        members = {facilitator}
        for trip in range(9):  # nine trips, each with two of the companions: each crosses with them 3 times
            when = _seasonal_instant(rng, start)
            party = [companions[(2 * trip) % 6], companions[(2 * trip + 1) % 6]]
            members.update(party)
            rows.append(Row(facilitator, point, m.Direction.ENTRY, when))
            for minute, member in enumerate(party, 1):
                rows.append(Row(member, point, m.Direction.ENTRY, when + dt.timedelta(minutes=minute)))
        planted.append(members)
    while len(rows) < crossings:
        rows.append(Row(rng.randrange(population), rng.choice(POINTS), rng.choice(tuple(m.Direction)),
                        _seasonal_instant(rng, start),
                        m.GateDecision.REFER if rng.random() < 0.03 else m.GateDecision.OPEN))
    rows.sort(key=lambda r: r.at)
    return World(rows, planted, next_id)


def load(session: Session, data: World, seed: int = 19, chunk: int = 20_000) -> dict[int, int]:
    """Write the world into central's tables; {synthetic traveller: traveller id}."""
    rng = random.Random(seed)
    points = {}
    for code in POINTS:
        point = session.scalar(select(m.BorderPoint).where(m.BorderPoint.code == code))
        if point is None:
            point = m.BorderPoint(code=code, name=code)
            session.add(point)
            session.flush()
            session.add(m.Station(code=f"{code}-G01", border_point_id=point.id))
            session.flush()
        points[code] = (point.id, session.scalar(select(m.Station.id).where(m.Station.border_point_id == point.id)))
    first_traveller = (session.scalar(select(m.Traveller.id).order_by(m.Traveller.id.desc()).limit(1)) or 0) + 1
    first_document = (session.scalar(select(m.TravelDocument.id).order_by(m.TravelDocument.id.desc()).limit(1))
                      or 0) + 1
    used = sorted({r.traveller for r in data.rows})
    ids = {t: first_traveller + i for i, t in enumerate(used)}
    travellers, documents = [], []
    for synthetic, traveller_id in ids.items():
        nationality = rng.choice(NATIONALITIES)
        surname = f"SYN{synthetic:07d}"
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
        travellers.append(dict(id=traveller_id, surname=surname, given_names="ALEX", name_key=f"ALEX {surname}",
                               birth_date=born, nationality=nationality, sex=rng.choice("MF")))
        number = f"S{synthetic:08d}"
        documents.append(dict(id=first_document + traveller_id - first_traveller, number=number, number_norm=number,
                              issuing_state=nationality, doc_type=rng.choice(("P", "P", "P", "ID")),
                              expiry_date=dt.date(2030, 1, 1), traveller_id=traveller_id))
    for table, rows in ((m.Traveller, travellers), (m.TravelDocument, documents)):
        for begin in range(0, len(rows), chunk):
            session.execute(insert(table), rows[begin:begin + chunk])
    offset = first_document - first_traveller
    crossings = [dict(crossing_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                      station_id=points[r.point][1], border_point_id=points[r.point][0], direction=r.direction,
                      occurred_at=r.at, recorded_at=r.at, document_id=ids[r.traveller] + offset,
                      traveller_id=ids[r.traveller], decision=r.decision, reasons=[], checks=[], face_score=0.9,
                      risk_score=0.0, risk_rules_fired=[], risk_rules_version="synthetic")
                 for r in data.rows]
    for begin in range(0, len(crossings), chunk):
        session.execute(insert(m.Crossing), crossings[begin:begin + chunk])
    return ids
