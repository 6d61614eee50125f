"""The uniform refusal-of-entry form as a PDF, in the traveller's language (reportlab).

It follows the standard form of the Schengen Borders Code (Annex V, Part B) in what it records: the
border crossing point, date and time, the person and their document, every ground A to J with the
one(s) found ticked, remarks, the right of appeal, and room for both signatures. The officer is the
one signed in at the desk (edge.desk.counter passes central's name for them), never a typed name.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from common.refusal_grounds import GROUNDS
from edge.desk.texts import FORM, LANGUAGES

# Helvetica in reportlab covers Latin-1 (é, ñ, ...), all three languages need.
FONT, BOLD = "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True)
class Refusal:
    surname: str
    given_names: str
    birth_date: str
    nationality: str
    document_type: str
    document_number: str
    grounds: tuple[str, ...]      # letters A to J
    border_point: str
    desk: str
    officer: str
    at: dt.datetime
    reference: str                # the crossing's id
    remarks: str = ""


def render(refusal: Refusal, language: str) -> bytes:
    """The form as PDF bytes; ValueError for an unknown language or ground."""
    if language not in LANGUAGES:
        raise ValueError(f"no refusal form in the language {language!r}: one of {', '.join(LANGUAGES)}")
    unknown = set(refusal.grounds) - set(GROUNDS[language])
    if unknown or not refusal.grounds:
        raise ValueError(f"grounds must be letters A to J, not {sorted(unknown) or 'none'}")
    words, grounds = FORM[language], GROUNDS[language]
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)  # invariant: the same form gives the same bytes
    page.setTitle(f"{words['title']} {refusal.reference}")
    page.setAuthor(refusal.officer)
    width, height = A4
    left, y = 20 * mm, height - 25 * mm

    def line(text: str, *, font: str = FONT, size: float = 10, indent: float = 0, gap: float = 5.5 * mm) -> None:
        nonlocal y
        for part in simpleSplit(text, font, size, width - 2 * left - indent) or [""]:
            page.setFont(font, size)
            page.drawString(left + indent, y, part)
            y -= gap

    line(words["title"], font=BOLD, size=15, gap=9 * mm)
    line(words["intro"].format(date=refusal.at.strftime("%Y-%m-%d"), time=refusal.at.strftime("%H:%M"),
                               point=refusal.border_point))
    y -= 2 * mm
    for key, value in (("surname", refusal.surname), ("given_names", refusal.given_names),
                       ("birth_date", refusal.birth_date), ("nationality", refusal.nationality),
                       ("document", refusal.document_type), ("number", refusal.document_number)):
        line(f"{words[key]}: {value}", indent=6 * mm)
    y -= 2 * mm
    line(words["refused"], font=BOLD)
    for letter, text in grounds.items():
        mark = "[X]" if letter in refusal.grounds else "[  ]"
        line(f"{mark} ({letter}) {text}", font=BOLD if letter in refusal.grounds else FONT, indent=6 * mm)
    y -= 2 * mm
    line(f"{words['remarks']}: {refusal.remarks or '-'}")
    line(words["appeal"], size=9)
    y -= 4 * mm
    line(f"{words['officer']}: {refusal.officer}    {words['desk']}: {refusal.desk}    "
         f"{words['reference']}: {refusal.reference}", size=9)
    y -= 14 * mm
    page.setFont(FONT, 9)
    page.line(left, y, left + 70 * mm, y)
    page.line(width - left - 70 * mm, y, width - left, y)
    page.drawString(left, y - 5 * mm, words["signature_person"])
    page.drawString(width - left - 70 * mm, y - 5 * mm, words["signature_officer"])
    page.showPage()
    page.save()
    return buffer.getvalue()
