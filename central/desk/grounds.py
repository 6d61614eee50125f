"""A refusal's ground as central keeps it with the decision: the letter and the English wording of the
uniform form (the table is common.refusal_grounds, shared with the desks)."""
from __future__ import annotations

from central.errors import InvalidArgument
from common.refusal_grounds import LETTERS, ground_text


def ground(letter: str) -> str:
    """'F: has already stayed ...' for a letter A to J; InvalidArgument otherwise."""
    letter = (letter or "").strip().upper()
    if letter not in LETTERS:
        raise InvalidArgument("refusal_ground", f"{letter or 'nothing'!r} is not a ground of the standard form "
                                                "(A to J)")
    return ground_text(letter)
