"""The MRZ of a passport data page, read from its photograph.

The two lines are found and levelled (locate) and cut into their 44 character cells (cells).
Each cell is then read twice, independently:

* by OCR-B itself (ocrb): the font's 37 glyphs slid over the cell, the best correlation each;
  it tells O from 0 and U from C by their OCR-B shapes;
* by the recognition model (engine), which has never seen OCR-B: the whole line and the cell
  alone, combined; to it O and 0, I and 1, S and 5, B and 8 are one shape each.

Each position is read within what its field may hold (letters in names and state codes, digits
in dates and check digits, either in document numbers and optional data). A character is SURE
when the two readings agree on its shape and the font's reading leads the next glyph by
AGREED_LEAD, or when the font's reading alone leads by ALONE_LEAD and the model does not
confidently see another shape.

Nothing uncertain is returned as read:
* line 2's number and date fields and their check digits: where a character is not sure, the
  font's runner-up and the model's reading are tried too, and the reading is taken only when
  exactly one choice satisfies every check digit (the field's and the composite): there the
  check digits choose, among candidates both readings put forward;
* names, state codes, nationality and sex have no check digit: every one of their characters
  must be sure, or the reading is FLAGGED with those positions for the officer.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from drivers.mrz import Mrz, MrzError, parse
from drivers.mrz.checkdigit import check_digit
from drivers.mrz.countries import KNOWN_CODES
from drivers.pageimage.cells import Cells, CellsNotFound, cut_cells
from drivers.pageimage.engine import read_characters, recognise_lines
from drivers.pageimage.locate import MrzNotFound, find_mrz_lines
from drivers.pageimage.ocrb import FontMissing, score_cells

LINE_LENGTH = 44
AGREED_LEAD = 0.02        # the font's lead over its next glyph, where the model sees the same shape
ALONE_LEAD = 0.15         # the font's lead that stands alone where the model is unsure
CONTRADICTS = 0.3         # the model's lead at which its other shape vetoes the font's reading
RUNNER_UP = 0.06          # the font's second glyph within this of its first is tried too (check digits only)
MAX_CHOICES = 4096
CELL_WEIGHT = 0.5              # a cell's own reading where the whole line's disagrees
UPSIDE_DOWN_UNSURE = 22        # unsure characters (half a line) that suggest the page is upside down

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
FILLER = "<"
ALPHABET = LETTERS + DIGITS + FILLER
# OCR-B shapes a model trained on other fonts confuses: in a field of one kind, the other is the same shape.
_TWIN_OF_DIGIT = {"0": "OQD", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}
_TWIN_OF_LETTER = {"O": "0", "I": "1", "Z": "2", "S": "5", "G": "6", "B": "8"}

# What each position of a TD3 line may hold.
_FIRST_LINE = [LETTERS] + [LETTERS + FILLER] * (LINE_LENGTH - 1)
_SECOND_LINE = ([LETTERS + DIGITS + FILLER] * 9 + [DIGITS] + [LETTERS + FILLER] * 3 + [DIGITS] * 7
                + ["MFX" + FILLER] + [DIGITS] * 7 + [LETTERS + DIGITS + FILLER] * 14 + [DIGITS + FILLER]
                + [DIGITS])
_ALLOWED = _FIRST_LINE + _SECOND_LINE
# Line 2's positions (0-based) no check digit covers: nationality and sex.
_UNCOVERED_SECOND = {10, 11, 12, 20}
_STATE_CODES = {code.ljust(3, FILLER) for code in KNOWN_CODES}


@dataclass(frozen=True)
class MrzReading:
    """What was read. `flagged` readings must be checked by a person: `problems` says why and
    `uncertain` which characters ((line, position), from 1) to look at."""

    text: str                        # the lines joined by '\n'; the best seen when flagged, '' when none
    confidence: float                # the font reading's smallest lead of one glyph over the next (0..1)
    check_digits_valid: bool
    problems: tuple[str, ...] = ()
    mrz: Mrz | None = None           # parsed, when the text is a valid MRZ
    skew_degrees: float = 0.0
    uncertain: tuple[tuple[int, int], ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.problems) or not self.check_digits_valid


@dataclass(frozen=True)
class _Cell:
    char: str            # the font's reading, within what the position may hold
    lead: float          # its score's lead over the next allowed glyph
    runner_up: str       # that next glyph
    model: str           # the model's reading (look-alikes folded to the field's kind)
    model_lead: float
    sure: bool


def read_mrz(image: np.ndarray) -> MrzReading:
    """The TD3 MRZ on `image` (an RGB or grey uint8 array of the data page). A page that shows no
    MRZ, or whose characters are mostly unsure, is read once more turned half round (a photograph
    taken upside down); the turned reading is taken only when it is not flagged."""
    rgb = _as_rgb(image)
    reading = _read_upright(rgb)
    if reading.flagged and (not reading.text or len(reading.uncertain) >= UPSIDE_DOWN_UNSURE):
        turned = _read_upright(np.ascontiguousarray(rgb[::-1, ::-1]))
        if not turned.flagged:
            return turned
    return reading


def _read_upright(rgb: np.ndarray) -> MrzReading:
    try:
        lines = find_mrz_lines(rgb)
        cells = [cut_cells(crop, LINE_LENGTH) for crop in lines.crops]
        shapes = [score for crop, line_cells in zip(lines.crops, cells, strict=True)
                  for score in score_cells(crop, line_cells.first, line_cells.pitch, LINE_LENGTH)]
    except (MrzNotFound, CellsNotFound, FontMissing) as exc:
        return MrzReading("", 0.0, False, (str(exc),))
    model = _model_reading(lines.crops, cells)
    return _decide(shapes, model, lines.skew_degrees)


def _decide(shapes: list[dict[str, float]], model: list[dict[str, float]], skew: float = 0.0) -> MrzReading:
    """The reading from the two readings of the 88 cells: the font's and the model's."""
    cells = [_cell(shape, score, allowed) for shape, score, allowed in zip(shapes, model, _ALLOWED, strict=True)]
    first = "".join(cell.char for cell in cells[:LINE_LENGTH])
    second, second_problem = _second_line(cells[LINE_LENGTH:])
    problems = [second_problem] if second_problem else []
    uncovered = list(range(LINE_LENGTH)) + [LINE_LENGTH + position for position in sorted(_UNCOVERED_SECOND)]
    unsure = [index for index in uncovered if not cells[index].sure]
    if unsure:
        problems.append(f"no check digit covers characters {_places(unsure)}, and the two readings do not "
                        "agree on them clearly")
    for name, code in (("issuing state", first[2:5]), ("nationality", second[10:13])):
        if code not in _STATE_CODES:
            problems.append(f"the {name} read, {code}, is not a known code")
    text = f"{first}\n{second}"
    holds = _second_line_holds(second)
    mrz = _parsed(text)
    if mrz is None and not problems:
        problems.append("the text read is not a valid MRZ")
    confidence = max(0.0, min(1.0, min(cell.lead for cell in cells)))
    uncertain = tuple((index // LINE_LENGTH + 1, index % LINE_LENGTH + 1) for index in unsure)
    return MrzReading(text, confidence, holds, tuple(problems), mrz, skew, uncertain)


def _cell(shape: dict[str, float], model: dict[str, float], allowed: str) -> _Cell:
    ranked = sorted(allowed, key=lambda char: -shape[char])
    char, runner_up = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
    lead = shape[char] - shape[runner_up] if runner_up != char else 1.0
    model_char, model_lead = _best(model, allowed)
    agree = _same_shape(char, model_char)
    sure = (agree and lead >= AGREED_LEAD) or (lead >= ALONE_LEAD and (agree or model_lead < CONTRADICTS))
    return _Cell(char, lead, runner_up, model_char, model_lead, sure)


def _second_line(cells: list[_Cell]) -> tuple[str, str | None]:
    """(text, problem or None): the one reading of line 2 whose check digits all hold.

    Sure characters stand; each other one may be the font's first or second glyph or the model's
    reading. The reading is taken only when exactly one choice satisfies every check digit: two
    O/0 swaps, say, can cancel out in a check digit (O is 24, 0 is 0), and then the check digits
    cannot tell."""
    best = "".join(cell.char for cell in cells)
    options = []
    for position, (cell, allowed) in enumerate(zip(cells, _SECOND_LINE, strict=True)):
        if cell.sure or position in _UNCOVERED_SECOND:
            options.append(cell.char)
            continue
        tried = [cell.char]
        if cell.lead < RUNNER_UP:
            tried.append(cell.runner_up)
        tried += [char for char in (cell.model, *_twins(cell.model)) if char in allowed]
        options.append("".join(dict.fromkeys(tried)))
    if _count(options) > MAX_CHOICES:
        return best, "line 2: too many characters could be read more than one way"
    holding = [text for text in map("".join, itertools.product(*options)) if _second_line_holds(text)]
    if len(holding) == 1:
        return holding[0], None
    if not holding:
        return best, "line 2: a check digit fails"
    return best, f"line 2: {len(holding)} readings satisfy every check digit and nothing tells them apart"


def _twins(char: str) -> str:
    return _TWIN_OF_LETTER.get(char, "") + _TWIN_OF_DIGIT.get(char, "")


def _count(options: list[str]) -> int:
    total = 1
    for option in options:
        total *= len(option)
    return total


def _places(indices: list[int]) -> str:
    places = [f"{index // LINE_LENGTH + 1}:{index % LINE_LENGTH + 1}" for index in indices]
    return ", ".join(places[:8]) + (" ..." if len(places) > 8 else "") + " (line:position)"


def _model_reading(crops: tuple[np.ndarray, ...], cells: list[Cells]) -> list[dict[str, float]]:
    """Per cell, each character's score from two readings: the whole line (the model sees each
    character among its neighbours, as it was trained, but may drop or merge one), its characters
    put in their cells by where they fired; and the cell alone (never miscounted, but weaker on
    some letters: U may look like C without its neighbours). A letter or digit the cell alone saw
    counts CELL_WEIGHT; one both saw scores as two witnesses, 1 - (1 - line) (1 - cell)."""
    line_reads = recognise_lines(list(crops), ALPHABET)
    cell_scores = read_characters(cells[0].crops + cells[1].crops, ALPHABET)
    combined = [{char: value if char == FILLER else value * CELL_WEIGHT for char, value in score.items()}
                for score in cell_scores]
    for number, (read, line_cells, crop) in enumerate(zip(line_reads, cells, crops, strict=True)):
        placed: dict[int, list[tuple[str, float]]] = {}
        for char, confidence, position in zip(read.text, read.confidences, read.positions, strict=True):
            placed.setdefault(line_cells.index_at(position * crop.shape[1]), []).append((char, confidence))
        for index, found in placed.items():
            if 0 <= index < LINE_LENGTH and len(found) == 1:
                char, confidence = found[0]
                cell = number * LINE_LENGTH + index
                combined[cell][char] = 1.0 - (1.0 - confidence) * (1.0 - cell_scores[cell].get(char, 0.0))
    return combined


def _as_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2RGB)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ValueError(f"expected a grey, RGB or RGBA image, got an array of shape {image.shape}")


def _merged(score: dict[str, float], allowed: str) -> dict[str, float]:
    """Each allowed character's score, a look-alike of the other kind counting for it when that
    kind is not allowed here."""
    merged = {}
    for char in allowed:
        twins = _TWIN_OF_DIGIT.get(char, "") if char in DIGITS and not set(LETTERS) & set(allowed) else (
            _TWIN_OF_LETTER.get(char, "") if char in LETTERS and not set(DIGITS) & set(allowed) else "")
        merged[char] = max([score.get(char, 0.0), *(score.get(twin, 0.0) for twin in twins)])
    return merged


def _best(score: dict[str, float], allowed: str) -> tuple[str, float]:
    """The likeliest allowed character, and its lead over the next: a reading that two
    characters share is not a reading."""
    merged = _merged(score, allowed)
    ranked = sorted(merged.values(), reverse=True)
    char = max(merged, key=merged.get)
    return char, ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0)


def _same_shape(char: str, seen: str | None) -> bool:
    """Whether the model's `seen` is `char` as the model knows shapes (OCR-B's O and 0 are one to it)."""
    return seen is not None and (seen == char or _TWIN_OF_LETTER.get(char) == seen
                                 or seen in _TWIN_OF_DIGIT.get(char, "") or char in _TWIN_OF_DIGIT.get(seen, ""))


def _second_line_holds(text: str) -> bool:
    if len(text) != LINE_LENGTH:
        return False
    fields = ((text[0:9], text[9]), (text[13:19], text[19]), (text[21:27], text[27]),
              (text[0:10] + text[13:20] + text[21:43], text[43]))
    try:
        return all(check_digit(data) == digit for data, digit in fields) and (
            text[42] == check_digit(text[28:42]) or (text[42] == FILLER and set(text[28:42]) == {FILLER}))
    except ValueError:
        return False


def _parsed(text: str) -> Mrz | None:
    try:
        return parse(text)
    except MrzError:
        return None
