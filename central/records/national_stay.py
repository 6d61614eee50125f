"""The authorised stay judged on every border post's crossings, where they meet: at headquarters.

Each post knows a traveller by the document they showed there, so at headquarters (docs/SITES.md) one
person who crossed at two posts is two traveller rows, each with its own stays. `authorised_nationally`
finds every row holding the document (the same issuing state and normalised number, at any site); when
the document is known nowhere, `holder`'s same-person fallback, one row (the lowest key) per site. With
one row, the stays table answers, exactly as `central.records.stays.authorised` always has (the fast
path). With more, their crossings are replayed together, in the order they happened, into stays in
memory (`replay`), and the rule judges those: an entry at post A and an exit at post B are one stay.

`replay` is pure: the crossings in, the stays `central.records.stays.rebuild` would write for them out
(the same edge cases: a refused crossing left out by whoever reads them, one stay for leaving and coming
back on one day, an unrecorded exit closing the stay the day before the next entry, an exit with no open
stay counting nothing, a stay the rule cannot judge ending the replay). It uses the stays table's own
arithmetic (`_allowance`, `_with_entry`, ...), so that the two cannot judge differently.

What stays per post: permits (`permitted_stays`) are LOCAL, so headquarters judges a visa-required
traveller without the visa a post entered; the overstay an exit records is the post's own stays'.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Sequence

from sqlalchemy import bindparam, func, select

from central.database import models as m
from central.database.prepared import Prepared
from central.errors import FailedPrecondition
from central.records import stays
from central.records.stays import _allowance, _overstay, _refused, _regime_with, _until, _with_entry
from central.stays.regime import Allowance, Regime, StayRules, Visa
from central.stays.rule import FIRST_DAY, LAST_DAY, StayError

_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Crossed:
    """A crossing as the replay needs it; for an entry, the traveller's regime on its day (`_regime`)."""

    day: dt.date
    entering: bool
    crossing_row_id: uuid.UUID | None
    border_point_id: uuid.UUID
    nationality: str
    regime: Regime = Regime.VISA_EXEMPT
    visa: Visa | None = None
    since: dt.date = FIRST_DAY      # how far back stays matter on `day` (the 180 days, or the visa's start)


@dataclass(frozen=True)
class ReplayedStay:
    """One row of the stays table, as `rebuild` writes it (less its key and traveller)."""

    entry_day: dt.date
    exit_day: dt.date | None
    allowed_until: dt.date | None
    overstay_days: int
    regime: str
    nationality: str
    border_point_id: uuid.UUID
    entry_crossing_id: uuid.UUID | None
    exit_crossing_id: uuid.UUID | None


def replay(crossings: Sequence[Crossed]) -> list[ReplayedStay]:
    """The stays made by `crossings` (in the order they happened, refused ones left out), oldest first."""
    made: list[ReplayedStay] = []
    for crossed in crossings:
        if not FIRST_DAY <= crossed.day <= LAST_DAY:
            continue  # beyond what the rule judges, as in `rebuild`
        if not crossed.entering:
            _exit(made, crossed)
            continue
        try:
            _entry(made, crossed)
        except StayError:
            break  # `rebuild` keeps the stays before a stay the rule cannot judge, and stops there
    return made


def _exit(made: list[ReplayedStay], crossed: Crossed) -> None:
    open_at = next((i for i in range(len(made) - 1, -1, -1) if made[i].exit_day is None), None)
    if open_at is None:
        return  # the entry went unrecorded: nothing opened, nothing counted
    stay = made[open_at]
    made[open_at] = replace(stay, exit_day=crossed.day, exit_crossing_id=crossed.crossing_row_id,
                            overstay_days=_overstay(stay.allowed_until, crossed.day))


def _entry(made: list[ReplayedStay], crossed: Crossed) -> None:
    day = crossed.day
    # As `_STAYS_SINCE`: the stays that reach into [since, ...]; the last of them is the one to extend.
    reaching = [i for i, s in enumerate(made) if s.exit_day is None or s.exit_day >= crossed.since]
    last = made[reaching[-1]] if reaching else None
    if last is not None and last.exit_day is None and last.entry_day == day:
        return  # a second entry on the stay's first day joins it
    pairs = [(made[i].entry_day, made[i].exit_day) for i in reaching]
    until = _until(_allowance(crossed.regime, crossed.visa, _with_entry(pairs, day), day), day)
    if last is not None and last.exit_day is None:  # its exit went unrecorded: it ended the day before
        made[reaching[-1]] = replace(last, exit_day=day - _DAY, exit_crossing_id=None,
                                     overstay_days=_overstay(last.allowed_until, day - _DAY))
    elif last is not None and last.exit_day == day:  # out and back in on one day: one stay
        made[reaching[-1]] = replace(last, exit_day=None, exit_crossing_id=None, overstay_days=0,
                                     allowed_until=until)
        return
    made.append(ReplayedStay(day, None, until, 0, crossed.regime.value, crossed.nationality,
                             crossed.border_point_id, crossed.crossing_row_id, None))


# ------------------------------------------------------------------ reading them at a site

@dataclass(frozen=True)
class NationalAnswer:
    allowance: Allowance
    travellers: int     # traveller rows whose crossings were judged together (0: someone never recorded)


