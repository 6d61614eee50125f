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


def test_the_desk_shows_a_stay_judged_without_headquarters_in_the_officers_language():
    """The gate's words (edge.gate.STAY_POST_ONLY) are what desk.js looks for, and every language says them."""
    from pathlib import Path

    import edge.desk
    from edge.gate import STAY_POST_ONLY

    script = (Path(edge.desk.__file__).parent / "static" / "desk.js").read_text(encoding="utf-8")
    assert f'const STAY_POST_ONLY = "{STAY_POST_ONLY}";' in script
    assert len({SCREEN[language]["stay_post_only"] for language in LANGUAGES}) == len(LANGUAGES)
