"""What the desk's screen and the refusal form say, in English, French and Spanish.

The screen follows the officer's chosen language; the refusal form the traveller's (by nationality,
edge.messages' table, or the officer's choice). A missing text falls back to English.
"""
from __future__ import annotations

from edge.messages import language_for

LANGUAGES = ("en", "fr", "es")

SCREEN = {
    "en": {
        "title": "Counter desk", "sign_in": "Sign in", "sign_out": "Sign out", "user": "User name",
        "password": "Password", "signed_in_as": "Signed in as", "online": "Online: central answers",
        "offline": "OFFLINE: central does not answer. Checks below marked offline come from the desk's copy; "
                   "decisions are kept and sent later.",
        "waiting": "Place the document on the reader, or type the MRZ.", "manual": "Type or correct the MRZ",
        "manual_hint": "Two or three lines as printed; the entry is recorded as typed by you.",
        "check": "Check this MRZ", "document": "Document", "checks": "Checks", "history": "Crossing history",
        "stay_post_only": "Stay checked on this post's records only: headquarters did not answer",
        "stay": "Authorised stay", "alerts": "Alerts and watchlist", "face": "Face", "chip": "Chip",
        "decision": "Decision", "admit": "Admit", "refuse": "Refuse", "refer": "Refer to secondary",
        "ground": "Ground of refusal", "note": "Note", "form_language": "Refusal form language",
        "not_checked": "Not checked", "attention": "For your attention", "all_shown": "Every check shown",
        "decided": "Decision recorded", "kept_offline": "Decision kept at the desk, sent when central answers",
        "refusal_form": "Open the refusal form (PDF)", "counter_cases": "Sent to the counter by a gate",
        "take": "Take this traveller", "language": "Language", "no_history": "No earlier crossing",
        "pending": "waiting", "pass": "passed", "fail": "FAILED", "not_done": "not done",
        "keys": "Keys: Alt+A admit, Alt+R refuse, Alt+S refer, Alt+M type the MRZ, Alt+N next traveller, "
                "Alt+I intelligence report, Alt+C capture the face again",
        "next": "Next traveller", "no_chip": "Chip absent or unreadable: decide on the document you hold",
        "fingers": "Fingerprints for the traveller file (after admitting)", "fingers_right": "Right hand, four fingers",
        "fingers_left": "Left hand, four fingers", "fingers_ten": "Ten fingers (4-4-2)",
        "enrol_fingers": "Take and enrol the fingerprints", "fingers_enrolled": "Fingerprints enrolled in file",
        "fingers_below": "some below the quality asked: taken as they were",
        "fingers_not_enrolled": "Fingerprints NOT enrolled",
        "manual_entry": "MRZ typed by the officer", "sign_in_needed": "Sign in to work at this desk.",
        "page_image": "Data page",
        "capture_again": "Capture the face again",
        "capture_again_hint": "Ask the traveller to look at the camera first. The face checks are made again; the "
                              "record says you asked for it.",
        "capturing_again": "Capturing the face again",
        "to_traveller": "Tell the traveller",
        "report": "Intelligence report", "report_text": "What you saw or learned", "report_source": "Source",
        "report_evaluation": "Source evaluation", "report_assessment": "Intelligence",
        "report_handling": "Handling", "report_conditions": "Conditions (handling C only)",
        "report_link": "Linked to the traveller just decided", "report_file": "File report",
        "report_filed": "Intelligence report filed",
        "report_kept": "Report kept at the desk, sent when central answers",
        "report_hint": "You are recorded as its originator. Alt+I to the text.",
    },
    "fr": {
        "title": "Guichet", "sign_in": "Se connecter", "sign_out": "Se déconnecter", "user": "Identifiant",
        "password": "Mot de passe", "signed_in_as": "Connecté : ", "online": "En ligne : le système central répond",
        "offline": "HORS LIGNE : le système central ne répond pas. Les contrôles marqués hors ligne viennent de la "
                   "copie du guichet ; les décisions sont gardées et envoyées plus tard.",
        "waiting": "Posez le document sur le lecteur, ou saisissez la bande MRZ.",
        "manual": "Saisir ou corriger la bande MRZ",
        "manual_hint": "Deux ou trois lignes comme imprimées ; la saisie est enregistrée à votre nom.",
        "check": "Contrôler cette bande", "document": "Document", "checks": "Contrôles",
        "history": "Passages antérieurs",
        "stay_post_only": "Séjour vérifié sur les seuls passages de ce poste : l'administration centrale n'a pas "
                          "répondu",
        "stay": "Séjour autorisé", "alerts": "Signalements et liste de surveillance",
        "face": "Visage", "chip": "Puce", "decision": "Décision", "admit": "Admettre", "refuse": "Refuser",
        "refer": "Orienter vers la seconde ligne", "ground": "Motif du refus", "note": "Remarque",
        "form_language": "Langue du formulaire de refus", "not_checked": "Non contrôlé",
        "attention": "À votre attention", "all_shown": "Tous les contrôles sont affichés",
        "decided": "Décision enregistrée",
        "kept_offline": "Décision gardée au guichet, envoyée quand le système central répondra",
        "refusal_form": "Ouvrir le formulaire de refus (PDF)", "counter_cases": "Envoyés au guichet par un sas",
        "take": "Prendre ce voyageur", "language": "Langue", "no_history": "Aucun passage antérieur",
        "pending": "en attente", "pass": "réussi", "fail": "ÉCHEC", "not_done": "non fait",
        "keys": "Touches : Alt+A admettre, Alt+R refuser, Alt+S seconde ligne, Alt+M saisir la bande, "
                "Alt+N voyageur suivant, Alt+I rapport de renseignement, Alt+C reprendre le visage",
        "next": "Voyageur suivant", "no_chip": "Puce absente ou illisible : décidez sur le document en main",
        "fingers": "Empreintes digitales pour le dossier du voyageur (après admission)",
        "fingers_right": "Main droite, quatre doigts", "fingers_left": "Main gauche, quatre doigts",
        "fingers_ten": "Dix doigts (4-4-2)", "enrol_fingers": "Relever et enregistrer les empreintes",
        "fingers_enrolled": "Empreintes enregistrées dans le dossier",
        "fingers_below": "certaines sous la qualité demandée : prises telles quelles",
        "fingers_not_enrolled": "Empreintes NON enregistrées",
        "manual_entry": "Bande saisie par l'agent", "sign_in_needed": "Connectez-vous pour travailler à ce guichet.",
        "page_image": "Page des données",
        "capture_again": "Reprendre le visage",
        "capture_again_hint": "Demandez d'abord au voyageur de regarder la caméra. Les contrôles du visage sont "
                              "refaits ; l'enregistrement indique que vous l'avez demandé.",
        "capturing_again": "Nouvelle capture du visage",
        "to_traveller": "À dire au voyageur",
        "report": "Rapport de renseignement", "report_text": "Ce que vous avez vu ou appris", "report_source": "Source",
        "report_evaluation": "Évaluation de la source", "report_assessment": "Renseignement",
        "report_handling": "Diffusion", "report_conditions": "Conditions (diffusion C seulement)",
        "report_link": "Lié au voyageur qui vient d'être décidé", "report_file": "Déposer le rapport",
        "report_filed": "Rapport de renseignement déposé",
        "report_kept": "Rapport gardé au guichet, envoyé quand le système central répondra",
        "report_hint": "Vous en êtes enregistré comme l'auteur. Alt+I pour le texte.",
    },
    "es": {
        "title": "Puesto de control", "sign_in": "Iniciar sesión", "sign_out": "Cerrar sesión", "user": "Usuario",
        "password": "Contraseña", "signed_in_as": "Sesión de", "online": "En línea: el sistema central responde",
        "offline": "SIN CONEXIÓN: el sistema central no responde. Los controles marcados sin conexión vienen de la "
                   "copia del puesto; las decisiones se guardan y se envían después.",
        "waiting": "Coloque el documento en el lector o escriba la zona MRZ.",
        "manual": "Escribir o corregir la zona MRZ",
        "manual_hint": "Dos o tres líneas como están impresas; la entrada queda registrada como suya.",
        "check": "Comprobar esta MRZ", "document": "Documento", "checks": "Controles",
        "history": "Historial de cruces",
        "stay_post_only": "Estancia comprobada solo con los registros de este puesto: la sede central no respondió",
        "stay": "Estancia autorizada", "alerts": "Alertas y lista de vigilancia",
        "face": "Rostro", "chip": "Chip", "decision": "Decisión", "admit": "Admitir", "refuse": "Denegar",
        "refer": "Enviar a segunda línea", "ground": "Motivo de la denegación", "note": "Nota",
        "form_language": "Idioma del formulario de denegación", "not_checked": "No comprobado",
        "attention": "A su atención", "all_shown": "Todos los controles mostrados",
        "decided": "Decisión registrada",
        "kept_offline": "Decisión guardada en el puesto, se enviará cuando responda el sistema central",
        "refusal_form": "Abrir el formulario de denegación (PDF)",
        "counter_cases": "Enviados al puesto por una puerta automática", "take": "Atender a este viajero",
        "language": "Idioma", "no_history": "Ningún cruce anterior", "pending": "pendiente", "pass": "correcto",
        "fail": "FALLO", "not_done": "no realizado",
        "keys": "Teclas: Alt+A admitir, Alt+R denegar, Alt+S segunda línea, Alt+M escribir la MRZ, "
                "Alt+N siguiente viajero, Alt+I informe de inteligencia, Alt+C volver a captar el rostro",
        "next": "Siguiente viajero", "no_chip": "Chip ausente o ilegible: decida con el documento en la mano",
        "fingers": "Huellas dactilares para el expediente del viajero (tras admitir)",
        "fingers_right": "Mano derecha, cuatro dedos", "fingers_left": "Mano izquierda, cuatro dedos",
        "fingers_ten": "Diez dedos (4-4-2)", "enrol_fingers": "Tomar y registrar las huellas",
        "fingers_enrolled": "Huellas registradas en el expediente",
        "fingers_below": "algunas por debajo de la calidad pedida: tomadas tal cual",
        "fingers_not_enrolled": "Huellas NO registradas",
        "manual_entry": "MRZ escrita por el agente", "sign_in_needed": "Inicie sesión para trabajar en este puesto.",
        "page_image": "Página de datos",
        "capture_again": "Volver a captar el rostro",
        "capture_again_hint": "Pida antes al viajero que mire a la cámara. Los controles del rostro se repiten; el "
                              "registro indica que usted lo pidió.",
        "capturing_again": "Nueva captura del rostro",
        "to_traveller": "Decir al viajero",
        "report": "Informe de inteligencia", "report_text": "Lo que vio o supo", "report_source": "Fuente",
        "report_evaluation": "Evaluación de la fuente", "report_assessment": "Información",
        "report_handling": "Difusión", "report_conditions": "Condiciones (solo difusión C)",
        "report_link": "Vinculado al viajero recién decidido", "report_file": "Presentar el informe",
        "report_filed": "Informe de inteligencia presentado",
        "report_kept": "Informe guardado en el puesto, enviado cuando el sistema central responda",
        "report_hint": "Queda registrado como su autor. Alt+I para el texto.",
    },
}

