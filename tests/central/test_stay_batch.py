"""central.stays.batch: every line gets an answer or an error, whatever it holds, and the batch goes on."""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.stays import batch
from central.stays.batch import BatchTooLong, check_file, check_line

KEYS = {"id", "days_used", "latest_exit", "days_remaining", "overstay_days"}


def line(case: object) -> bytes:
    return json.dumps(case).encode() + b"\n"


def test_answers_a_case():
    answer = check_line(line({"id": "a", "stays": [["2014-08-15", "2014-09-30"], ["2014-11-01", None]],
                              "on": "2014-11-30"}))
    assert answer == {"id": "a", "days_used": 77, "latest_exit": "2014-12-13", "days_remaining": 14,
                      "overstay_days": 0}


@pytest.mark.parametrize("text, answer", [
    (b"{not json", {"id": None, "error": "not JSON"}),
    (b"\xff\xfe", {"id": None, "error": "not UTF-8"}),
    (b"[1, 2]", {"id": None, "error": "not a JSON object"}),
    (b'{"stays": [], "on": "2024-01-01"}', {"id": None, "error": "missing field: id"}),
    (b'{"id": 7, "stays": [], "on": "2024-01-01"}',
     {"id": None, "error": "id is not a string of at most 200 characters"}),
    (b'{"id": "x", "on": "2024-01-01"}', {"id": "x", "error": "missing field: stays"}),
    (b'{"id": "x", "stays": []}', {"id": "x", "error": "missing field: on"}),
    (b'{"id": "x", "stays": {}, "on": "2024-01-01"}', {"id": "x", "error": "stays is not a list"}),
    (b'{"id": "x", "stays": [["2024-01-01"]], "on": "2024-01-01"}',
     {"id": "x", "error": "stay 1 is not [entry, exit]"}),
    (b'{"id": "x", "stays": [], "on": "2024-02-30"}', {"id": "x", "error": "on is not a date: 2024-02-30"}),
    (b'{"id": "x", "stays": [], "on": "20240101"}', {"id": "x", "error": "on is not a date written YYYY-MM-DD"}),
    (b'{"id": "x", "stays": [[null, null]], "on": "2024-01-01"}',
     {"id": "x", "error": "stay 1 entry is not a date written YYYY-MM-DD"}),
    (b'{"id": "x", "stays": [["2024-01-05", "2024-01-01"]], "on": "2024-02-01"}',
     {"id": "x", "error": "stay 1 exits before it enters (2024-01-01 < 2024-01-05)"}),
    (b'{"id": "x", "stays": [["2024-03-05", null]], "on": "2024-02-01"}',
     {"id": "x", "error": "stay 1 begins after on (2024-03-05 > 2024-02-01)"}),
    (b'{"id": "x", "stays": [["2024-01-01", "2024-01-09"], ["2024-01-09", null]], "on": "2024-02-01"}',
     {"id": "x", "error": "stay 2 overlaps stay 1: it begins on or before that stay's exit"}),
    (b'{"id": "x", "stays": [], "on": "0001-01-01"}',
     {"id": "x", "error": "on 0001-01-01 is outside 1900-01-01..2199-12-31"}),
    (b'{"id": "x", "stays": [], "on": "2024-01-01", "n": ' + b"9" * 5000 + b"}", {"id": None, "error": "not JSON"}),
    (b"[" * 100_000 + b"]" * 100_000, {"id": None, "error": "not JSON"}),
])
def test_a_malformed_line_gets_its_reason(text, answer):
    assert check_line(text) == answer


def test_too_many_stays_are_refused_before_any_is_read():
    answer = check_line(line({"id": "x", "stays": [["2024-01-01", "2024-01-01"]] * 1001, "on": "2024-01-01"}))
    assert answer == {"id": "x", "error": "1001 stays, more than the 1000 accepted"}


def test_the_batch_goes_on_past_bad_lines_and_skips_blank_ones():
    good = line({"id": "b", "stays": [], "on": "2024-01-01"})
    answers = list(check_file(io.BytesIO(b"nonsense\n\n   \n" + good + b'{"id": "c"}')))
    assert [a["id"] for a in answers] == [None, "b", "c"]
    assert "error" in answers[0] and set(answers[1]) == KEYS and answers[2]["error"] == "missing field: stays"


def test_an_overlong_line_is_answered_without_being_held(monkeypatch):
    monkeypatch.setattr(batch, "MAX_LINE_BYTES", 100)
    good = line({"id": "b", "stays": [], "on": "2024-01-01"})
    answers = list(check_file(io.BytesIO(b"x" * 1000 + b"\n" + good + b"y" * 101)))
    assert answers[0] == {"id": None, "error": "line longer than 100 bytes"}
    assert answers[1]["id"] == "b" and answers[2] == answers[0]


def test_a_batch_longer_than_its_bound_stops_with_a_reason(monkeypatch):
    monkeypatch.setattr(batch, "MAX_LINES", 3)
    answers = check_file(io.BytesIO(line({"id": "b", "stays": [], "on": "2024-01-01"}) * 5))
    assert len([next(answers) for _ in range(3)]) == 3
    with pytest.raises(BatchTooLong, match="more than 3 lines"):
        next(answers)


def _answered(answer: dict) -> bool:
    return set(answer) in (KEYS, {"id", "error"}) and (answer["id"] is None or isinstance(answer["id"], str))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(text):
    assert _answered(check_line(text))


DATES = st.one_of(st.dates().map(str), st.text(max_size=12), st.none(), st.integers(), st.just("2024-02-30"))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                    max_leaves=12)
CASES = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.text(max_size=8), JSON), "on": st.one_of(DATES, JSON),
    "stays": st.one_of(st.lists(st.one_of(st.lists(DATES, max_size=3), JSON), max_size=6), JSON)})


@settings(max_examples=500, deadline=None)
@given(st.one_of(CASES, JSON))
def test_arbitrary_json_near_and_far_from_a_case_never_raises(case):
    assert _answered(check_line(json.dumps(case)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=40), CASES.map(lambda c: json.dumps(c).encode())), max_size=8))
def test_a_file_of_arbitrary_lines_gives_one_answer_per_non_blank_line(lines):
    lines = [text.replace(b"\n", b" ").replace(b"\r", b" ") for text in lines]
    answers = list(check_file(io.BytesIO(b"\n".join(lines))))
    assert len(answers) == len([text for text in lines if text.strip()])
    assert all(_answered(answer) for answer in answers)


def test_an_endless_line_ends_at_the_batch_bound(monkeypatch):
    monkeypatch.setattr(batch, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(batch, "MAX_BATCH_BYTES", 10_000)

    class Zeros(io.RawIOBase):  # /dev/zero: never a newline, never an end
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    with pytest.raises(BatchTooLong, match="more than 10000 bytes"):
        list(check_file(io.BufferedReader(Zeros())))

