"""The `stays` table: every traveller's stays, kept up to date by each recorded crossing.

An ENTRY on day d opens a stay, authorised until the last day the short-stay rule (central.stays)
allows from d (`allowed_until`; None: no limit, free movement or exempt; d-1: not one day was left).
An EXIT on day d closes the open stay and counts its overstay days, d - allowed_until when positive:
during an unbroken stay the 180-day window gains a day each day and loses at most one, so once over
90 it stays over, and the days past the rule's last day are exactly the rule's overstay days (a
short-stay visa's end or duration only brings that day earlier). The exit crossing carries the count.

Edge cases, decided here:
- leaving and coming back the same day is one stay (the closed stay is reopened);
- an ENTRY while a stay is open (its exit went unrecorded, through a border without gates) closes
  that stay the day before; a second ENTRY on the stay's first day joins it;
- an EXIT with no open stay (the entry went unrecorded) opens nothing and counts nothing;
- a crossing an officer refuses was no crossing: the traveller's stays are replayed without it (`refused`);
- a crossing older than the traveller's latest stay day (a gate's outbox delivering late) rebuilds
  that traveller's stays from their crossings, in order (rare, and only their own crossings).

The stays are keyed by the biographic Traveller row; `holder` is the one place that says which
traveller a document and identity belong to, for the gate's question before the crossing exists
(`holders`: the same answer for a whole flight at once, for pre-arrival screening).
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, or_, select, update

from central.database import models as m
from central.database.prepared import Prepared
from central.errors import FailedPrecondition
from central.stays.regime import Allowance, Regime, StayRules, Visa, allowance
from central.stays.rule import FIRST_DAY, LAST_DAY, WINDOW_DAYS, Stay, StayError

log = logging.getLogger(__name__)

R, P = m.StayRecord, m.PermittedStay
_WINDOW = dt.timedelta(days=WINDOW_DAYS - 1)
_DAY = dt.timedelta(days=1)

# The traveller's stays that reach into [since, ...], oldest first (an open stay always does).
_STAYS_SINCE = Prepared(
    select(R.id, R.entry_day, R.exit_day, R.allowed_until)
    .where(R.traveller_id == bindparam("traveller_id"),
           or_(R.exit_day.is_(None), R.exit_day >= bindparam("since")))
    .order_by(R.entry_day))
_OPEN_STAY = Prepared(select(R.id, R.allowed_until)
                      .where(R.traveller_id == bindparam("traveller_id"), R.exit_day.is_(None))
                      .order_by(R.entry_day.desc()).limit(1))
_LATEST_DAY = Prepared(select(R.entry_day, R.exit_day).where(R.traveller_id == bindparam("traveller_id"))
                       .order_by(R.entry_day.desc()).limit(1))
# The permits of the traveller, or of the document crossing: both, as a visa may be recorded before
# its holder is known as a traveller.
_PERMITS = Prepared(
    select(P.kind, P.valid_from, P.valid_to, P.entries, P.duration_days)
    .where(or_(P.traveller_id == bindparam("traveller_id"),
               (P.issuing_state == bindparam("state")) & (P.number_norm == bindparam("norm"))),
           P.valid_from <= bindparam("day"), P.valid_to >= bindparam("day"))
    .order_by(P.valid_to.desc()))
_INSERT_STAY = insert(R)
_CLOSE = (update(R).where(R.id == bindparam("stay_id"))
          .values(exit_day=bindparam("exit_day"), exit_crossing_id=bindparam("crossing"),
                  overstay_days=bindparam("overstay")))
_REOPEN = (update(R).where(R.id == bindparam("stay_id"))
           .values(exit_day=None, exit_crossing_id=None, overstay_days=0, allowed_until=bindparam("allowed")))
_FLAG_CROSSING = update(m.Crossing).where(m.Crossing.id == bindparam("crossing")).values(
    overstay_days=bindparam("overstay"))
# The Entry/Exit System keeps an overstayer's file five years instead of three (central.access.retention).
_FLAG_FILE = update(m.TravellerFile).where(m.TravellerFile.traveller_id == bindparam("overstayer")).values(
    overstay=True)


@dataclass(frozen=True)
class Passage:
    """What the stays need of a crossing."""

    traveller_id: uuid.UUID
    nationality: str
    issuing_state: str
    number_norm: str
    document_code: str
    direction: m.Direction
    day: dt.date
    crossing_row_id: uuid.UUID | None
    border_point_id: uuid.UUID


@dataclass(frozen=True)
class StayQuestion:
    """A gate's question before an entry: the document and identity as read (normalised)."""

    issuing_state: str
    number_norm: str
    document_code: str
    name_key: str
    birth_date: dt.date | None
    nationality: str


