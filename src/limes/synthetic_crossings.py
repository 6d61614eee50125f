"""A synthetic year of crossings for the analyst's world: seasonality over several border points, and
planted co-travelling groups (a facilitator crossing again and again with changing small groups).

Used by `limes bench intel` (recall and precision of the groups found) and by `limes demo --serve`
(so that the statistics, trends and network pages show what an analyst would see). `load` writes
them straight into central's tables in bulk (the gates' path, one RecordCrossing each, would take
hours for millions).
"""
from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from central.database import models as m
from central.database.keys import new_key

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


DIRECTIONS = (m.Direction.ENTRY, m.Direction.EXIT)


@dataclass
class World:
    """Crossings as columns (numpy: millions fit in a few hundred MB), in time order."""
    traveller: np.ndarray  # int64, a synthetic traveller number
    point: np.ndarray  # int8, an index into POINTS
    direction: np.ndarray  # int8, an index into DIRECTIONS
    at: np.ndarray  # int64, seconds since the epoch (UTC)
    referred: np.ndarray  # bool
    groups: list[set[int]]  # planted: each facilitator with every companion they crossed with
    travellers: int

    def __len__(self) -> int:
        return len(self.at)

    def part(self, begin: int, end: int) -> World:
        """The crossings begin..end (to load a few million at a time)."""
        return World(self.traveller[begin:end], self.point[begin:end], self.direction[begin:end], self.at[begin:end],
                     self.referred[begin:end], self.groups, self.travellers)

    @property
    def rows(self) -> list[Row]:
        """The crossings one object each (for small worlds: the demo's, the tests')."""
        return [self.row(i) for i in range(len(self))]

    def row(self, i: int) -> Row:
        return Row(int(self.traveller[i]), POINTS[self.point[i]], DIRECTIONS[self.direction[i]],
                   dt.datetime.fromtimestamp(int(self.at[i]), dt.timezone.utc),
                   m.GateDecision.REFER if self.referred[i] else m.GateDecision.OPEN)


def _seasonal_instants(rng: np.random.Generator, count: int, start: dt.datetime) -> np.ndarray:
    """Moments of the year from `start` (seconds since the epoch), by day between 06:00 and 22:00, more
    often in summer and on Fridays and Sundays (days drawn, then kept in proportion to their weight)."""
    calendar = [start + dt.timedelta(days=d) for d in range(365)]
    summer = 1 + 0.6 * np.cos(2 * np.pi * (np.array([d.timetuple().tm_yday for d in calendar]) - 200) / 365)
    weight = summer * np.where(np.isin([d.weekday() for d in calendar], (4, 6)), 1.3, 1.0) / 1.3
    days = np.empty(0, dtype=np.int64)
    while len(days) < count:
        drawn = rng.integers(0, 365, size=2 * (count - len(days)) + 100)
        days = np.concatenate([days, drawn[rng.random(len(drawn)) * 2.0 < weight[drawn]]])
    minutes = rng.integers(6 * 60, 22 * 60, size=count)
    return int(start.timestamp()) + days[:count] * 86_400 + minutes * 60


