"""A TD3 passport data page (ICAO Doc 9303 Part 4), drawn clean at PX_PER_MM.

The zones follow Part 4's layout: the header (state, document type), the portrait on the
left, the visual inspection zone's labelled fields beside it, and the two-line MRZ at the
bottom in OCR-B at the standard pitch of ten characters to the inch. Fonts come from
Debian: OCR-B from fonts-ocr-b, the visual zone in DejaVu Sans (fonts-dejavu-core).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from drivers.mrz import generate_td3

PX_PER_MM = 8.0
PAGE_MM = (125.0, 88.0)                  # TD3: ICAO Doc 9303 Part 4
MRZ_PITCH_MM = 2.54                      # OCR-B size 1, 10 characters per inch (Part 3)
OCR_B_FONT = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
VIZ_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
VIZ_BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_INK = (25, 25, 35)


@dataclass(frozen=True)
class PrintedPage:
    """What is printed on the page. `mrz`, when given, is printed as it is (a published
    specimen); otherwise it is generated from the fields."""

    surname: str
    given_names: str
    nationality: str
    sex: str
    birth_date: date
    document_number: str
    expiry_date: date
    issue_date: date
    issuing_state: str
    place_of_birth: str = "ZENITH"
    authority: str = "PASSPORT OFFICE"
    document_type: str = "P"
    optional_data: str = ""
    mrz: str | None = None

    @property
    def mrz_text(self) -> str:
        if self.mrz is not None:
            return self.mrz
        return generate_td3(document_type=self.document_type, issuing_state=self.issuing_state,
                            surname=self.surname, given_names=self.given_names,
                            document_number=self.document_number, nationality=self.nationality,
                            birth_date=self.birth_date, sex=self.sex, expiry_date=self.expiry_date,
                            optional_data=self.optional_data)


def viz_date(day: date) -> str:
    """A date as the visual zone prints it: '12 AUG 1974'."""
    return f"{day.day:02d} {_MONTHS[day.month - 1]} {day.year}"


def mm(value: float) -> int:
    return round(value * PX_PER_MM)


@functools.cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.cache
def _mrz_font() -> ImageFont.FreeTypeFont:
    """OCR-B at the size whose advance is the standard pitch."""
    reference = _font(OCR_B_FONT, 100)
    advance = reference.getlength("<" * 44) / 44
    return _font(OCR_B_FONT, round(100 * mm(MRZ_PITCH_MM * 10) / 10 / advance))


def render_page(page: PrintedPage, portrait: np.ndarray | None = None, *, tint: tuple[int, int, int] = (236, 232, 214),
                pattern_seed: int = 0) -> np.ndarray:
    """The page, clean, as an RGB array of PAGE_MM at PX_PER_MM. `portrait` (RGB array), when
    given, fills the portrait zone; otherwise a drawn silhouette stands in for it."""
    width, height = mm(PAGE_MM[0]), mm(PAGE_MM[1])
    canvas = Image.fromarray(_background(width, height, tint, pattern_seed))
    draw = ImageDraw.Draw(canvas)
    _header(draw, page)
    _portrait(canvas, portrait)
    _visual_zone(draw, page)
    _mrz(draw, page.mrz_text)
    return np.asarray(canvas)


def _background(width: int, height: int, tint: tuple[int, int, int], seed: int) -> np.ndarray:
    """The tinted security paper with a faint guilloche of interlaced waves."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = seed * 0.7
    waves = (np.sin(xs / 23.0 + 4 * np.sin(ys / 41.0 + phase))
             + np.sin(ys / 17.0 + 3 * np.sin(xs / 57.0 - phase)))
    lines = np.clip(1.0 - np.abs(waves) * 6.0, 0.0, 1.0)     # thin bright-dark rosette strokes
    image = np.empty((height, width, 3), np.float32)
    shade = np.array([-28.0, -18.0, -6.0], np.float32)       # a bluish print on the tint
    image[:] = np.array(tint, np.float32)
    image += lines[..., None] * shade
    mrz_top = height - mm(23.2)
    image[mrz_top:] = image[mrz_top:] * 0.35 + np.array(tint, np.float32) * 0.65   # the MRZ zone is kept light
    return np.clip(image, 0, 255).astype(np.uint8)