def holder(db, issuing_state: str, number_norm: str, name_key: str, birth_date: dt.date | None,
           nationality: str) -> int | None:
    """The Traveller whose stays these are: the document's holder, else the same names, birth date and
    nationality (a renewed passport); None for someone never recorded. The traveller-file work may put
    a biometric identity here; the stays follow whatever this returns."""
    found = _DOCUMENT_HOLDER.scalar(db, {"state": issuing_state, "norm": number_norm})
    if found is None and birth_date is not None:
        found = _PERSON.scalar(db, {"key": name_key, "born": birth_date, "nationality": nationality})
    return found


_DOCUMENT_HOLDER = Prepared(select(m.TravelDocument.traveller_id).where(
    m.TravelDocument.issuing_state == bindparam("state"), m.TravelDocument.number_norm == bindparam("norm")))
_PERSON = Prepared(select(m.Traveller.id).where(
    m.Traveller.name_key == bindparam("key"), m.Traveller.birth_date == bindparam("born"),
    m.Traveller.nationality == bindparam("nationality")).order_by(m.Traveller.id).limit(1))


def authorised(db, rules: StayRules, traveller_id: uuid.UUID | None, nationality: str, issuing_state: str,
               number_norm: str, document_code: str, day: dt.date) -> Allowance:
    """What a traveller entering on `day` may stay (for the gate, before the crossing is recorded)."""
    regime, visa, since = _regime(db, rules, traveller_id, nationality, issuing_state, number_norm,
                                  document_code, day)
    rows = [] if traveller_id is None else _STAYS_SINCE.rows(db, {"traveller_id": traveller_id, "since": since})
    # Stays recorded after `day` (a question about the past) are left out rather than misjudged.
    past = [(r.entry_day, r.exit_day) for r in rows if r.entry_day <= day and (r.exit_day or day) <= day]
    try:
        return _allowance(regime, visa, _with_entry(past, day), day)
    except StayError as exc:
        raise FailedPrecondition(f"the traveller's recorded stays cannot be judged: {exc}") from exc


def upkeep(db, rules: StayRules, passage: Passage) -> int | None:
    """Bring the traveller's stays up to date with one recorded crossing; an exit's overstay days, else None."""
    if not FIRST_DAY <= passage.day <= LAST_DAY:
        return None  # beyond what the rule judges (central.stays.rule): the crossing is kept, the stays are not
    latest = _LATEST_DAY.first(db, {"traveller_id": passage.traveller_id})
    if latest is not None and passage.day < (latest.exit_day or latest.entry_day):
        rebuild(db, rules, passage.traveller_id)
        return None
    if passage.direction is m.Direction.EXIT:
        return _exit(db, passage)
    try:
        _entry(db, rules, passage)
    except StayError as exc:  # a record the rule cannot judge must not lose the crossing
        log.warning("stays of traveller %s not updated by the entry of %s: %s", passage.traveller_id,
                    passage.day, exc)
    return None


def _exit(db, passage: Passage) -> int | None:
    open_stay = _OPEN_STAY.first(db, {"traveller_id": passage.traveller_id})
    if open_stay is None:
        return None
    over = _overstay(open_stay.allowed_until, passage.day)
    db.execute(_CLOSE, {"stay_id": open_stay.id, "exit_day": passage.day, "crossing": passage.crossing_row_id,
                        "overstay": over})
    if passage.crossing_row_id is not None:
        db.execute(_FLAG_CROSSING, {"crossing": passage.crossing_row_id, "overstay": over})
    if over > 0:
        db.execute(_FLAG_FILE, {"overstayer": passage.traveller_id})
    return over


