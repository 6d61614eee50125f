"""The national stay (central.records.national_stay): the pure replay gives exactly the stays `rebuild` writes
for one traveller, whatever their crossings; and at headquarters, where one person crossing at two posts is
two traveller rows, CheckStay's work judges the crossings of both."""
from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, text

from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database
from central.database.keys import new_key
from central.records import gate_calls, national_stay, stays
from central.risk.rules import RiskRules
from central.stays.regime import Regime, StayRules
from drivers.alertmatch.normalize import name_key

RULES = RiskRules("test", [])
STAY_RULES = StayRules(visa_required=frozenset({"XXA"}))
START = dt.date(2026, 1, 1)
BORN = dt.date(1980, 1, 1)
_NAMES = (f"{a}{b}{c}" for a, b, c in itertools.product("ABCDEFGHIJ", repeat=3))


@pytest.fixture(scope="module")
def database():
    database = Database("sqlite://")
    database.migrate()
    yield database
    database.dispose()


def record(database, surname: str, number: str, nationality: str, direction: m.Direction,
           at: dt.datetime) -> gate_calls.Recorded:
    new = gate_calls.NewCrossing(
        crossing_id=str(uuid.uuid4()), station="G1", border_point="BP", direction=direction, occurred_at=at,
        document=gate_calls.DocumentData(number, "P", "UTO", None),
        traveller=gate_calls.TravellerData(surname, "", nationality, "F", BORN),
        decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=None)
    return database.write(lambda c: gate_calls.record_crossing(c, Caller(station="G1"), new, RULES,
                                                               stay_rules=STAY_RULES))


def refuse(database, crossing_uuid: str) -> None:
    """An officer's refusal at that crossing, as the referral's outcome."""
    def work(c):
        crossing, station = c.execute(select(m.Crossing.id, m.Crossing.station_id)
                                      .where(m.Crossing.crossing_id == crossing_uuid)).one()
        c.execute(insert(m.Referral).values(referral_id=str(uuid.uuid4()), crossing_id=crossing,
                                            station_id=station, status=m.ReferralStatus.REFUSED, reasons=[],
                                            watchlist_candidates=[], owning_agency=""))
    database.write(work)


_COMPARED = ("entry_day", "exit_day", "allowed_until", "overstay_days", "regime", "nationality", "border_point_id",
             "entry_crossing_id", "exit_crossing_id")

# A crossing as (days after the one before: 0 is the same day, direction, refused by an officer); short gaps
# often, so that same-day returns and second entries on a stay's first day come up.
crossings = st.lists(st.tuples(st.sampled_from([0, 0, 1]) | st.integers(0, 100),
                               st.sampled_from([m.Direction.ENTRY, m.Direction.EXIT]),
                               st.sampled_from([False, False, False, True])), min_size=1, max_size=14)
visas = st.none() | st.tuples(st.integers(-30, 300), st.integers(10, 400), st.none() | st.integers(1, 3),
                              st.integers(5, 90))


@settings(max_examples=150, deadline=None)
@given(crossings, st.sampled_from(["UTO", "FRA", "XXA"]), visas, st.integers(0, 23))
def test_the_replay_gives_exactly_the_stays_rebuild_writes(database, history, nationality, visa, hour):
    surname, number = "REPLAY" + next(_NAMES), uuid.uuid4().hex[:9].upper()
    at = dt.datetime.combine(START, dt.time(hour), dt.timezone.utc)
    for gap, direction, refused in history:
        at += dt.timedelta(days=gap, minutes=1)
        recorded = record(database, surname, number, nationality, direction, at)
        if refused:
            refuse(database, recorded.crossing_id)

    def judge(c):
        traveller = c.execute(select(m.Traveller.id).where(m.Traveller.surname == surname)).scalar_one()
        if visa is not None:
            starts, lasts, entries, duration = visa
            valid_from = START + dt.timedelta(days=starts)
            c.execute(insert(m.PermittedStay).values(
                issuing_state="UTO", number_norm=number, valid_from=valid_from,
                valid_to=valid_from + dt.timedelta(days=lasts), kind=m.PermitKind.SHORT_STAY_VISA,
                entries=entries, duration_days=duration, traveller_id=traveller))
        question = stays.StayQuestion("UTO", number, "P", name_key(surname, ""), BORN, nationality)
        replayed = national_stay.replay(national_stay._crossings(
            c, STAY_RULES, [traveller], national_stay._permits(c, [traveller], question)))
        stays.rebuild(c, STAY_RULES, traveller)
        written = c.execute(select(*(getattr(m.StayRecord, name) for name in _COMPARED))
                            .where(m.StayRecord.traveller_id == traveller).order_by(m.StayRecord.entry_day)).all()
        return replayed, written
    replayed, written = database.write(judge)
    assert [tuple(getattr(s, name) for name in _COMPARED) for s in replayed] == [tuple(row) for row in written]


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def entry(n: int, crossing: int | None = None) -> national_stay.Crossed:
    return national_stay.Crossed(day(n), True, crossing, 1, "UTO", Regime.VISA_EXEMPT, None, day(n - 179))