def world(crossings: int, groups: int, seed: int = 19, start: dt.datetime = START) -> World:
    """About `crossings` crossings by a population of travellers, `groups` of them planted rings."""
    rng = np.random.default_rng(seed)
    population = max(50, crossings // 4)
    planted: list[set[int]] = []
    ring_rows: list[tuple[int, int, int]] = []  # traveller, point, at
    trips = _seasonal_instants(rng, groups * 9, start)
    next_id = population
    for ring in range(groups):
        facilitator, companions = next_id, list(range(next_id + 1, next_id + 7))
        next_id += 7
        point = int(rng.integers(len(POINTS)))
        members = {facilitator}
        for trip in range(9):  # nine trips, each with two of the companions: each crosses with them 3 times
            when = int(trips[ring * 9 + trip])
            party = [companions[(2 * trip) % 6], companions[(2 * trip + 1) % 6]]
            members.update(party)
            ring_rows.append((facilitator, point, when))
            ring_rows.extend((member, point, when + 60 * minute) for minute, member in enumerate(party, 1))
        planted.append(members)
    others = max(0, crossings - len(ring_rows))
    ring = np.array(ring_rows, dtype=np.int64).reshape(-1, 3)
    traveller = np.concatenate([ring[:, 0], rng.integers(0, population, size=others)])
    point = np.concatenate([ring[:, 1], rng.integers(0, len(POINTS), size=others)]).astype(np.int8)
    direction = np.concatenate([np.zeros(len(ring), dtype=np.int8),
                                rng.integers(0, 2, size=others).astype(np.int8)])
    at = np.concatenate([ring[:, 2], _seasonal_instants(rng, others, start)])
    referred = np.concatenate([np.zeros(len(ring), dtype=bool), rng.random(others) < 0.03])
    order = np.argsort(at, kind="stable")
    return World(traveller[order], point[order], direction[order], at[order], referred[order], planted, next_id)


@dataclass
class Loaded:
    """Where the synthetic travellers went: {synthetic traveller: id in central} for travellers and documents."""
    travellers: dict[int, uuid.UUID] = field(default_factory=dict)
    documents: dict[int, uuid.UUID] = field(default_factory=dict)


def load(session: Session, data: World, loaded: Loaded | None = None, seed: int = 19, chunk: int = 20_000) -> Loaded:
    """Write the world (or a part of it) into central's tables, a chunk at a time; the travellers `loaded`
    before are not written again."""
    loaded = loaded or Loaded()
    rng = random.Random(seed + len(loaded.travellers))
    points = {}
    for index, code in enumerate(POINTS):
        point = session.scalar(select(m.BorderPoint).where(m.BorderPoint.code == code))
        if point is None:
            point = m.BorderPoint(code=code, name=code)
            session.add(point)
            session.flush()
            session.add(m.Station(code=f"{code}-G01", border_point_id=point.id))
            session.flush()
        points[index] = (point.id, session.scalar(select(m.Station.id).where(m.Station.border_point_id == point.id)))
    new = [int(t) for t in np.unique(data.traveller) if int(t) not in loaded.travellers]
    for begin in range(0, len(new), chunk):
        travellers, documents = [], []
        for synthetic in new[begin:begin + chunk]:
            traveller_id, document_id = new_key(), new_key()
            loaded.travellers[synthetic], loaded.documents[synthetic] = traveller_id, document_id
            nationality = rng.choice(NATIONALITIES)
            surname = f"SYN{synthetic:07d}"
            born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
            travellers.append(dict(id=traveller_id, surname=surname, given_names="ALEX", name_key=f"ALEX {surname}",
                                   birth_date=born, nationality=nationality, sex=rng.choice("MF")))
            number = f"S{synthetic:08d}"
            documents.append(dict(id=document_id, number=number, number_norm=number, issuing_state=nationality,
                                  doc_type=rng.choice(("P", "P", "P", "ID")), expiry_date=dt.date(2030, 1, 1),
                                  traveller_id=traveller_id))
        # Core, not the ORM: the ORM spends longer collecting the rows than the driver inserting them.
        session.connection().execute(insert(m.Traveller.__table__), travellers)
        session.connection().execute(insert(m.TravelDocument.__table__), documents)
    crossing_ids = iter(uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(len(data)))
    if session.bind.dialect.name == "sqlite":
        _crossings_into_sqlite(session, data, loaded, points, crossing_ids)
        return loaded

    decisions = (m.GateDecision.OPEN, m.GateDecision.REFER)
    for begin in range(0, len(data), chunk):
        end = begin + chunk
        crossings = []
        for traveller, point, direction, at, referred in zip(
                data.traveller[begin:end].tolist(), data.point[begin:end].tolist(),
                data.direction[begin:end].tolist(), data.at[begin:end].tolist(), data.referred[begin:end].tolist()):
            instant = dt.datetime.fromtimestamp(at, dt.timezone.utc)
            crossings.append(dict(
                id=new_key(), crossing_id=str(next(crossing_ids)), station_id=points[point][1],
                border_point_id=points[point][0], direction=DIRECTIONS[direction], occurred_at=instant,
                recorded_at=instant, document_id=loaded.documents[traveller], traveller_id=loaded.travellers[traveller],
                decision=decisions[referred], reasons=[], checks=[], face_score=0.9, risk_score=0.0,
                risk_rules_fired=[], risk_rules_version="synthetic"))
        session.execute(insert(m.Crossing), crossings)
    return loaded


def _crossings_into_sqlite(session: Session, data: World, loaded: Loaded, points: dict, crossing_ids,
                           chunk: int = 100_000) -> None:
    """The crossings through the driver's executemany, in the column formats SQLAlchemy stores on SQLite
    (keys as 32 hex digits, instants as UTC text, enumerations by name, lists as JSON): several times
    faster for millions."""
    cursor = session.connection().connection.cursor()
    columns = ("id", "crossing_id", "station_id", "border_point_id", "direction", "occurred_at", "recorded_at",
               "document_id", "traveller_id", "decision", "reasons", "checks", "face_score", "risk_score",
               "risk_rules_fired", "risk_rules_version")
    statement = f"INSERT INTO crossings ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    directions = [d.name for d in DIRECTIONS]
    for begin in range(0, len(data), chunk):
        end = begin + chunk
        instants = np.datetime_as_string(data.at[begin:end].astype("datetime64[s]")).tolist()
        cursor.executemany(statement, (
            (new_key().hex, str(next(crossing_ids)), points[point][1].hex, points[point][0].hex,
             directions[direction], f"{instant[:10]} {instant[11:]}.000000", f"{instant[:10]} {instant[11:]}.000000",
             loaded.documents[traveller].hex, loaded.travellers[traveller].hex, "REFER" if referred else "OPEN",
             "[]", "[]", 0.9, 0.0, "[]", "synthetic")
            for traveller, point, direction, instant, referred in zip(
                data.traveller[begin:end].tolist(), data.point[begin:end].tolist(),
                data.direction[begin:end].tolist(), instants, data.referred[begin:end].tolist())))
    cursor.close()
