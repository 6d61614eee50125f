"""The grounds of refusal of entry, A to J, of the uniform refusal form (Schengen Borders Code, Annex V,
Part B; J, "no valid travel authorisation", added with ETIAS), in the languages Limes prints the form in.

One table for every place that names a ground: central keeps the letter and the English wording with the
decision, the web desk offers them, the counter desk shows them and prints the form in the traveller's
language.
"""
from __future__ import annotations

LETTERS = tuple("ABCDEFGHIJ")

GROUNDS = {
    "en": {
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
    },
    "fr": {
        "A": "n'est pas en possession d'un document de voyage valable",
        "B": "est en possession d'un document de voyage faux, falsifié ou contrefait",
        "C": "n'est pas en possession d'un visa ou d'un titre de séjour valable",
        "D": "est en possession d'un visa ou d'un titre de séjour faux, falsifié ou contrefait",
        "E": "n'est pas en possession des documents justifiant l'objet et les conditions du séjour",
        "F": "a déjà séjourné 90 jours sur une période de 180 jours sur le territoire des États membres",
        "G": "ne dispose pas de moyens de subsistance suffisants",
        "H": "fait l'objet d'un signalement aux fins de non-admission",
        "I": "est considéré comme représentant une menace pour l'ordre public, la sécurité intérieure, la santé "
             "publique ou les relations internationales",
        "J": "n'est pas en possession d'une autorisation de voyage valable",
    },
    "es": {
        "A": "no posee un documento de viaje válido",
        "B": "posee un documento de viaje falso, falsificado o alterado",
        "C": "no posee un visado o un permiso de residencia válido",
        "D": "posee un visado o un permiso de residencia falso, falsificado o alterado",
        "E": "no posee documentación que justifique el motivo y las condiciones de la estancia",
        "F": "ya ha permanecido 90 días durante un período de 180 días en el territorio de los Estados miembros",
        "G": "no dispone de medios de subsistencia suficientes",
        "H": "es una persona sobre la que existe una descripción a efectos de denegación de entrada",
        "I": "se considera que representa una amenaza para el orden público, la seguridad interior, la salud "
             "pública o las relaciones internacionales",
        "J": "no posee una autorización de viaje válida",
    },
}


def ground_text(letter: str, language: str = "en") -> str:
    """'F: has already stayed ...' for a letter of the form, in the language (English when it has none);
    KeyError for anything that is not a letter A to J."""
    texts = GROUNDS.get(language, GROUNDS["en"])
    return f"{letter}: {texts[letter]}"