# An intelligence report's choices (3x5x2 grading, as central.intelligence.grading checks it; the edge does not
# import central), in each language: (sources, source evaluations, assessments, handling codes). The defaults
# are an officer's own observation: 1, A, P.
REPORT_CHOICES = {
    "en": ({"officer": "officer observation", "human": "human source", "open": "open source",
            "partner": "partner agency", "system": "system"},
           {"1": "reliable", "2": "untested", "3": "not reliable"},
           {"A": "known directly to the source", "B": "known indirectly, corroborated", "C": "known indirectly",
            "D": "not known", "E": "suspected false or malicious"},
           {"P": "lawful sharing permitted", "C": "sharing under the recorded conditions"}),
    "fr": ({"officer": "observation de l'agent", "human": "source humaine", "open": "source ouverte",
            "partner": "service partenaire", "system": "système"},
           {"1": "fiable", "2": "non éprouvée", "3": "non fiable"},
           {"A": "connu directement de la source", "B": "connu indirectement, corroboré", "C": "connu indirectement",
            "D": "non connu", "E": "soupçonné faux ou malveillant"},
           {"P": "partage légal autorisé", "C": "partage aux conditions enregistrées"}),
    "es": ({"officer": "observación del agente", "human": "fuente humana", "open": "fuente abierta",
            "partner": "organismo asociado", "system": "sistema"},
           {"1": "fiable", "2": "no contrastada", "3": "no fiable"},
           {"A": "conocido directamente por la fuente", "B": "conocido indirectamente, corroborado",
            "C": "conocido indirectamente", "D": "no conocido", "E": "se sospecha falso o malintencionado"},
           {"P": "difusión legal permitida", "C": "difusión con las condiciones registradas"}),
}

