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

# The last day of an authorised stay, written out in the traveller's language ("14 March 2027").
STAY_UNTIL = {
    "en": "You may stay until {day} {month} {year}.",
    "fr": "Vous pouvez séjourner jusqu'au {day} {month} {year}.",
    "es": "Puede permanecer hasta el {day} de {month} de {year}.",
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
}


def stay_until(last_day, nationality: str | None = None) -> str:
    """ "You may stay until 14 March 2027." in the traveller's language; last_day: a datetime.date."""
    language = language_for(nationality)
    # French writes the first of the month as an ordinal: "1er mars".
    day = "1er" if language == "fr" and last_day.day == 1 else str(last_day.day)
    return STAY_UNTIL[language].format(day=day, month=MONTHS[language][last_day.month - 1], year=last_day.year)


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


# The capture loop's guidance (drivers.face.quality.GUIDANCE and edge.capture), translated.
GUIDANCE = {
    "look at the camera": {"fr": "Regardez la caméra.", "es": "Mire a la cámara."},
    "one person at a time, please": {"fr": "Une personne à la fois, s'il vous plaît.",
                                     "es": "Una persona a la vez, por favor."},
    "move closer": {"fr": "Approchez-vous.", "es": "Acérquese."},
    "step into the middle of the frame": {"fr": "Placez-vous au centre.", "es": "Colóquese en el centro."},
    "look straight at the camera": {"fr": "Regardez droit vers la caméra.", "es": "Mire de frente a la cámara."},
    "keep your head level": {"fr": "Gardez la tête droite.", "es": "Mantenga la cabeza recta."},
    "hold your head upright": {"fr": "Tenez la tête bien droite.", "es": "No incline la cabeza."},
    "hold still": {"fr": "Ne bougez pas.", "es": "No se mueva."},
    "face the light": {"fr": "Tournez-vous vers la lumière.", "es": "Mire hacia la luz."},
    "step out of the glare": {"fr": "Évitez le reflet.", "es": "Evite el reflejo."},
    "open your eyes": {"fr": "Ouvrez les yeux.", "es": "Abra los ojos."},
}


def guidance(text: str, nationality: str | None = None) -> str:
    """A guidance phrase in the traveller's language; as a sentence in English otherwise."""
    language = language_for(nationality)
    translated = GUIDANCE.get(text, {}).get(language)
    if translated:
        return translated
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
