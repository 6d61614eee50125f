"""Short traveller-facing messages, in the traveller's language where the
document tells it (nationality), English otherwise."""
from __future__ import annotations

MESSAGES = {
    "present_document": {
        "en": "Place your passport on the reader, photo page down.",
        "fr": "Posez votre passeport sur le lecteur, page photo vers le bas.",
        "es": "Coloque su pasaporte en el lector, con la página de la foto hacia abajo.",
    },
    "look_at_camera": {
        "en": "Look at the camera.",
        "fr": "Regardez la caméra.",
        "es": "Mire a la cámara.",
    },
    "proceed": {
        "en": "Thank you. Please proceed.",
        "fr": "Merci. Veuillez avancer.",
        "es": "Gracias. Puede pasar.",
    },
    "see_officer": {
        "en": "Please wait: an officer will assist you.",
        "fr": "Veuillez patienter : un agent va vous aider.",
        "es": "Espere, por favor: un agente le atenderá.",
    },
}

# ICAO nationality codes whose travellers most likely read French or Spanish.
_LANGUAGE_BY_NATIONALITY = {
    **dict.fromkeys(["FRA", "BEL", "LUX", "MCO", "SEN", "CIV", "MLI", "BFA", "NER", "TCD",
                     "CMR", "GAB", "COG", "COD", "BEN", "TGO", "GIN", "MDG", "HTI"], "fr"),
    **dict.fromkeys(["ESP", "MEX", "ARG", "COL", "PER", "VEN", "CHL", "ECU", "GTM", "CUB",
                     "BOL", "DOM", "HND", "PRY", "SLV", "NIC", "CRI", "PAN", "URY", "GNQ"], "es"),
}


def language_for(nationality: str | None) -> str:
    return _LANGUAGE_BY_NATIONALITY.get(nationality or "", "en")


def message(key: str, nationality: str | None = None) -> str:
    texts = MESSAGES[key]
    return texts.get(language_for(nationality), texts["en"])