def _header(draw: ImageDraw.ImageDraw, page: PrintedPage) -> None:
    big = _font(VIZ_BOLD_FONT, mm(3.6))
    draw.text((mm(6), mm(3)), f"{page.issuing_state}  PASSPORT / PASSEPORT", font=big, fill=_INK)
    label, value = _font(VIZ_FONT, mm(1.7)), _font(VIZ_BOLD_FONT, mm(2.8))
    for x_mm, caption, text in ((42, "Type/Type", page.document_type), (62, "Code/Code", page.issuing_state),
                                (86, "Passport No./N° du passeport", page.document_number)):
        draw.text((mm(x_mm), mm(9.5)), caption, font=label, fill=(70, 70, 90))
        draw.text((mm(x_mm), mm(11.8)), text, font=value, fill=_INK)


_FIELDS = (  # (label, x mm, y mm, what is printed)
    ("Surname/Nom", 42, 16.5, lambda p: p.surname.upper()),
    ("Given names/Prénoms", 42, 23.5, lambda p: p.given_names.upper()),
    ("Nationality/Nationalité", 42, 30.5, lambda p: p.nationality),
    ("Date of birth/Date de naissance", 42, 37.5, lambda p: viz_date(p.birth_date)),
    ("Sex/Sexe", 92, 37.5, lambda p: p.sex),
    ("Place of birth/Lieu de naissance", 42, 44.5, lambda p: p.place_of_birth.upper()),
    ("Date of issue/Date de délivrance", 42, 51.5, lambda p: viz_date(p.issue_date)),
    ("Authority/Autorité", 86, 51.5, lambda p: p.authority.upper()),
    ("Date of expiry/Date d'expiration", 42, 58.5, lambda p: viz_date(p.expiry_date)),
)


def _visual_zone(draw: ImageDraw.ImageDraw, page: PrintedPage) -> None:
    label, value = _font(VIZ_FONT, mm(1.7)), _font(VIZ_BOLD_FONT, mm(2.8))
    for caption, x_mm, y_mm, text in _FIELDS:
        draw.text((mm(x_mm), mm(y_mm)), caption, font=label, fill=(70, 70, 90))
        draw.text((mm(x_mm), mm(y_mm + 2.3)), text(page), font=value, fill=_INK)


def _portrait(canvas: Image.Image, portrait: np.ndarray | None) -> None:
    box = (mm(6), mm(17), mm(6 + 32), mm(17 + 45))   # 32 x 45 mm (Part 4)
    size = (box[2] - box[0], box[3] - box[1])
    if portrait is not None:
        photo = Image.fromarray(portrait).convert("RGB").resize(size)
    else:
        photo = Image.new("RGB", size, (196, 206, 214))
        face = ImageDraw.Draw(photo)
        w, h = size
        face.ellipse((w * 0.05, h * 0.72, w * 0.95, h * 1.3), fill=(60, 64, 82))          # shoulders
        face.ellipse((w * 0.27, h * 0.18, w * 0.73, h * 0.70), fill=(206, 168, 140))      # head
        face.pieslice((w * 0.25, h * 0.12, w * 0.75, h * 0.5), 180, 360, fill=(70, 50, 40))   # hair
    canvas.paste(photo, box[:2])


def _mrz(draw: ImageDraw.ImageDraw, text: str) -> None:
    font = _mrz_font()
    lines = text.split("\n")
    pitch = mm(MRZ_PITCH_MM)
    for number, line in enumerate(lines):
        baseline_mm = PAGE_MM[1] - 12.0 + number * 4.7
        top = mm(baseline_mm) - font.getbbox("P")[3]
        for position, char in enumerate(line):   # each character in its cell, as OCR-B print does
            draw.text((mm(6) + position * pitch, top), char, font=font, fill=(10, 10, 15))


def page_size() -> tuple[int, int]:
    """(width, height) in pixels of a clean page."""
    return mm(PAGE_MM[0]), mm(PAGE_MM[1])