# The refusal form's own words.
FORM = {
    "en": {"title": "Refusal of entry at the border", "intro": "On {date} at {time}, at the border crossing point "
           "{point}, before the undersigned officer, the person below:", "surname": "Surname",
           "given_names": "Given names", "birth_date": "Date of birth", "nationality": "Nationality",
           "document": "Travel document", "number": "Number", "refused": "has been refused entry, because he or "
           "she (ground ticked):", "remarks": "Remarks", "appeal": "The person may appeal against the refusal of "
           "entry under national law; an appeal does not suspend the refusal.", "officer": "Officer",
           "desk": "Desk", "signature_person": "Signature of the person", "signature_officer": "Officer's signature",
           "reference": "Reference"},
    "fr": {"title": "Refus d'entrée à la frontière", "intro": "Le {date} à {time}, au point de passage frontalier "
           "{point}, devant l'agent soussigné, la personne ci-dessous :", "surname": "Nom",
           "given_names": "Prénoms", "birth_date": "Date de naissance", "nationality": "Nationalité",
           "document": "Document de voyage", "number": "Numéro", "refused": "s'est vu refuser l'entrée, parce "
           "qu'elle (motif coché) :", "remarks": "Remarques", "appeal": "La personne peut former un recours "
           "contre le refus d'entrée selon le droit national ; le recours n'a pas d'effet suspensif.",
           "officer": "Agent", "desk": "Guichet", "signature_person": "Signature de la personne",
           "signature_officer": "Signature de l'agent", "reference": "Référence"},
    "es": {"title": "Denegación de entrada en la frontera", "intro": "El {date} a las {time}, en el paso fronterizo "
           "{point}, ante el agente que suscribe, la persona siguiente:", "surname": "Apellidos",
           "given_names": "Nombre", "birth_date": "Fecha de nacimiento", "nationality": "Nacionalidad",
           "document": "Documento de viaje", "number": "Número", "refused": "ha sido objeto de denegación de "
           "entrada, porque (motivo marcado):", "remarks": "Observaciones", "appeal": "La persona puede recurrir "
           "la denegación de entrada conforme al derecho nacional; el recurso no suspende la denegación.",
           "officer": "Agente", "desk": "Puesto", "signature_person": "Firma de la persona",
           "signature_officer": "Firma del agente", "reference": "Referencia"},
}


def screen_texts(language: str) -> dict[str, str]:
    chosen = SCREEN.get(language, SCREEN["en"])
    return {key: chosen.get(key, english) for key, english in SCREEN["en"].items()}


def traveller_language(nationality: str | None) -> str:
    """The refusal form's language for a nationality (edge.messages' table), English otherwise."""
    language = language_for(nationality)
    return language if language in LANGUAGES else "en"
