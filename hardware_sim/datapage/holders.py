"""Random holders for pages nobody will travel with: the benchmark's 200 and the tests'."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from hardware_sim.datapage.render import PrintedPage

_SURNAMES = ("ERIKSSON", "MUELLER", "GARCIA MARQUEZ", "OKONKWO", "NGUYEN", "VAN DER BERG", "KOWALCZYK",
             "OBRIEN", "DUBOIS", "PAPADOPOULOU", "HAKKINEN", "SILVA SANTOS", "KIM", "ABDULLAH", "IVANOVA",
             "LEFEVRE", "SCHWARZENEGGER", "OYELARAN", "BJORKLUND", "TANAKA", "QUISPE", "ZWANZIGER")
_GIVEN = ("ANNA MARIA", "JUERGEN", "SOFIA", "CHIAMAKA", "MINH ANH", "PIETER JAN", "ZOFIA", "SEAN PATRICK",
          "CLAIRE", "ELENI", "MIKKO", "JOAO PEDRO", "JI WOO", "NOOR", "OLGA", "AMELIE ROSE", "ARNOLD",
          "ADEBAYO", "LINNEA", "HIROSHI", "WAYRA", "XAVER")
_STATES = ("UTO", "D", "FRA", "ESP", "NLD", "POL", "GRC", "FIN", "PRT", "KOR", "NGA", "SWE", "JPN", "PER", "AUT")
_PLACES = ("ZENITH", "BERLIN", "LYON", "SEVILLA", "UTRECHT", "KRAKOW", "PATRA", "OULU", "PORTO", "BUSAN")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def random_page(rng: np.random.Generator, today: date = date(2026, 12, 1)) -> PrintedPage:
    """A plausible TD3 holder: names from many languages' spellings, numbers mixing letters and
    digits (where OCR confuses O/0, I/1, B/8), dates a valid document can hold."""
    state = str(rng.choice(_STATES))
    birth = date(1940, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 80)))
    issue = today - timedelta(days=int(rng.integers(0, 365 * 9)))
    number = "".join(str(rng.choice(list(_LETTERS + "0123456789"))) for _ in range(int(rng.integers(8, 10))))
    optional = "".join(str(rng.choice(list(_LETTERS + "0123456789"))) for _ in range(int(rng.integers(0, 12))))
    return PrintedPage(
        surname=str(rng.choice(_SURNAMES)), given_names=str(rng.choice(_GIVEN)),
        nationality=state, sex=str(rng.choice(["F", "M", "X"])), birth_date=birth, document_number=number,
        expiry_date=issue.replace(year=issue.year + 10) - timedelta(days=1), issue_date=issue,
        issuing_state=state, place_of_birth=str(rng.choice(_PLACES)), optional_data=optional)
