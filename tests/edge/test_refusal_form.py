"""The refusal form (edge.desk.refusal_form): every language and ground, and whatever text an officer
or a document puts in it (hypothesis), makes a PDF with exactly the chosen grounds ticked."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.refusal_grounds import GROUNDS
from edge.desk.refusal_form import Refusal, render
from edge.desk.texts import FORM, LANGUAGES
from tests.edge.test_desk import _pdf_text

AT = dt.datetime(2026, 12, 6, 16, 40, tzinfo=dt.timezone.utc)


def refusal(**changes) -> Refusal:
    values = dict(surname="ROJAS", given_names="MATEO", birth_date="1982-06-09", nationality="MEX",
                  document_type="P", document_number="D2000001", grounds=("E",), border_point="FRA-T1",
                  desk="FRA-T1-D01", officer="officer-17", at=AT, reference="ref-1")
    return Refusal(**{**values, **changes})


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_every_ground_and_its_own_title(language):
    assert sorted(GROUNDS[language]) == list("ABCDEFGHIJ")
    text = _pdf_text(render(refusal(grounds=("B", "J")), language))
    assert FORM[language]["title"][:6].encode() in text  # (past that, PDF strings escape accented letters)
    assert rb"[X] \(B\)" in text and rb"[X] \(J\)" in text and rb"[X] \(E\)" not in text


def test_an_unknown_ground_or_language_is_refused():
    with pytest.raises(ValueError, match="grounds"):
        render(refusal(grounds=("K",)), "en")
    with pytest.raises(ValueError, match="grounds"):
        render(refusal(grounds=()), "en")
    with pytest.raises(ValueError, match="language"):
        render(refusal(), "de")


@settings(max_examples=40, deadline=None)
@given(names=st.text(max_size=80), remarks=st.text(max_size=400),
       grounds=st.sets(st.sampled_from("ABCDEFGHIJ"), min_size=1), language=st.sampled_from(LANGUAGES))
def test_any_text_makes_a_form_with_the_chosen_grounds_ticked(names, remarks, grounds, language):
    pdf = render(refusal(surname=names, given_names=names, remarks=remarks, grounds=tuple(sorted(grounds))), language)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    text = _pdf_text(pdf)
    assert text.count(b"[X]") == len(grounds)