_DOCUMENT_HOLDERS = Prepared(select(m.TravelDocument.traveller_id).where(
    m.TravelDocument.issuing_state == bindparam("state"), m.TravelDocument.number_norm == bindparam("norm")))
# With the site that recorded them: a traveller row is made with the document it crossed on, and the
# document keeps the site (travel_documents.site, docs/SITES.md).
_PEOPLE = Prepared(select(m.Traveller.id, func.min(m.TravelDocument.site))
                   .join(m.TravelDocument, m.TravelDocument.traveller_id == m.Traveller.id).where(
    m.Traveller.name_key == bindparam("key"), m.Traveller.birth_date == bindparam("born"),
    m.Traveller.nationality == bindparam("nationality")).group_by(m.Traveller.id).order_by(m.Traveller.id))


def holders_everywhere(db, question: stays.StayQuestion) -> list[uuid.UUID]:
    """Every traveller row holding the document, at any site; else `holder`'s fallback, the lowest key of
    the same names, birth date and nationality at each site."""
    found = sorted({row[0] for row in _DOCUMENT_HOLDERS.rows(db, {"state": question.issuing_state,
                                                                  "norm": question.number_norm})})
    if found or question.birth_date is None:
        return found
    first_per_site: dict[str, uuid.UUID] = {}
    for traveller_id, site in _PEOPLE.rows(db, {"key": question.name_key, "born": question.birth_date,
                                                "nationality": question.nationality}):
        first_per_site.setdefault(site, traveller_id)
    return sorted(first_per_site.values())


def authorised_nationally(db, rules: StayRules, question: stays.StayQuestion, day: dt.date) -> NationalAnswer:
    """What the traveller entering on `day` may stay, judged on the crossings of every row holding them."""
    travellers = holders_everywhere(db, question)
    if len(travellers) <= 1:  # one site knows them (or none): the stays table, as always
        return NationalAnswer(stays.authorised(
            db, rules, travellers[0] if travellers else None, question.nationality, question.issuing_state,
            question.number_norm, question.document_code, day), len(travellers))
    permits = _permits(db, travellers, question)
    made = replay(_crossings(db, rules, travellers, permits))
    regime, visa, since = _regime_with(rules, question.nationality, question.document_code,
                                       _in_force(permits, set(travellers), question.issuing_state,
                                                 question.number_norm, day), day)
    # As `authorised`: the stays reaching into [since, ...], none after `day` (a question about the past).
    past = [(s.entry_day, s.exit_day) for s in made if (s.exit_day is None or s.exit_day >= since)
            and s.entry_day <= day and (s.exit_day or day) <= day]
    try:
        return NationalAnswer(_allowance(regime, visa, _with_entry(past, day), day), len(travellers))
    except StayError as exc:
        raise FailedPrecondition(f"the traveller's recorded stays cannot be judged: {exc}") from exc


def _crossings(db, rules: StayRules, travellers: list[uuid.UUID], permits: list) -> list[Crossed]:
    """The travellers' crossings in the order they happened (as `rebuild` orders them), refused ones left out."""
    C, D, T = m.Crossing, m.TravelDocument, m.Traveller
    rows = db.execute(
        select(C.id, C.traveller_id, C.direction, C.occurred_at, C.border_point_id, D.issuing_state,
               D.number_norm, D.doc_type, T.nationality)
        .join(D, C.document_id == D.id).join(T, C.traveller_id == T.id)
        .where(C.traveller_id.in_(travellers), ~_refused(C.id)).order_by(C.occurred_at, C.id)).all()
    crossed = []
    for row in rows:
        day = stays.utc_day(row.occurred_at)
        base = Crossed(day, row.direction is m.Direction.ENTRY, row.id, row.border_point_id, row.nationality)
        if base.entering and FIRST_DAY <= day <= LAST_DAY:
            regime, visa, since = _regime_with(rules, row.nationality, row.doc_type, _in_force(
                permits, {row.traveller_id}, row.issuing_state, row.number_norm, day), day)
            base = replace(base, regime=regime, visa=visa, since=since)
        crossed.append(base)
    return crossed


_PERMIT_COLUMNS = (m.PermittedStay.traveller_id, m.PermittedStay.issuing_state, m.PermittedStay.number_norm,
                   m.PermittedStay.kind, m.PermittedStay.valid_from, m.PermittedStay.valid_to,
                   m.PermittedStay.entries, m.PermittedStay.duration_days)


def _permits(db, travellers: list[uuid.UUID], question: stays.StayQuestion) -> list:
    """The permits of any of the travellers, or of any document they crossed with or present now (a post's
    own: `permitted_stays` is not replicated, so at headquarters there are none)."""
    P, D = m.PermittedStay, m.TravelDocument
    documents = select(D.number_norm).where(D.traveller_id.in_(travellers))
    return db.execute(select(*_PERMIT_COLUMNS).where(
        P.traveller_id.in_(travellers) | P.number_norm.in_(documents) | (P.number_norm == question.number_norm))
        ).all()


def _in_force(permits: list, travellers: set[uuid.UUID], issuing_state: str, number_norm: str, day: dt.date) -> list:
    """As `_PERMITS`: those of the traveller or the document in force on `day`, the latest end first."""
    return sorted((p for p in permits if p.valid_from <= day <= p.valid_to and (
        p.traveller_id in travellers or (p.issuing_state, p.number_norm) == (issuing_state, number_norm))),
        key=lambda p: p.valid_to, reverse=True)
