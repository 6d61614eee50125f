"""Co-travel in memory: pairs within the window at the same point and direction, occasions, groups."""
from __future__ import annotations

import datetime as dt
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from central.intelligence.cotravel import (
    Passage,
    Passages,
    co_travellers,
    co_travellers_columns,
    co_travellers_of,
    groups,
    pairs,
)

T0 = dt.datetime(2026, 6, 1, 8, tzinfo=dt.timezone.utc)
TEN = dt.timedelta(minutes=10)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_together_means_same_point_same_direction_within_the_window():
    passages = [Passage(1, 10, "FRA ENTRY", at(0)), Passage(2, 11, "FRA ENTRY", at(9)),
                Passage(3, 12, "FRA ENTRY", at(18)), Passage(4, 13, "FRA EXIT", at(1)),
                Passage(5, 14, "BER ENTRY", at(0))]
    assert set(pairs(passages, TEN)) == {(10, 11), (11, 12)}


def test_occasions_count_the_fewer_crossings_that_met():
    # 11 passes three times within minutes of 10's one crossing: one occasion, not three.
    passages = [Passage(1, 10, "P", at(0)), Passage(2, 11, "P", at(1)), Passage(3, 11, "P", at(2)),
                Passage(4, 11, "P", at(3))]
    assert pairs(passages, TEN)[(10, 11)].occasions == 1


def test_a_facilitator_with_changing_companions_is_one_group_and_strangers_are_none():
    passages, crossing = [], iter(range(1, 10_000))
    rng = random.Random(7)
    for week in range(6):
        companions = [100 + 2 * (week % 3), 101 + 2 * (week % 3)]  # three pairs, each twice
        start = week * 7 * 24 * 60
        for traveller in [1, *companions]:
            passages.append(Passage(next(crossing), traveller, "FRA ENTRY", at(start + rng.uniform(0, 4))))
    for stranger in range(500, 560):  # crossing alone, days apart
        passages.append(Passage(next(crossing), stranger, "FRA ENTRY", at(rng.uniform(0, 60) * 24 * 60 + 3000)))
    found = co_travellers(passages, TEN, 2)
    assert groups(found)[0] == {1, 100, 101, 102, 103, 104, 105}
    assert all(t.occasions >= 2 for t in found.values())


@settings(deadline=None)  # timing is not what is tested: under a load of 20 one example took over 200 ms
@given(st.lists(st.tuples(st.integers(1, 6), st.sampled_from(["A", "B"]), st.integers(0, 120)), max_size=40),
       st.randoms())
def test_pairs_do_not_depend_on_the_order_passages_come_in(rows, rnd):
    passages = [Passage(i, traveller, point, at(minute)) for i, (traveller, point, minute) in enumerate(rows)]
    shuffled = passages[:]
    rnd.shuffle(shuffled)
    first, second = pairs(passages, TEN), pairs(shuffled, TEN)
    assert {k: v.occasions for k, v in first.items()} == {k: v.occasions for k, v in second.items()}
    for (a, b), together in first.items():
        assert a < b and together.occasions >= 1


def _columns(passages: list[Passage]) -> Passages:
    labels = sorted({p.point for p in passages})
    return Passages(np.array([p.crossing for p in passages], dtype=np.int64),
                    np.array([p.traveller for p in passages], dtype=np.int64),
                    np.array([labels.index(p.point) for p in passages], dtype=np.int64),
                    np.array([int(p.at.timestamp()) for p in passages], dtype=np.int64), labels)


@settings(max_examples=200, deadline=None)  # timing is not what is tested, and the machine is shared
@given(st.lists(st.tuples(st.integers(0, 8), st.sampled_from(["A ENTRY", "A EXIT", "B ENTRY"]),
                          st.integers(0, 90)), max_size=80),
       st.integers(2, 4))
def test_the_columnar_build_finds_exactly_what_the_sliding_window_finds(rows, k):
    passages = [Passage(i, traveller, point, at(minute)) for i, (traveller, point, minute) in enumerate(rows)]
    expected = co_travellers(passages, TEN, k)
    found = co_travellers_columns(_columns(passages), TEN, k)
    assert {p: (t.a_crossings, t.b_crossings, t.points) for p, t in found.items()} == {
        p: (t.a_crossings, t.b_crossings, t.points) for p, t in expected.items()}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(1, 3), st.sampled_from(["A ENTRY", "B ENTRY"]),
                          st.integers(0, 90)), max_size=60))
def test_the_columnar_build_takes_the_keys_of_border_posts(rows):
    """Keys drawn from posts' ranges (post n: n * 2**40 + k, docs/SITES.md), as at headquarters: the same
    pairs as the sliding window finds, under those keys."""
    passages = [Passage(i, (post << 40) + traveller, point, at(minute))
                for i, (traveller, post, point, minute) in enumerate(rows)]
    expected = co_travellers(passages, TEN, 2)
    found = co_travellers_columns(_columns(passages), TEN, 2)
    assert {p: (t.a_crossings, t.b_crossings, t.points) for p, t in found.items()} == {
        p: (t.a_crossings, t.b_crossings, t.points) for p, t in expected.items()}


def test_the_columnar_build_finds_the_facilitators_group_among_many_strangers():
    rng = random.Random(3)
    passages = [Passage(i, rng.randrange(100, 3000), rng.choice(["A ENTRY", "B ENTRY"]),
                        at(rng.uniform(0, 30 * 24 * 60))) for i in range(20_000)]
    for trip in range(4):
        for traveller in (1, 2 + trip % 2, 4 + trip % 2):
            passages.append(Passage(len(passages), traveller, "A ENTRY", at(trip * 5000 + traveller / 10)))
    found = co_travellers_columns(_columns(passages), TEN, 2)
    assert {1, 2, 3, 4, 5} in groups(found)
    assert all(t.occasions >= 2 for t in found.values())
    assert co_travellers_columns(_columns(passages[:0]), TEN, 2) == {}


def test_the_columnar_build_finds_the_same_in_several_passes_and_small_chunks(monkeypatch):
    rng = random.Random(5)
    passages = [Passage(i, rng.randrange(0, 40), rng.choice(["A ENTRY", "A EXIT", "B ENTRY"]),
                        T0 + dt.timedelta(seconds=rng.randrange(3 * 24 * 3600))) for i in range(3000)]
    expected = co_travellers(passages, TEN, 2)
    assert expected  # forty travellers crossing for three days: many meet twice
    monkeypatch.setattr("central.intelligence.cotravel.MEETINGS_AT_ONCE", 500)
    monkeypatch.setattr("central.intelligence.cotravel._CHUNK_MEETINGS", 64)
    found = co_travellers_columns(_columns(passages), TEN, 2)
    assert {p: (t.a_crossings, t.b_crossings, t.points) for p, t in found.items()} == {
        p: (t.a_crossings, t.b_crossings, t.points) for p, t in expected.items()}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["A ENTRY", "A EXIT"]), st.integers(0, 60)), max_size=50),
       st.integers(0, 6), st.integers(1, 3))
def test_one_travellers_co_travellers_are_theirs_among_everyones(rows, traveller, k):
    passages = [Passage(i, who, point, at(minute)) for i, (who, point, minute) in enumerate(rows)]
    expected = {pair: t for pair, t in co_travellers(passages, TEN, k).items() if traveller in pair}
    found = co_travellers_of(passages, traveller, TEN, k)
    assert {p: (t.a_crossings, t.b_crossings, t.points) for p, t in found.items()} == {
        p: (t.a_crossings, t.b_crossings, t.points) for p, t in expected.items()}
