"""Document numbers as compared against alert lists, OCR confusions folded.

A number on an alert list was typed by a clerk from the printed page; the gate
reads it from the MRZ with OCR-B, where 0/O, 1/I, 5/S, 8/B and 2/Z are easily
confused. Both sides are reduced to the same key so that such a misread still
hits the alert (reported as an "ocr_variant" match).

This is the rule of central.normalize.document_number and central.normalize.ocr_key,
kept here as a pure function so that the gate's offline alert cache decides
exactly as central does (the edge must not import central); a property test
holds the two equal.
"""
from __future__ import annotations

import re
import unicodedata

# ICAO 9303 Part 3 transliterations that are not a plain removal of the accent
# (a clerk may type a number with a stray accented letter).
_ICAO_LATIN = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Ü": "UE", "ß": "SS",
    "Þ": "TH", "Œ": "OE", "Ĳ": "IJ", "Ð": "D", "Đ": "D", "Ł": "L", "Ħ": "H", "Ŧ": "T",
    "ẞ": "SS",
}
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_OCR_FOLD = str.maketrans({"O": "0", "I": "1", "S": "5", "B": "8", "Z": "2"})


def _transliterate(text: str) -> str:
    out = []
    for char in text.upper():
        if char in _ICAO_LATIN:
            out.append(_ICAO_LATIN[char])
        else:
            out.append("".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)))
    return "".join(out)


def document_number(text: str) -> str:
    """The number without MRZ fillers, spaces or dashes, upper case: equal numbers are an exact match."""
    return _NON_ALNUM.sub("", _transliterate(text))


def ocr_key(text: str) -> str:
    """The number with OCR-confusable letters folded to digits: equal keys are at least an OCR variant."""
    return document_number(text).translate(_OCR_FOLD)
