"""Names in the MRZ: transliteration to the MRZ alphabet, the name field, truncation.

Doc 9303 Part 3 asks for names in A-Z only: letters go through its tables
(drivers.mrz.transliteration: Latin with diacritics, Cyrillic, Arabic; Greek by ELOT 743).
Hyphens, spaces and commas separate name components and become one filler; apostrophes
and full stops are left out, so O'NEILL reads ONEILL.
"""
from __future__ import annotations

import re

from drivers.mrz.checkdigit import FILLER
from drivers.mrz.model import MrzError, Problem
from drivers.mrz.transliteration import to_latin

SEPARATOR = FILLER * 2  # between the primary and the secondary identifier

_OMITTED = set("'’‘`´.")
_SEPARATORS = set(" -‐‑–,\t")  # ASCII and typographic hyphens
_FILLER_RUN = re.compile(f"{FILLER}+")


def transliterate(name: str) -> str:
    """`name` in MRZ characters, its components joined by single fillers.

    Letters go through the Doc 9303 tables (drivers.mrz.transliteration). Raises MrzError
    (field 'name') for characters with no transliteration, such as digits.
    """
    out: list[str] = []
    unknown: list[str] = []
    for char in to_latin(name):
        if "A" <= char <= "Z":
            out.append(char)
        elif char in _OMITTED:
            continue
        elif char in _SEPARATORS or char == FILLER or char.isspace():
            out.append(FILLER)
        else:
            unknown.append(char)
    if unknown:
        listed = ", ".join(repr(char) for char in dict.fromkeys(unknown))
        raise MrzError([Problem("name", f"cannot transliterate {listed} in {name!r}")])
    return _FILLER_RUN.sub(FILLER, "".join(out)).strip(FILLER)


def name_field(primary: str, secondary: str, width: int) -> str:
    """The name field of `width` characters from already transliterated identifiers."""
    full = primary + (SEPARATOR + secondary if secondary else "")
    return truncate(full, width).ljust(width, FILLER)


def truncate(full: str, width: int) -> str:
    """Cut a name to `width` so that it ends in a letter, the sign of a possibly truncated
    name (Doc 9303 Part 4). When the cut falls on a separator, the component before it is
    shortened to make room for the initial of the next component."""
    if len(full) <= width:
        return full
    head = full[:width]
    if head[-1] != FILLER:
        return head
    end_of_component = len(head.rstrip(FILLER))
    next_letter = len(full) - len(full[end_of_component:].lstrip(FILLER))
    separator = full[end_of_component:next_letter]
    keep = width - len(separator) - 1
    shortened = full[:keep]
    if keep <= 0 or shortened.endswith(FILLER):
        # Components of one letter leave nothing to shorten: a plain cut is all we can do.
        return head.rstrip(FILLER)
    return shortened + separator + full[next_letter]


def split_name_field(field: str) -> tuple[str, str]:
    """(surname, given names) with components joined by spaces."""
    primary, _, secondary = field.rstrip(FILLER).partition(SEPARATOR)
    return _words(primary), _words(secondary)


def _words(identifier: str) -> str:
    return " ".join(part for part in identifier.split(FILLER) if part)