def _entry(db, rules: StayRules, passage: Passage) -> None:
    day = passage.day
    regime, visa, since = _regime(db, rules, passage.traveller_id, passage.nationality, passage.issuing_state,
                                  passage.number_norm, passage.document_code, day)
    rows = _STAYS_SINCE.rows(db, {"traveller_id": passage.traveller_id, "since": since})
    last = rows[-1] if rows else None
    if last is not None and last.exit_day is None and last.entry_day == day:
        return  # a second entry on the stay's first day joins it
    # Judged before anything is written: stays the rule refuses (StayError) leave the table as it was.
    until = _until(_allowance(regime, visa, _with_entry([(r.entry_day, r.exit_day) for r in rows], day), day), day)
    if last is not None and last.exit_day is None:
        db.execute(_CLOSE, {"stay_id": last.id, "exit_day": day - _DAY, "crossing": None,
                            "overstay": _overstay(last.allowed_until, day - _DAY)})
    elif last is not None and last.exit_day == day:  # out and back in on one day: one stay
        db.execute(_REOPEN, {"stay_id": last.id, "allowed": until})
        return
    db.execute(_INSERT_STAY, {
        "traveller_id": passage.traveller_id, "entry_day": day, "exit_day": None,
        "entry_crossing_id": passage.crossing_row_id, "exit_crossing_id": None,
        "border_point_id": passage.border_point_id, "nationality": passage.nationality, "regime": regime.value,
        "allowed_until": until, "overstay_days": 0, "alerted_on": None})


@dataclass(frozen=True)
class Entrant:
    """Someone expected to enter (a passenger before arrival): their traveller (holder) and document."""

    traveller_id: uuid.UUID | None
    nationality: str
    issuing_state: str
    number_norm: str
    document_code: str


def holders(db, questions: list[StayQuestion]) -> list[int | None]:
    """`holder` for many at once, in a few queries (pre-arrival screening of a whole flight)."""
    by_document: dict[tuple[str, str], int] = {}
    norms = sorted({q.number_norm for q in questions if q.number_norm})
    for chunk in _chunks(norms):
        by_document |= {(state, norm): traveller for state, norm, traveller in db.execute(
            select(m.TravelDocument.issuing_state, m.TravelDocument.number_norm, m.TravelDocument.traveller_id)
            .where(m.TravelDocument.number_norm.in_(chunk)))}
    found = [by_document.get((q.issuing_state, q.number_norm)) for q in questions]
    keys = sorted({q.name_key for q, f in zip(questions, found) if f is None and q.birth_date is not None})
    by_person: dict[tuple[str, dt.date, str], int] = {}
    for chunk in _chunks(keys):
        for traveller, key, born, nationality in db.execute(
                select(m.Traveller.id, m.Traveller.name_key, m.Traveller.birth_date, m.Traveller.nationality)
                .where(m.Traveller.name_key.in_(chunk)).order_by(m.Traveller.id.desc())):
            by_person[(key, born, nationality)] = traveller  # the lowest id wins, as in `holder`
    return [f if f is not None else by_person.get((q.name_key, q.birth_date, q.nationality))
            for q, f in zip(questions, found)]


