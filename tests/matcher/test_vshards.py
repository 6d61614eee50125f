"""The pure parts of the clustered matcher: vshard mapping, assignment moves, hedging policy."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.hedging import FAILURE_PENALTY, HEDGE_FLOOR, HedgeDelay, ReplicaHealth, next_action
from matcher.vshards import (
    VSHARDS,
    Assignment,
    balanced,
    finish_move,
    initial,
    parse_stream_subject,
    start_move,
    stream_subject,
    vshard_of,
)

set_names = st.lists(st.sampled_from("ABCDEFGH"), min_size=1, max_size=8, unique=True)


def test_a_subject_has_one_vshard_whatever_the_process():
    # blake2b, not Python's salted hash(): another interpreter with another hash seed agrees
    other = subprocess.run([sys.executable, "-c", "from matcher.vshards import vshard_of; print(vshard_of('PA-2'))"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "12345"}, check=True)
    assert int(other.stdout) == vshard_of("PA-2")
    assert all(0 <= vshard_of(f"S{i}") < VSHARDS for i in range(1000))
    assert len({vshard_of(f"S{i}") for i in range(20000)}) == VSHARDS  # every vshard gets subjects


@given(st.text(alphabet=st.characters(blacklist_characters=". *>"), min_size=1, max_size=40),
       st.integers(0, VSHARDS - 1))
def test_stream_subjects_round_trip(gallery, vshard):
    assert parse_stream_subject(stream_subject(gallery, vshard)) == (gallery, vshard)


@given(st.text(max_size=60))
def test_a_foreign_subject_is_refused_clearly(text):
    try:
        gallery, vshard = parse_stream_subject(text)
    except ValueError as exc:
        assert "not a gallery stream subject" in str(exc)
    else:
        assert text == stream_subject(gallery, vshard)


@given(set_names, set_names)
def test_a_rebalance_serves_every_vshard_once_at_every_step_and_moves_little(before, after):
    current = initial(before)
    current.check()
    moving = start_move(current, after)
    moving.check()  # the old owners still serve everything while the newcomers warm up
    final = finish_move(moving)
    final.check()
    sizes = [len(final.serving.get(name, ())) for name in after]
    assert set(final.serving) == set(after) and max(sizes) - min(sizes) <= 1
    moved = sum(len(v) for v in moving.warming.values())
    kept = set(before) & set(after)
    # a set that stays keeps up to its new quota: only the surplus and the leavers' vshards move
    must_move = VSHARDS - sum(min(len(current.serving[n]), len(final.serving[n])) for n in kept)
    assert moved == must_move
    for name, vshards in moving.warming.items():  # warming vshards are new to their set
        assert not vshards & current.serving.get(name, frozenset())


def test_adding_a_third_set_moves_a_third():
    moving = start_move(initial(["A", "B"]), ["A", "B", "C"])
    assert set(moving.warming) == {"C"} and len(moving.warming["C"]) == VSHARDS // 3
    assert moving.held_by("C") == moving.warming["C"] and moving.owner(next(iter(moving.warming["C"]))) in "AB"
    final = finish_move(moving)
    assert final.serving["C"] == moving.warming["C"] and final.version == moving.version + 1


def test_the_table_round_trips_and_catches_a_double_owner():
    table = start_move(initial(["A", "B"]), ["A", "B", "C"])
    assert Assignment.from_json(table.to_json()) == table
    broken = Assignment(9, {"A": frozenset(range(VSHARDS)), "B": frozenset({3})})
    with pytest.raises(ValueError, match="vshard 3 served by both"):
        broken.check()
    with pytest.raises(ValueError, match="distinct"):
        balanced(table, ["A", "A"])


def test_hedging_asks_the_next_replica_when_the_first_is_slow_or_failed():
    # nothing asked yet: ask; one in flight and young: wait; past hedge_after: ask another
    assert next_action(0.0, 0.0, 0, 0, 2, 0.05, 1.0) == "ask"
    assert next_action(0.0, 0.01, 1, 1, 2, 0.05, 1.0) == "wait"
    assert next_action(0.0, 0.06, 1, 1, 2, 0.05, 1.0) == "ask"
    assert next_action(0.0, 0.01, 1, 0, 2, 0.05, 1.0) == "ask"  # the first failed: at once
    assert next_action(0.0, 0.5, 2, 1, 2, 0.05, 1.0) == "wait"  # all asked, one still may answer
    assert next_action(0.0, 0.5, 2, 0, 2, 0.05, 1.0) == "give_up"  # all failed: the set is missing
    assert next_action(0.0, 1.0, 1, 1, 2, 0.05, 1.0) == "give_up"  # the deadline


def test_a_failed_replica_is_tried_last_until_it_answers_again():
    health = ReplicaHealth()
    health.answered("a:1", 0.002)
    health.answered("b:1", 0.004)
    assert health.order(["b:1", "a:1", "new:1"]) == ["new:1", "a:1", "b:1"]
    health.failed("a:1")
    assert health.latency["a:1"] >= FAILURE_PENALTY
    assert health.order(["a:1", "b:1"]) == ["b:1", "a:1"]
    health.answered("a:1", 0.001)
    assert health.order(["a:1", "b:1"]) == ["a:1", "b:1"]


def test_the_hedge_delay_follows_the_slow_tenth_of_recent_answers_within_its_bounds():
    delay = HedgeDelay(ceiling=0.05)
    for _ in range(31):
        delay.observe(0.002)
    assert delay.current() == 0.05  # too few answers yet: the ceiling
    for i in range(481):  # 90 % answer in 6 ms, the slowest tenth in 30 ms
        delay.observe(0.030 if i % 10 == 0 else 0.006)
    assert 0.006 <= delay.current() < 0.030
    for _ in range(512):
        delay.observe(0.001)
    assert delay.current() == HEDGE_FLOOR  # never sooner than the floor, however fast
    for _ in range(512):
        delay.observe(0.4)
    assert delay.current() == 0.05  # never later than the ceiling
