"""The ICAO 9303 check digit: weights 7-3-1 repeating, digits count as themselves,
A..Z as 10..35 and the filler '<' as 0; the weighted sum modulo 10 is the digit."""
from __future__ import annotations

import string

FILLER = "<"
MRZ_ALPHABET = frozenset(string.ascii_uppercase + string.digits + FILLER)

_WEIGHTS = (7, 3, 1)


def char_value(char: str) -> int:
    if char in string.digits:
        return ord(char) - ord("0")
    if char in string.ascii_uppercase:
        return ord(char) - ord("A") + 10
    if char == FILLER:
        return 0
    raise ValueError(f"{char!r} is not an MRZ character")


def check_digit(field: str) -> str:
    total = sum(char_value(char) * _WEIGHTS[index % 3] for index, char in enumerate(field))
    return str(total % 10)