def exit_(n: int, crossing: int | None = None) -> national_stay.Crossed:
    return national_stay.Crossed(day(n), False, crossing, 1, "UTO")


def spans(crossings) -> list[tuple[int, int | None, int]]:
    return [((s.entry_day - START).days, None if s.exit_day is None else (s.exit_day - START).days, s.overstay_days)
            for s in national_stay.replay(crossings)]


def test_replay_edge_cases():
    assert spans([]) == []
    assert spans([exit_(3)]) == []                                   # an exit with no entry opens nothing
    assert spans([entry(0), exit_(9)]) == [(0, 9, 0)]
    assert spans([entry(0), exit_(9), entry(9)]) == [(0, None, 0)]   # out and back in on one day: one stay
    assert spans([entry(0), entry(0), exit_(4)]) == [(0, 4, 0)]      # a second entry on the first day joins it
    assert spans([entry(0), entry(20), exit_(25)]) == [(0, 19, 0), (20, 25, 0)]  # an exit went unrecorded
    assert spans([entry(0), exit_(99)]) == [(0, 99, 10)]              # allowed until day 89: 10 days over
    assert spans([entry(0), exit_(5), exit_(7)]) == [(0, 5, 0)]      # a second exit finds no open stay
    far = national_stay.Crossed(dt.date(1800, 1, 1), True, None, 1, "UTO", Regime.VISA_EXEMPT, None, START)
    assert spans([far, entry(0)]) == [(0, None, 0)]                  # beyond the rule's days: left out
    free = national_stay.Crossed(day(0), True, None, 1, "FRA", Regime.FREE_MOVEMENT, None, day(-179))
    assert [s.allowed_until for s in national_stay.replay([free])] == [None]


# ------------------------------------------------------------------ headquarters: two sites' rows

def headquarters_database(tmp_path) -> Database:
    """A migrated SQLite database keyed as headquarters': documents unique per (site, state, number), as
    `prepare-hq` makes them on PostgreSQL (SQLite cannot drop a constraint: the table is made again)."""
    database = Database(f"sqlite:///{tmp_path / 'hq.sqlite'}")
    database.migrate()

    def rekey(c):
        ddl = c.execute(text("SELECT sql FROM sqlite_master WHERE name = 'travel_documents'")).scalar_one()
        per_site = re.sub(r"CONSTRAINT uq_travel_documents_state_number UNIQUE \(issuing_state, number_norm\)",
                          "CONSTRAINT uq_travel_documents_state_number UNIQUE (site, issuing_state, number_norm)",
                          ddl)
        assert per_site != ddl, ddl
        # SQLite's way to change a constraint: a new table, the rows copied, the old one dropped, the new renamed.
        c.execute(text(re.sub(r'CREATE TABLE "?travel_documents"?', "CREATE TABLE travel_documents_hq", per_site,
                              count=1)))
        c.execute(text("INSERT INTO travel_documents_hq SELECT * FROM travel_documents"))
        c.execute(text("DROP TABLE travel_documents"))
        c.execute(text("ALTER TABLE travel_documents_hq RENAME TO travel_documents"))
    database.write(rekey)
    return database


def post_rows(c, site: str, passages: list[tuple[m.Direction, dt.date]], nationality="UTO",
              passport="HQ123456") -> uuid.UUID:
    """One post's rows of a traveller, as replicated to headquarters (keys made at the post); its key."""
    point, station, traveller, document = new_key(), new_key(), new_key(), new_key()
    c.execute(insert(m.BorderPoint).values(id=point, code=f"BP-{site}", name=site))
    c.execute(insert(m.Station).values(id=station, code=f"G-{site}", border_point_id=point))
    c.execute(insert(m.Traveller).values(id=traveller, surname="TRAVELLER", given_names="ANNA", name_key=name_key(
        "TRAVELLER", "ANNA"), nationality=nationality, sex="F", birth_date=BORN))
    c.execute(insert(m.TravelDocument).values(id=document, number=passport, number_norm=passport,
                                              issuing_state="UTO", doc_type="P", traveller_id=traveller, site=site))
    for direction, on in passages:
        c.execute(insert(m.Crossing).values(
            id=new_key(), crossing_id=str(uuid.uuid4()), station_id=station, border_point_id=point,
            traveller_id=traveller, document_id=document, direction=direction,
            occurred_at=dt.datetime.combine(on, dt.time(12), dt.timezone.utc), decision=m.GateDecision.OPEN,
            reasons=[], checks=[]))
    stays.rebuild(c, STAY_RULES, traveller)
    return traveller


