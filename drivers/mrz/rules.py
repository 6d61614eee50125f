"""Checks shared by parsing and generation, each returning the reason a value is wrong."""
from __future__ import annotations

import string

from drivers.mrz import countries
from drivers.mrz.checkdigit import FILLER
from drivers.mrz.layouts import Layout

_LETTERS = set(string.ascii_uppercase)
_ALPHANUMERIC = set(string.ascii_uppercase + string.digits)

# First letter of the document code allowed in each format (Doc 9303 Parts 4-7).
_FIRST_LETTERS = {"TD1": "ACI", "TD2": "ACI", "TD3": "P", "MRVA": "V", "MRVB": "V"}


def document_code(layout: Layout, code: str) -> str | None:
    """`code` is the two-character field, fillers included."""
    first, second = code[0], code[1]
    allowed = _FIRST_LETTERS[layout.format]
    if first not in allowed:
        return f"{code!r} must start with {' or '.join(allowed)} in {layout.format}"
    if second != FILLER and second not in _LETTERS:
        return f"{code!r} has a second character that is neither a letter nor '<'"
    if layout.format in ("TD1", "TD2") and second == "V":
        # 'V' after A, C or I is reserved so that these cards are never taken for visas.
        return f"{code!r} may not use V as its second character"
    return None


def state_code(code: str) -> str | None:
    """`code` without fillers."""
    if not code:
        return "is empty"
    if not countries.is_known(code):
        return f"{code!r} is not an ICAO or ISO 3166 alpha-3 code"
    return None


def document_number(number: str) -> str | None:
    if not number:
        return "is empty"
    if not set(number) <= _ALPHANUMERIC:
        return f"{number!r} may only contain A-Z and 0-9"
    return None


def optional_data(data: str) -> str | None:
    if not set(data) <= _ALPHANUMERIC | {FILLER}:
        return f"{data!r} may only contain A-Z, 0-9 and '<'"
    return None


SEX_CODES = {"M": "M", "F": "F", FILLER: "X", "X": "X"}
