"""Normalisation of names, document numbers and state codes before comparison.

Alerts are typed by clerks from printed documents; gates read the MRZ. Both
sides are reduced to the same form here so that comparisons see only real
differences: upper case, ICAO 9303 (Part 3) transliteration of Latin letters
with diacritics and of Cyrillic, Greek and Arabic names, MRZ fillers as spaces.
"""
from __future__ import annotations

import re

from drivers.mrz.transliteration import to_latin

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_NON_ALPHA = re.compile(r"[^A-Z]+")

# OCR-B confusions seen when an MRZ or a printed number is read by a camera:
# the alert may hold the printed number and the gate the misread one, or the
# reverse. Folding letters to digits gives both the same key.
_OCR_FOLD = str.maketrans({"O": "0", "I": "1", "S": "5", "B": "8", "Z": "2"})

# States whose MRZ code differs from their ISO 3166 alpha-3 code.
_STATE_ALIASES = {"D": "DEU"}


def transliterate(text: str) -> str:
    """Upper-case text as ICAO 9303 writes it in an MRZ: Latin with diacritics, Cyrillic, Greek and
    Arabic through drivers.mrz.transliteration; characters of other scripts are kept."""
    return to_latin(text)


def name_tokens(text: str) -> list[str]:
    """The words of a name after transliteration; '<', hyphens and apostrophes separate words."""
    return [t for t in _NON_ALPHA.split(transliterate(text)) if t]


def fold_umlaut_spelling(token: str) -> str:
    """One spelling for the letters Doc 9303 lets an issuer write in more than one way:
    MUELLER / MULLER / MUXXLLER (Ü: UE, U or UXX), NUNEZ / NUNXXEZ (Ñ: N or NXX), and
    AE/OE/AA for A, O, A (Ä, Ö, Å).

    Applied to both sides of a comparison only, never stored as the name.
    """
    token = token.replace("UXX", "U").replace("NXX", "N")
    return token.replace("AE", "A").replace("OE", "O").replace("UE", "U").replace("AA", "A")


def name_key(surname: str, given_names: str) -> str:
    """Order-free key of a full name, for exact look-ups (history by person)."""
    return " ".join(sorted(name_tokens(surname) + name_tokens(given_names)))


def document_number(text: str) -> str:
    """A document number without MRZ fillers, spaces or dashes, upper case."""
    return _NON_ALNUM.sub("", transliterate(text))


def ocr_key(number: str) -> str:
    """The number with OCR-confusable letters folded to digits (0/O, 1/I, 5/S, 8/B, 2/Z)."""
    return document_number(number).translate(_OCR_FOLD)


def state_code(text: str) -> str:
    """An ICAO state code without fillers; the MRZ code 'D' becomes 'DEU'."""
    code = _NON_ALNUM.sub("", text.upper())
    return _STATE_ALIASES.get(code, code)


def document_type(doc_type: str) -> str:
    """An ICAO document code as stored: at most two letters, MRZ filler removed ("P<" -> "P")."""
    return _NON_ALNUM.sub("", doc_type.upper())[:2]


def document_category(doc_type: str) -> str:
    """The first letter of an ICAO document code: P(assport), I/A/C (ID cards), V(isa)."""
    code = _NON_ALNUM.sub("", doc_type.upper())
    return code[:1]