def question(passport="HQ123456", nationality="UTO") -> stays.StayQuestion:
    return stays.StayQuestion("UTO", passport, "P", name_key("TRAVELLER", "ANNA"), BORN, nationality)


def test_headquarters_judges_an_entry_at_one_post_and_an_exit_at_another_as_one_stay(tmp_path):
    database = headquarters_database(tmp_path)
    entered, today = dt.date(2026, 1, 1), dt.date(2026, 6, 1)
    # In at post A on 1 January, out at post B on 31 March (90 days), back on 1 June.
    at_a, _ = database.write(lambda c: (post_rows(c, "post_a", [(m.Direction.ENTRY, entered)]),
                                        post_rows(c, "post_b", [(m.Direction.EXIT, dt.date(2026, 3, 31))])))
    answer = database.read(lambda c: national_stay.authorised_nationally(c, STAY_RULES, question(), today))
    assert answer.travellers == 2
    # 1 January to 31 March is 90 days; on 1 June the window (4 December to 1 June) holds all of them, and
    # they leave it one a day from 30 June: 1 June itself is the 91st day, so no day is left.
    assert answer.allowance.days_used == 91 and answer.allowance.latest_exit is None
    assert answer.allowance.refused.startswith("F: has already stayed 90 days")
    # Post A alone (its own stays) sees a stay that is still open: it would judge otherwise.
    post_a = database.read(lambda c: stays.authorised(c, STAY_RULES, at_a, "UTO", "UTO", "HQ123456", "P", today))
    assert (post_a.days_used, post_a.refused) != (answer.allowance.days_used, answer.allowance.refused)
    database.dispose()


def test_headquarters_counts_the_days_spent_through_either_post(tmp_path):
    database = headquarters_database(tmp_path)
    at_a, _ = database.write(lambda c: (
        post_rows(c, "post_a", [(m.Direction.ENTRY, dt.date(2026, 1, 1)), (m.Direction.EXIT, dt.date(2026, 1, 30))]),
        post_rows(c, "post_b", [(m.Direction.ENTRY, dt.date(2026, 2, 10)),
                                   (m.Direction.EXIT, dt.date(2026, 3, 11))])))
    answer = database.read(lambda c: national_stay.authorised_nationally(c, STAY_RULES, question(),
                                                                         dt.date(2026, 4, 1)))
    # 30 + 30 days before, and 1 April: 61 used; 29 more days from 1 April (the window keeps them all).
    assert (answer.travellers, answer.allowance.days_used) == (2, 61)
    assert answer.allowance.latest_exit == dt.date(2026, 4, 30)
    only_a = database.read(lambda c: stays.authorised(c, STAY_RULES, at_a, "UTO", "UTO", "HQ123456", "P",
                                                      dt.date(2026, 4, 1)))
    assert only_a.days_used == 31  # what post A alone would have said
    database.dispose()


def test_one_row_keeps_the_stays_table_and_nobody_known_is_judged_on_nothing(tmp_path):
    database = headquarters_database(tmp_path)
    database.write(lambda c: post_rows(c, "post_a", [(m.Direction.ENTRY, dt.date(2026, 1, 1)),
                                                        (m.Direction.EXIT, dt.date(2026, 1, 10))]))
    answer = database.read(lambda c: national_stay.authorised_nationally(c, STAY_RULES, question(),
                                                                         dt.date(2026, 2, 1)))
    assert (answer.travellers, answer.allowance.days_used) == (1, 11)
    stranger = database.read(lambda c: national_stay.authorised_nationally(
        c, STAY_RULES, stays.StayQuestion("UTO", "NOBODY1", "P", name_key("NEW", "ONE"), BORN, "UTO"),
        dt.date(2026, 2, 1)))
    assert (stranger.travellers, stranger.allowance.days_used) == (0, 1)
    database.dispose()


def test_a_renewed_passport_finds_the_same_person_at_each_site(tmp_path):
    database = headquarters_database(tmp_path)
    database.write(lambda c: (
        post_rows(c, "post_a", [(m.Direction.ENTRY, dt.date(2026, 1, 1)), (m.Direction.EXIT, dt.date(2026, 1, 20))],
                  passport="OLD00001"),
        post_rows(c, "post_b", [(m.Direction.ENTRY, dt.date(2026, 2, 1)), (m.Direction.EXIT, dt.date(2026, 2, 20))],
                  passport="OLD00002")))
    answer = database.read(lambda c: national_stay.authorised_nationally(c, STAY_RULES, question("NEW00003"),
                                                                         dt.date(2026, 3, 1)))
    assert (answer.travellers, answer.allowance.days_used) == (2, 41)
    database.dispose()
