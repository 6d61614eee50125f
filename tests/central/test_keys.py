"""The keys posts make for their rows (central.database.keys): version-7 UUIDs, in the order made."""
from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.database import keys
from central.database.keys import from_integer, made_at_ms, new_key, parse_key


def test_keys_are_version_7_distinct_and_in_the_order_made(monkeypatch):
    now_ns = 1_796_000_000_000 * 1_000_000  # one millisecond for all of them: the counter orders them
    monkeypatch.setattr(keys.time, "time_ns", lambda: now_ns)
    monkeypatch.setattr(keys, "_last_ms", 0)  # as a new process: no key made yet (restored afterwards)
    made = [new_key() for _ in range(10_000)]  # past the 4,096 a millisecond's counter holds
    assert all(key.version == 7 and key.variant == uuid.RFC_4122 for key in made)
    assert made == sorted(made) and len(set(made)) == len(made)
    assert made_at_ms(made[0]) == now_ns // 1_000_000 and made_at_ms(made[-1]) > made_at_ms(made[0])


def test_a_clock_that_goes_back_does_not_make_an_earlier_key(monkeypatch):
    clock = iter([2_000_000_000_000_000_000, 1_000_000_000_000_000_000])
    monkeypatch.setattr(keys.time, "time_ns", lambda: next(clock))
    monkeypatch.setattr(keys, "_last_ms", 0)
    later, after_going_back = new_key(), new_key()
    assert after_going_back > later


@given(st.integers(min_value=0, max_value=2**63 - 1), st.integers(min_value=0, max_value=2**63 - 1))
def test_integer_keys_become_one_uuid_each_in_their_order(a, b):
    assert from_integer(a).version == 8 and from_integer(a).variant == uuid.RFC_4122
    assert (from_integer(a) < from_integer(b)) == (a < b) and (from_integer(a) == from_integer(b)) == (a == b)
    assert from_integer(a) < new_key()


def test_an_integer_key_out_of_range_is_refused():
    with pytest.raises(ValueError, match="0 to 2"):
        from_integer(2**63)


@given(st.text(max_size=40))
def test_any_text_parses_to_a_key_or_none(text):
    key = parse_key(text)
    assert key is None or str(key) == str(uuid.UUID(text.strip()))


def test_a_key_is_read_back_from_its_text():
    key = new_key()
    assert parse_key(str(key)) == parse_key(f" {str(key).upper()} ") == parse_key(key.hex) == key
    assert parse_key("12") is None and parse_key("") is None
