"""The grounds of refusal of entry, A to J, of the standard form (Schengen Borders Code, Annex V, Part B;
J added with the travel authorisation). Central keeps only the letter and the English wording with the
decision; the desk prints the form in the traveller's language (edge.desk.refusal_form)."""
from __future__ import annotations

from central.errors import InvalidArgument

GROUNDS = {
    "A": "has no valid travel document(s)",
    "B": "has a false, counterfeit or forged travel document",
    "C": "has no valid visa or residence permit",
    "D": "has a false, counterfeit or forged visa or residence permit",
    "E": "has no appropriate documentation justifying the purpose and conditions of stay",
    "F": "has already stayed for 90 days during a 180-day period on the territory of the Member States",
    "G": "does not have sufficient means of subsistence",
    "H": "is a person for whom an alert has been issued for the purposes of refusing entry",
    "I": "is considered to be a threat to public policy, internal security, public health or international "
         "relations",
    "J": "has no valid travel authorisation",
}


def ground(letter: str) -> str:
    """'F: has already stayed ...' for a letter A to J; InvalidArgument otherwise."""
    letter = (letter or "").strip().upper()
    if letter not in GROUNDS:
        raise InvalidArgument("refusal_ground", f"{letter or 'nothing'!r} is not a ground of the standard form "
                                                "(A to J)")
    return f"{letter}: {GROUNDS[letter]}"
