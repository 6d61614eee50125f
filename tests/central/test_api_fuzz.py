"""Fuzzing the EDIFACT reader and the storing: a Message or Unusable, never a traceback, never half a manifest."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from central.access.audit import Caller
from central.database import models as m
from central.database.engine import Database
from central.errors import InvalidArgument
from central.passengers.intake import import_message
from central.passengers.reading import Unusable, read_message

CORPUS = sorted((Path(__file__).parent / "api_messages").glob("*.edi"))
SAMPLES = [p.read_bytes() for p in CORPUS]
TODAY = dt.date(2026, 12, 6)
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.timezone.utc)
SEPARATORS = ":+.? '*#~!\x1c\x1d\x1f\n\r"


def survives(data: bytes | str) -> None:
    try:
        message = read_message(data, today=TODAY)
    except Unusable as exc:
        assert str(exc)
        return
    as_dict = message.as_dict()  # what `limes api parse --json` prints must be buildable too
    assert as_dict["message_type"] in ("PAXLST", "PNRGOV")
    assert message.flights or message.persons or message.pnrs
    for problem in message.problems:
        assert problem.segment >= 0 and problem.text


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    survives(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_truncated_corpus_messages(sample, data):
    cut = data.draw(st.integers(0, len(sample)))
    survives(sample[:cut])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SAMPLES), st.data())
def test_separators_swapped_inserted_or_dropped(sample, data):
    text = bytearray(sample)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, max(len(text) - 1, 0)))
        char = data.draw(st.sampled_from(SEPARATORS)).encode()
        action = data.draw(st.sampled_from(("replace", "insert", "delete")))
        if action == "replace" and text:
            text[at:at + 1] = char
        elif action == "insert":
            text[at:at] = char
        elif text:
            del text[at]
    survives(bytes(text))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SAMPLES), st.text(alphabet=SEPARATORS + "UNAZBHTDOCLNF0123456789", max_size=200))
def test_segments_of_separators_and_tags_appended(sample, tail):
    survives(sample.decode("latin-1") + tail)


def test_a_huge_manifest_is_read():
    head = (CORPUS[0].parent / "paxlst_d02b_passengers.edi").read_text()
    start, end = head.index("NAD+FL"), head.index("CNT+")
    persons = head[start:end]
    text = head[:start] + persons * 2000 + head[end:]
    message = read_message(text, today=TODAY)
    assert len(message.persons) == 6000
    assert [(p.tag, "declares 3 passengers, 6000 read") for p in message.problems] == [
        ("CNT", p.text) for p in message.problems]


def test_a_message_over_the_size_bound_is_refused():
    with pytest.raises(Unusable, match="more than the 20000000 a message may have"):
        read_message("UNB+" + "A" * 20_000_001, today=TODAY)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_a_mangled_message_is_stored_whole_or_not_at_all(api_database, sample, data):
    text = bytearray(sample)
    for _ in range(data.draw(st.integers(0, 6))):
        at = data.draw(st.integers(0, max(len(text) - 1, 0)))
        text[at:at + 1] = data.draw(st.sampled_from(SEPARATORS + "X9\x00")).encode()
    cut = data.draw(st.integers(len(text) // 2, len(text)))
    try:
        import_message(api_database, Caller(station="FUZZ"), bytes(text[:cut]), NOW)
    except InvalidArgument as exc:
        assert str(exc).startswith("message: ")

    def consistent(session) -> None:
        for manifest in session.scalars(select(m.ApiManifest)):
            persons = session.scalar(select(func.count()).where(m.ApiPerson.manifest_id == manifest.id))
            assert persons == manifest.person_count, "a manifest stored without all its persons"
        assert session.scalar(select(func.count(m.ApiFlight.id)).where(~m.ApiFlight.manifests.any())) == 0
    api_database.run(consistent)


@pytest.fixture(scope="module")
def api_database(tmp_path_factory):
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'central.sqlite'}")
    database.migrate()
    yield database
    database.dispose()
