"""The desk's screen says everything in each of its languages: no text, and no choice of an intelligence
report's grading, falls back to English in French or Spanish."""
from __future__ import annotations

import pytest

from edge.desk.texts import LANGUAGES, REPORT_CHOICES, SCREEN


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_each_language_has_every_screen_text_and_report_choice(language):
    assert set(SCREEN[language]) == set(SCREEN["en"])
    assert all(SCREEN[language][key].strip() for key in SCREEN[language])
    for english, own in zip(REPORT_CHOICES["en"], REPORT_CHOICES[language], strict=True):
        assert list(own) == list(english)  # the same codes, in the same order
        assert all(label and label != english[code] for code, label in own.items())  # translated
