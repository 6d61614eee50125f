"""Names in the MRZ: transliteration to the MRZ alphabet, the name field, truncation.

Doc 9303 Part 3 asks for names in A-Z only. Its recommended transliterations turn the
umlauts and ligatures into two letters (Ä -> AE, Å -> AA, ß -> SS, Þ -> TH); any other
diacritic is simply dropped (É -> E). Hyphens, spaces and commas separate name
components and become one filler; apostrophes and full stops are left out, so
O'NEILL reads ONEILL. Cyrillic follows the Doc 9303 table as well.
"""
from __future__ import annotations

import re
import unicodedata

from drivers.mrz.checkdigit import FILLER
from drivers.mrz.model import MrzError, Problem

SEPARATOR = FILLER * 2  # between the primary and the secondary identifier

_LATIN = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Ü": "UE", "Œ": "OE",
    "Þ": "TH", "Ĳ": "IJ", "Ð": "D", "Đ": "D", "Ħ": "H", "Ł": "L", "Ŀ": "L", "Ŋ": "N",
    "ẞ": "SS",
}

_CYRILLIC = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH",
    "З": "Z", "И": "I", "Й": "I", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O",
    "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS",
    "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU",
    "Я": "IA", "Є": "IE", "І": "I", "Ї": "I", "Ґ": "G", "Ў": "U", "Ђ": "D", "Ј": "J",
    "Љ": "LJ", "Њ": "NJ", "Ћ": "C", "Џ": "DZ", "Ѓ": "G", "Ќ": "K", "Ѕ": "DZ",
}

_SPECIAL = _LATIN | _CYRILLIC
_OMITTED = set("'’‘`´.")
_SEPARATORS = set(" -‐‑–,\t")  # ASCII and typographic hyphens
_FILLER_RUN = re.compile(f"{FILLER}+")


def transliterate(name: str) -> str:
    """`name` in MRZ characters, its components joined by single fillers.

    Raises MrzError (field 'name') for characters with no transliteration, such as digits.
    """
    out: list[str] = []
    unknown: list[str] = []
    for char in unicodedata.normalize("NFC", name).upper():
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char in _OMITTED:
            continue
        elif char in _SEPARATORS or char == FILLER:
            out.append(FILLER)
        elif "A" <= char <= "Z":
            out.append(char)
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char)
                           if not unicodedata.combining(c))
            if base and all("A" <= c <= "Z" for c in base):
                out.append(base)
            elif not char.isspace():
                unknown.append(char)
            else:
                out.append(FILLER)
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
