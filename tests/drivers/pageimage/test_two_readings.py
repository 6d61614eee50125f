"""The rules that keep the MRZ read from an image from being silently wrong, on the two readings'
scores directly (no OCR runs): a character no check digit covers needs both readings, or the
OCR-B font's clear lead uncontradicted; line 2's check digits choose only among the candidates
the readings put forward, and only when exactly one choice holds."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from drivers.mrz import check_digit
from drivers.pageimage import mrz_from_image, ocrb
from drivers.pageimage.mrz_from_image import ALPHABET, LINE_LENGTH, _decide, _second_line_holds, read_mrz
from hardware_sim.datapage import render_page
from tests.drivers.pageimage.test_read_mrz import ICAO_SPECIMEN_MRZ, SPECIMEN

FIRST, SECOND = ICAO_SPECIMEN_MRZ.split("\n")


def readings(text: str, font_lead: float = 0.4, model_lead: float = 0.8):
    """Scores of two readings that both see `text` clearly: the font's and the model's."""
    shapes, model = [], []
    for char in text.replace("\n", ""):
        shapes.append({glyph: 0.9 if glyph == char else 0.9 - font_lead for glyph in ALPHABET})
        model.append({glyph: 0.9 if glyph == char else 0.9 - model_lead for glyph in ALPHABET})
    return shapes, model


def test_two_clear_readings_of_the_specimen_are_taken():
    reading = _decide(*readings(ICAO_SPECIMEN_MRZ))
    assert not reading.flagged and reading.text == ICAO_SPECIMEN_MRZ and reading.uncertain == ()
    assert reading.mrz.surname == "ERIKSSON"


def test_a_name_letter_the_model_confidently_reads_otherwise_is_flagged():
    # The benchmark's silently wrong page: BJORKLUND, where one reading took OCR-B's U for C.
    shapes, model = readings(ICAO_SPECIMEN_MRZ)
    position = FIRST.index("K")                       # ERIKSSON's K: no check digit covers it
    model[position] = {glyph: 0.9 if glyph == "X" else 0.1 for glyph in ALPHABET}
    shapes[position]["X"] = 0.7                       # the font: K, ahead of X by 0.2
    reading = _decide(shapes, model)
    assert reading.flagged and (1, position + 1) in reading.uncertain
    assert any("no check digit covers" in problem for problem in reading.problems)


def test_a_name_letter_needs_a_clear_lead_when_the_model_is_unsure():
    shapes, model = readings(ICAO_SPECIMEN_MRZ)
    position = FIRST.index("K")
    model[position] = {glyph: 0.3 for glyph in ALPHABET}   # the model sees nothing in particular
    shapes[position]["X"] = 0.9 - mrz_from_image.ALONE_LEAD / 2
    assert (1, position + 1) in _decide(shapes, model).uncertain
    shapes[position]["X"] = 0.9 - mrz_from_image.ALONE_LEAD * 1.5
    assert not _decide(shapes, model).flagged


def test_agreeing_readings_take_a_name_letter_on_a_small_lead():
    shapes, model = readings(ICAO_SPECIMEN_MRZ)
    position = FIRST.index("K")
    shapes[position]["X"] = 0.9 - mrz_from_image.AGREED_LEAD * 2
    assert not _decide(shapes, model).flagged
    shapes[position]["X"] = 0.9 - mrz_from_image.AGREED_LEAD / 2
    assert _decide(shapes, model).flagged


def test_a_date_digit_in_doubt_is_settled_by_its_check_digit_alone_among_the_candidates():
    shapes, model = readings(ICAO_SPECIMEN_MRZ)
    position = LINE_LENGTH + 13 + 2                    # the birth date's month: 7408122, the 0
    shapes[position]["8"] = 0.89                       # the font hesitates between 0 and 8
    model[position] = {glyph: 0.5 if glyph in "08" else 0.1 for glyph in ALPHABET}
    reading = _decide(shapes, model)
    assert not reading.flagged and reading.text == ICAO_SPECIMEN_MRZ


def test_o_and_0_swaps_that_cancel_in_the_check_digits_are_flagged():
    # O is 24 and 0 is 0: both O/0 swaps at weights 7 and 3 change the sums by 240, which no check digit sees.
    number, swapped = "OO1234567", "001234567"
    second = f"{number}{check_digit(number)}UTO7408122F1204159<<<<<<<<<<<<<<0"
    second = second[:43] + check_digit(second[0:10] + second[13:20] + second[21:43])
    assert _second_line_holds(second) and _second_line_holds(second.replace(number, swapped))
    shapes, model = readings(f"{FIRST}\n{second}")
    for index in (LINE_LENGTH, LINE_LENGTH + 1):       # the font barely tells O from 0 in both cells
        shapes[index]["0"] = 0.89
    reading = _decide(shapes, model)
    assert reading.flagged and "2 readings satisfy every check digit" in " ".join(reading.problems)


def test_a_check_digit_that_fails_is_flagged_with_the_best_text():
    misprinted = ICAO_SPECIMEN_MRZ[:-1] + "9"
    reading = _decide(*readings(misprinted))
    assert reading.flagged and not reading.check_digits_valid and reading.text == misprinted


def test_an_unknown_state_code_is_flagged():
    reading = _decide(*readings(ICAO_SPECIMEN_MRZ.replace("P<UTO", "P<QQQ")))
    assert reading.flagged and any("QQQ" in problem for problem in reading.problems)


def test_each_ocr_b_glyph_is_read_as_itself_from_a_blurred_strip():
    pitch = 20.0
    advance = ImageFont.truetype(str(ocrb.OCR_B_FONT), 40).getlength("<" * 10) / 10
    font = ImageFont.truetype(str(ocrb.OCR_B_FONT), round(40 * pitch / advance))   # advancing one pitch
    strip = Image.new("RGB", (round(pitch * (len(ALPHABET) + 2)), 48), (235, 230, 215))
    for index, glyph in enumerate(ALPHABET):
        ImageDraw.Draw(strip).text((pitch * (index + 1), 8), glyph, font=font, fill=(20, 20, 30))
    image = np.asarray(strip.filter(ImageFilter.GaussianBlur(0.7)))
    scores = ocrb.score_cells(image, pitch * 1.5, pitch, len(ALPHABET))
    assert "".join(max(score, key=score.get) for score in scores) == ALPHABET


def test_without_the_ocr_b_font_the_page_is_flagged_and_says_so(monkeypatch):
    monkeypatch.setattr(ocrb, "OCR_B_FONT", ocrb.OCR_B_FONT.with_name("missing.otf"))
    ocrb._templates.cache_clear()
    try:
        reading = read_mrz(render_page(SPECIMEN))
    finally:
        ocrb._templates.cache_clear()
    assert reading.flagged and "fonts-ocr-b" in reading.problems[0]


@pytest.fixture(autouse=True)
def _font_installed():
    if not ocrb.OCR_B_FONT.is_file():
        pytest.fail("the OCR-B font (Debian fonts-ocr-b) is not installed: ./limes setup installs it")


@settings(max_examples=12, deadline=None)
@given(st.integers(200, 700), st.integers(200, 500), st.integers(0, 2**32 - 1), st.integers(0, 4))
def test_hostile_pixels_give_a_flagged_reading_never_an_exception(width, height, seed, bars):
    # Noise with rows of dark bars: rows an MRZ finder may take for lines, cells that are not glyphs.
    rng = np.random.default_rng(seed)
    image = rng.integers(150, 256, (height, width, 3), dtype=np.uint8)
    for row in range(bars):
        top = height - 30 - row * 25
        for left in range(10, width - 20, int(rng.integers(8, 30))):
            image[max(0, top):max(0, top) + int(rng.integers(5, 20)), left:left + int(rng.integers(2, 12))] = 20
    reading = read_mrz(image)
    assert reading.flagged and reading.problems
