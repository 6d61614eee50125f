"""The visual inspection zone: the printed name, document number and dates, read by the OCR
engine's detector and recogniser, found by their labels, and cross-checked against the MRZ.

Labels are matched by their English part ("Surname", "Date of birth", ...), which Doc 9303
Part 4 asks every state to print beside its own language; a field's value is the text just
below its label. The recogniser drops the small spaces of a label ("Dateof birth"), reads "rn"
as "m" ("Sumame"), and may run the English part into the next language's without the slash
("Passport No.N°dupasseport"), and on a damaged page misreads a letter ("Date ofbith"): a label
is compared by its letters only, "rn" as "m", its English part may be followed by more, and an
English part the slash ends may differ from the label by a letter (difflib's likeness at least
LABEL_LIKENESS; "Place of birth" is not "Date of birth"). What OCR could not read is None and is never a mismatch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher

import numpy as np

from drivers.mrz import Mrz, MrzError, transliterate
from drivers.pageimage.engine import DetectedText, detect_text

_LABELS = {
    "surname": ("surname",),
    "given_names": ("given name", "given names"),
    "document_number": ("passport no", "document no"),
    "birth_date": ("date of birth",),
    "expiry_date": ("date of expiry",),
}
_MONTHS = {name: number for number, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
# How alike (difflib's ratio) a text's letters must be to a label's to be taken for it: one letter
# wrong in "dateofbirth" is 0.95; "placeofbirth" against it is 0.87.
LABEL_LIKENESS = 0.9
_DATE = re.compile(r"^(\d{1,2})\s*([A-Z]{3})\S*\s*(\d{4})$")


@dataclass(frozen=True)
class VisualZone:
    surname: str | None = None
    given_names: str | None = None
    document_number: str | None = None
    birth_date: date | None = None
    expiry_date: date | None = None
    texts: tuple[str, ...] = field(default=(), repr=False)   # everything the detector read


@dataclass(frozen=True)
class Mismatch:
    field: str
    visual: str
    machine: str


def read_visual_zone(image: np.ndarray, mrz_top: int | None = None) -> VisualZone:
    """The labelled fields printed on `image` (RGB), above `mrz_top` (a row) when given."""
    page = image[:mrz_top] if mrz_top else image
    boxes = detect_text(page)
    values: dict[str, str] = {}
    for name, labels in _LABELS.items():
        value = _below_label(boxes, labels)
        if value is not None:
            values[name] = value
    return VisualZone(
        surname=_name(values.get("surname")), given_names=_name(values.get("given_names")),
        document_number=_number(values.get("document_number")),
        birth_date=_date(values.get("birth_date")), expiry_date=_date(values.get("expiry_date")),
        texts=tuple(box.text for box in boxes))


def cross_check(visual: VisualZone, mrz: Mrz) -> list[Mismatch]:
    """The fields whose printed value differs from the MRZ's; fields OCR did not read are skipped.
    Names are compared in the MRZ's alphabet, and an MRZ name may be the printed one truncated."""
    mismatches = []
    truncated = not mrz.lines[0].endswith("<")   # a full name field may hold the names cut short
    for name, printed, machine in (("surname", visual.surname, mrz.surname),
                                   ("given_names", visual.given_names, mrz.given_names)):
        if printed is not None and not _names_agree(printed, machine, truncated):
            mismatches.append(Mismatch(name, printed, machine))
    if visual.document_number is not None and visual.document_number != mrz.document_number:
        mismatches.append(Mismatch("document_number", visual.document_number, mrz.document_number))
    for name, printed, machine in (("birth_date", visual.birth_date, mrz.birth_date),
                                   ("expiry_date", visual.expiry_date, mrz.expiry_date)):
        if printed is not None and machine is not None and printed != machine:
            mismatches.append(Mismatch(name, printed.isoformat(), machine.isoformat()))
    return mismatches


def _names_agree(printed: str, machine: str, truncated: bool) -> bool:
    try:
        written = " ".join(transliterate(printed).replace("<", " ").split())
    except MrzError:
        return False
    if written.replace(" ", "") == machine.replace(" ", ""):
        return True  # the recogniser drops the small space between names ("ANNAMARIA")
    printed_words, machine_words = written.split(), machine.split()
    return truncated and 0 < len(machine_words) <= len(printed_words) and all(
        whole.startswith(cut) for whole, cut in zip(printed_words, machine_words))


def _is_label(text: str, key: str) -> bool:
    """Whether a text is the label whose letters are `key`: its English part's letters begin with them,
    or that part (ended by the slash before the next language) differs from them by about a letter."""
    english, slash, _ = text.partition("/")
    letters = _label_letters(english)
    return letters.startswith(key) or bool(slash) and SequenceMatcher(None, letters, key).ratio() >= LABEL_LIKENESS


def _label_letters(text: str) -> str:
    """A label's letters, lower case, "rn" read as the "m" it often becomes."""
    return re.sub(r"[^a-z]", "", text.lower()).replace("rn", "m")


def _below_label(boxes: list[DetectedText], labels: tuple[str, ...]) -> str | None:
    keys = tuple(_label_letters(label) for label in labels)
    for label in boxes:
        if not any(_is_label(label.text, key) for key in keys):
            continue
        left, top, right, bottom = _extent(label)
        height = bottom - top
        # A value's box may start a pixel or two above its label's bottom (the recogniser's boxes are loose).
        below = [box for box in boxes if box is not label
                 and -height * 0.3 <= _extent(box)[1] - bottom < height * 2.5
                 and abs(_extent(box)[0] - left) < height * 2]
        if below:
            return min(below, key=lambda box: _extent(box)[1]).text
    return None


def _extent(box: DetectedText) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in box.box], [y for _, y in box.box]
    return min(xs), min(ys), max(xs), max(ys)


def _name(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = " ".join(text.upper().replace(",", " ").split())
    return cleaned or None


def _number(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = re.sub(r"[^A-Z0-9]", "", text.upper())
    return cleaned or None


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    found = _DATE.match(text.upper().strip())
    if not found or found.group(2) not in _MONTHS:
        return None
    try:
        return date(int(found.group(3)), _MONTHS[found.group(2)], int(found.group(1)))
    except ValueError:
        return None