def authorised_many(db, rules: StayRules, entrants: list[Entrant], day: dt.date) -> list[Allowance | StayError]:
    """`authorised` for many entering on one `day`, in a few queries; a StayError for stays that cannot be judged."""
    limited = [e for e in entrants if rules.regime(e.nationality, e.document_code) is not Regime.FREE_MOVEMENT]
    ids = sorted({e.traveller_id for e in limited if e.traveller_id is not None})
    norms = sorted({e.number_norm for e in limited if e.number_norm})
    found: dict[int, Any] = {}
    columns = (P.id, P.traveller_id, P.issuing_state, P.number_norm, P.kind, P.valid_from, P.valid_to, P.entries,
               P.duration_days)
    for column, values in ((P.traveller_id, ids), (P.number_norm, norms)):
        for chunk in _chunks(values):
            found |= {row.id: row for row in db.execute(
                select(*columns).where(column.in_(chunk), P.valid_from <= day, P.valid_to >= day))}
    permits = sorted(found.values(), key=lambda p: p.valid_to, reverse=True)
    judged = []
    for e in entrants:
        own = [p for p in permits if (e.traveller_id is not None and p.traveller_id == e.traveller_id)
               or (p.issuing_state, p.number_norm) == (e.issuing_state, e.number_norm)]
        judged.append(_regime_with(rules, e.nationality, e.document_code, own, day))
    earliest = min((since for _, _, since in judged), default=day)
    stays: dict[int, list[tuple[dt.date, dt.date | None]]] = {}
    for chunk in _chunks(ids):
        for traveller, entry, exit_ in db.execute(
                select(R.traveller_id, R.entry_day, R.exit_day)
                .where(R.traveller_id.in_(chunk), or_(R.exit_day.is_(None), R.exit_day >= earliest))
                .order_by(R.entry_day)):
            stays.setdefault(traveller, []).append((entry, exit_))
    result: list[Allowance | StayError] = []
    for e, (regime, visa, since) in zip(entrants, judged):
        # As in `authorised`: the stays reaching into [since, ...] and none recorded after `day`.
        past = [(entry, exit_) for entry, exit_ in stays.get(e.traveller_id, [])
                if (exit_ is None or exit_ >= since) and entry <= day and (exit_ or day) <= day]
        try:
            result.append(_allowance(regime, visa, _with_entry(past, day), day))
        except StayError as exc:
            result.append(exc)
    return result


def _chunks(values: list, size: int = 500) -> list[list]:
    """`values` in chunks a database's IN (...) takes."""
    return [values[start:start + size] for start in range(0, len(values), size)]


def _with_entry(stays: list[tuple[dt.date, dt.date | None]], day: dt.date) -> list[tuple[dt.date, dt.date | None]]:
    """The stays as they are once the traveller enters on `day` (see the module's edge cases)."""
    if stays and stays[-1][1] is None:  # an exit went unrecorded: that stay ended the day before
        if stays[-1][0] == day:
            return stays
        return [*stays[:-1], (stays[-1][0], day - _DAY), (day, None)]
    if stays and stays[-1][1] == day:
        return [*stays[:-1], (stays[-1][0], None)]
    return [*stays, (day, None)]


def _regime(db, rules: StayRules, traveller_id: uuid.UUID | None, nationality: str, issuing_state: str,
            number_norm: str, document_code: str, day: dt.date) -> tuple[Regime, Visa | None, dt.date]:
    """The traveller's regime on `day`, their short-stay visa in force, and how far back their stays matter."""
    if rules.regime(nationality, document_code) is Regime.FREE_MOVEMENT:
        return Regime.FREE_MOVEMENT, None, day - _WINDOW
    permits = _PERMITS.rows(db, {"traveller_id": traveller_id, "state": issuing_state, "norm": number_norm,
                                 "day": day})
    return _regime_with(rules, nationality, document_code, permits, day)


def _regime_with(rules: StayRules, nationality: str, document_code: str, permits, day: dt.date
                 ) -> tuple[Regime, Visa | None, dt.date]:
    """_regime, given the permits in force on `day` (newest end first)."""
    regime, visa = rules.regime(nationality, document_code), None
    since = day - _WINDOW
    if regime is Regime.FREE_MOVEMENT:
        return regime, None, since
    if any(p.kind is not m.PermitKind.SHORT_STAY_VISA for p in permits):
        return Regime.EXEMPT, None, since
    if regime is Regime.VISA_REQUIRED and permits:
        p = permits[0]
        visa = Visa(p.valid_from, p.valid_to, p.entries, p.duration_days or 90)
        since = min(since, visa.valid_from)
    return regime, visa, since


