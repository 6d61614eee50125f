"""The MRZ of a passport data page, read from its photograph.

The two lines are found and levelled (locate), cut into their 44 character cells (cells), and
each cell read by the OCR model (engine) within the characters its field may hold: letters in
names and state codes, digits in dates and check digits, either in document numbers and
optional data. Letters and digits that look alike in OCR-B (O/0, I/1, S/5, B/8, Z/2, G/6) are
one shape to the model; the field decides between them, and where it cannot (a document number)
and the likeliest reading fails its check digits, the close alternatives are tried: taken when
exactly one choice satisfies them all.

Nothing uncertain is returned as read. The second line is taken only when every check digit
holds; the first has none, so each of its characters must be read with at least
FIRST_LINE_CONFIDENCE. Otherwise the reading is FLAGGED with the best text seen and why.
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

LINE_LENGTH = 44
FIRST_LINE_CONFIDENCE = 0.15   # the first line has no check digit: a character leading the next by less is not taken
SECOND_LINE_CONFIDENCE = 0.2   # the check digits guard the second; this only refuses what is not text
AMBIGUOUS = 0.35               # a second character this close (as a share of the best) is tried too
MAX_CHOICES = 64
CELL_WEIGHT = 0.5              # a cell's own reading where the whole line's disagrees

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
FILLER = "<"
ALPHABET = LETTERS + DIGITS + FILLER
# OCR-B shapes a model trained on other fonts confuses: in a field of one kind, the other is the same shape.
_TWIN_OF_DIGIT = {"0": "OQD", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}
_ROUND = "O0"
_TWIN_OF_LETTER = {"O": "0", "I": "1", "Z": "2", "S": "5", "G": "6", "B": "8"}

# What each position of a TD3 line may hold.
_FIRST_LINE = [LETTERS] + [LETTERS + FILLER] * (LINE_LENGTH - 1)
_SECOND_LINE = ([LETTERS + DIGITS + FILLER] * 9 + [DIGITS] + [LETTERS + FILLER] * 3 + [DIGITS] * 7
                + ["MFX" + FILLER] + [DIGITS] * 7 + [LETTERS + DIGITS + FILLER] * 14 + [DIGITS + FILLER]
                + [DIGITS])


_STATE_CODES = sorted(code.ljust(3, "<") for code in KNOWN_CODES)


@dataclass(frozen=True)
class MrzReading:
    """What was read. `flagged` readings must be checked by a person: `problems` says why."""

    text: str                        # the lines joined by '\n'; the best seen when flagged, '' when none
    confidence: float                # the lowest character score of the text (0..1)
    check_digits_valid: bool
    problems: tuple[str, ...] = ()
    mrz: Mrz | None = None           # parsed, when the text is a valid MRZ
    skew_degrees: float = 0.0

    @property
    def flagged(self) -> bool:
        return bool(self.problems) or not self.check_digits_valid


def read_mrz(image: np.ndarray) -> MrzReading:
    """The TD3 MRZ on `image` (an RGB or grey uint8 array of the data page)."""
    rgb = _as_rgb(image)
    try:
        lines = find_mrz_lines(rgb)
        cells = [cut_cells(crop, LINE_LENGTH) for crop in lines.crops]
    except (MrzNotFound, CellsNotFound) as exc:
        return MrzReading("", 0.0, False, (str(exc),))
    scores, seen_in_line = _combined(lines.crops, cells)
    first = [_best(score, allowed) for score, allowed in zip(scores[:LINE_LENGTH], _FIRST_LINE, strict=True)]
    first[2:5] = _state(scores[2:5])
    second_scores = scores[LINE_LENGTH:]
    problems = []
    first_text = "".join(char for char, _ in first)
    unsure = [position + 1 for position, (_, confidence) in enumerate(first) if confidence < FIRST_LINE_CONFIDENCE]
    if unsure:
        problems.append(f"line 1 (no check digit): characters {_positions(unsure)} read with too little confidence")
    # Without a check digit, a letter only the cell's reading saw (OCR-B's U is C to it alone) is not taken.
    alone = [position + 1 for position, (char, _) in enumerate(first)
             if char != FILLER and not _same_shape(char, seen_in_line[position])]
    if alone:
        problems.append(f"line 1 (no check digit): characters {_positions(alone)} not confirmed by the whole "
                        "line's reading")
    second_text, second_confidence, second_problem = _second_line(second_scores)
    if second_problem:
        problems.append(second_problem)
    # Nationality and sex are the second line's only fields no check digit covers.
    uncovered = _state(second_scores[10:13]) + [_best(second_scores[20], _SECOND_LINE[20])]
    second_text = second_text[:10] + "".join(char for char, _ in uncovered[:3]) + second_text[13:20] + (
        uncovered[3][0] + second_text[21:])
    unsure = [position for position, (_, confidence) in zip((11, 12, 13, 21), uncovered, strict=True)
              if confidence < FIRST_LINE_CONFIDENCE]
    if unsure:
        problems.append(f"line 2 (no check digit there): characters {_positions(unsure)} read with too "
                        "little confidence")
    text = f"{first_text}\n{second_text}"
    confidence = min(min(confidence for _, confidence in first), second_confidence)
    holds = _second_line_holds(second_text)
    mrz = _parsed(text)
    if mrz is None and not problems:
        problems.append("the text read is not a valid MRZ")
    return MrzReading(text, confidence, holds, tuple(problems), mrz, lines.skew_degrees)


def _combined(crops: tuple[np.ndarray, ...], cells: list[Cells]) -> tuple[list[dict[str, float]], list[str | None]]:
    """Per cell, each character's score from two readings: the whole line (the model sees each
    character among its neighbours, as it was trained, but may drop or merge one), its characters
    put in their cells by where they fired; and the cell alone (never miscounted, but weaker on
    some letters: U may look like C without its neighbours). A letter or digit the cell alone saw
    counts CELL_WEIGHT; one both saw scores as two witnesses, 1 - (1 - line) (1 - cell)."""
    line_reads = recognise_lines(list(crops), ALPHABET)
    cell_scores = read_characters(cells[0].crops + cells[1].crops, ALPHABET)
    combined = [{char: value if char == FILLER else value * CELL_WEIGHT for char, value in score.items()}
                for score in cell_scores]
    seen_in_line: list[str | None] = [None] * len(cell_scores)   # the line reading's character, per cell
    for number, (read, line_cells, crop) in enumerate(zip(line_reads, cells, crops, strict=True)):
        placed: dict[int, list[tuple[str, float]]] = {}
        for char, confidence, position in zip(read.text, read.confidences, read.positions, strict=True):
            placed.setdefault(line_cells.index_at(position * crop.shape[1]), []).append((char, confidence))
        for index, found in placed.items():
            if 0 <= index < LINE_LENGTH and len(found) == 1:
                char, confidence = found[0]
                cell = number * LINE_LENGTH + index
                combined[cell][char] = 1.0 - (1.0 - confidence) * (1.0 - cell_scores[cell].get(char, 0.0))
                seen_in_line[cell] = char
    return combined, seen_in_line


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
    return seen is not None and (seen == char or _TWIN_OF_LETTER.get(char) == seen
                                 or seen in _TWIN_OF_DIGIT.get(char, ""))


def _state(scores: list[dict[str, float]]) -> list[tuple[str, float]]:
    """A state code's three cells read as the known code (ICAO Doc 9303 Part 3, ISO 3166) their
    scores favour most; each character's confidence is that code's lead over the next."""
    merged = [_merged(score, LETTERS + FILLER) for score in scores]
    ranked = sorted(((sum(cell.get(char, 0.0) for cell, char in zip(merged, code, strict=True)) / 3, code)
                     for code in _STATE_CODES), reverse=True)
    (best, code), runner_up = ranked[0], ranked[1][0]
    return [(char, best - runner_up) for char in code]


def _second_line(scores: list[dict[str, float]]) -> tuple[str, float, str | None]:
    """(text, lowest score, problem or None): the one reading whose check digits all hold.

    Where a field may hold letters and digits, O and 0 are one shape to the model, so both are
    always tried there; two such swaps can cancel out in a check digit (O is 24, 0 is 0), so the
    likeliest reading is taken only when no other O/0 choice also satisfies every check digit.
    When it fails, its close alternatives are tried, and taken only when exactly one holds."""
    likeliest, round_options, close_options = [], [], []
    for score, allowed in zip(scores, _SECOND_LINE, strict=True):
        merged = _merged(score, allowed)
        ranked = sorted(merged.items(), key=lambda item: -item[1])
        best = ranked[0]
        likeliest.append(best)
        twin = [(char, merged[char]) for char in _ROUND
                if best[0] in _ROUND and char != best[0] and set(_ROUND) <= set(allowed)]
        round_options.append([best, *twin])
        close = [item for item in ranked[1:3] if item[1] >= best[1] * AMBIGUOUS]
        close_options.append([best, *twin, *(item for item in close if item not in twin)])
    best_text = "".join(char for char, _ in likeliest)
    lowest = min(confidence for _, confidence in likeliest)
    if lowest < SECOND_LINE_CONFIDENCE:
        return best_text, lowest, "line 2: characters read with too little confidence"
    if _second_line_holds(best_text):
        holding = _holding(round_options)
        if holding is None or len(holding) > 1:
            return best_text, lowest, ("line 2: O and 0 could stand either way in the document number or "
                                       "optional data and the check digits cannot tell")
        return best_text, lowest, None
    holding = _holding(close_options)
    if holding is None:
        return best_text, lowest, "line 2: a check digit fails and too many characters could be read two ways"
    if len(holding) == 1:
        return holding[0][0], holding[0][1], None
    if not holding:
        return best_text, lowest, "line 2: a check digit fails"
    return best_text, lowest, f"line 2: a check digit fails and {len(holding)} other readings satisfy them"


def _holding(options: list[list[tuple[str, float]]]) -> list[tuple[str, float]] | None:
    """Every choice among `options` whose check digits hold; None when there are too many to try."""
    combinations = 1
    for option in options:
        combinations *= len(option)
    if combinations > MAX_CHOICES:
        return None
    holding = []
    for choice in itertools.product(*options):
        text = "".join(char for char, _ in choice)
        if _second_line_holds(text):
            holding.append((text, min(confidence for _, confidence in choice)))
    return holding


def _positions(positions: list[int]) -> str:
    return ", ".join(map(str, positions[:6])) + (" ..." if len(positions) > 6 else "")


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