def _allowance(regime: Regime, visa: Visa | None, stays: list[tuple[dt.date, dt.date | None]],
               day: dt.date) -> Allowance:
    """The pure rule over the stays that reach into the window (and the visa's validity)."""
    rule_stays = [Stay(entry, exit_) for entry, exit_ in stays if exit_ is None or exit_ >= day - _WINDOW]
    entries_used = days_used = 0
    if visa is not None:
        for entry, exit_ in stays:
            if entry >= day:
                continue
            entries_used += visa.valid_from <= entry <= visa.valid_until
            first, last = max(entry, visa.valid_from), min(exit_ or day - _DAY, day - _DAY, visa.valid_until)
            days_used += max(0, (last - first).days + 1)
    return allowance(regime, rule_stays, day, visa, entries_used, days_used)


def _until(found: Allowance, day: dt.date) -> dt.date | None:
    """The stay's allowed_until: None without a limit, the day before entry when no day was left."""
    if not found.limited:
        return None
    return found.latest_exit if found.latest_exit is not None else day - _DAY


def _overstay(allowed_until: dt.date | None, last_day: dt.date) -> int:
    return 0 if allowed_until is None else max(0, (last_day - allowed_until).days)


def _refused(crossing_id):
    """Whether an officer refused the traveller at that crossing: a refused entry is no entry."""
    return exists().where(m.Referral.crossing_id == crossing_id, m.Referral.status == m.ReferralStatus.REFUSED)


def refused(db, rules: StayRules, crossing: m.Crossing) -> None:
    """An officer refused the traveller at `crossing`, so it was no crossing: an entry opened (or reopened,
    or closed the one before) a stay that never was, and a refused exit (an arrest at departure) closed a
    stay that goes on. The traveller's stays are replayed without it."""
    rebuild(db, rules, crossing.traveller_id)


def rebuild(db, rules: StayRules, traveller_id: uuid.UUID) -> None:
    """Replay the traveller's crossings, in the order they happened, into fresh stays (alerts raised are lost);
    an entry an officer refused is left out.

    A stay the rule cannot judge (StayError) ends the replay there: the stays before it are kept."""
    db.execute(delete(R).where(R.traveller_id == traveller_id))
    C, D, T = m.Crossing, m.TravelDocument, m.Traveller
    rows = db.execute(
        select(C.id, C.direction, C.occurred_at, C.border_point_id, D.issuing_state, D.number_norm, D.doc_type,
               T.nationality)
        .join(D, C.document_id == D.id).join(T, C.traveller_id == T.id)
        .where(C.traveller_id == traveller_id, ~_refused(C.id)).order_by(C.occurred_at, C.id)).all()
    for row in rows:
        passage = Passage(traveller_id, row.nationality, row.issuing_state, row.number_norm, row.doc_type,
                          row.direction, utc_day(row.occurred_at), row.id, row.border_point_id)
        if not FIRST_DAY <= passage.day <= LAST_DAY:
            continue
        if passage.direction is m.Direction.EXIT:
            _exit(db, passage)
            continue
        try:
            _entry(db, rules, passage)
        except StayError as exc:
            log.warning("stays of traveller %s rebuilt up to %s only: %s", traveller_id, passage.day, exc)
            return


def rebuild_all(database, rules: StayRules, batch: int = 200) -> int:
    """Rebuild every traveller's stays from their crossings (after the upgrade to 0006, whose table starts
    empty, or a change of the stay rules), `batch` travellers a transaction; how many travellers."""
    travellers = database.read(lambda c: list(c.scalars(select(m.Crossing.traveller_id).distinct()
                                                        .order_by(m.Crossing.traveller_id))))
    for start in range(0, len(travellers), batch):
        chunk = travellers[start:start + batch]

        def work(connection, chunk=chunk) -> None:
            for traveller_id in chunk:
                rebuild(connection, rules, traveller_id)
        database.write(work)
    return len(travellers)


def utc_day(instant: dt.datetime) -> dt.date:
    # SQLite hands instants back naive (stored as UTC).
    return (instant if instant.tzinfo is None else instant.astimezone(dt.timezone.utc)).date()
