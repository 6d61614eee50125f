"""Each MRZ cell compared with the 37 glyphs of the OCR-B font itself (template matching).

Doc 9303 Part 3 prescribes OCR-B (ISO 1073-2) for every MRZ, so the shapes to expect are known
exactly: each glyph is drawn from Debian's OCR-B font (fonts-ocr-b) at the line's own pitch,
softened as a reader's optics soften print, and slid over the cell; the normalised
cross-correlation at the best offset is the glyph's score. Nothing is learnt from images.

This reading is independent of the recognition model's (engine): it knows nothing of other
fonts and tells O from 0 and D from O by their OCR-B shapes, which the model, trained on other
fonts, cannot. Where the simulator draws its pages with the same font, this makes the benchmark
easier than real print (ink spread, laminate, worn type): docs/PAGEIMAGE.md says so.
"""
from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

OCR_B_FONT = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")   # Debian: fonts-ocr-b
GLYPHS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_SUPERSAMPLE = 4        # glyphs drawn this many times larger, then reduced: smooth edges as a camera sees them
_SOFTEN_SIGMA = 0.8     # pixels of blur at the line's scale: print and lens are never sharp
_SLIDE = 0.25           # of a pitch: how far a glyph may sit off its cell's centre


class FontMissing(RuntimeError):
    """The OCR-B font file is not installed."""


def score_cells(line: np.ndarray, first: float, pitch: float, count: int) -> list[dict[str, float]]:
    """For each of the `count` cells of the upright line crop `line` (RGB), centred at
    first + k * pitch pixels from its left, each glyph's best correlation (-1..1) with it."""
    ink = 255.0 - cv2.cvtColor(line, cv2.COLOR_RGB2GRAY).astype(np.float32)
    templates = _templates(round(pitch * 4) / 4)
    height, width = next(iter(templates.values())).shape
    slide = max(1, round(pitch * _SLIDE))
    if ink.shape[0] < height:
        ink = cv2.copyMakeBorder(ink, 0, height - ink.shape[0], 0, 0, cv2.BORDER_REPLICATE)
    # Room on both sides, so the first and last cells can be slid over as the others are.
    margin = width + slide
    ink = cv2.copyMakeBorder(ink, 0, 0, margin, margin, cv2.BORDER_REPLICATE)
    # One correlation map per glyph over the whole line; each cell takes its best within its window.
    maps = {glyph: cv2.matchTemplate(ink, template, cv2.TM_CCOEFF_NORMED).max(axis=0)
            for glyph, template in templates.items()}
    scores = []
    for index in range(count):
        left = round(first + index * pitch - width / 2) - slide + margin
        scores.append({glyph: float(best[left:left + 2 * slide + 1].max()) for glyph, best in maps.items()})
    return scores


@functools.lru_cache(maxsize=16)
def _templates(pitch: float) -> dict[str, np.ndarray]:
    """Each glyph, ink bright on black, in a frame one pitch wide (plus a pixel each side) and
    from just above the capitals to just below the baseline, at the size whose advance is `pitch`."""
    if not OCR_B_FONT.is_file():
        raise FontMissing(f"the OCR-B font is not installed ({OCR_B_FONT}; Debian package fonts-ocr-b)")
    reference = ImageFont.truetype(str(OCR_B_FONT), 100)
    advance = reference.getlength("<" * 44) / 44
    font = ImageFont.truetype(str(OCR_B_FONT), round(100 * pitch / advance * _SUPERSAMPLE))
    origin = round(pitch * _SUPERSAMPLE)          # where the glyph is drawn in a canvas of three pitches
    canvas = round(pitch * 3 * _SUPERSAMPLE)
    _, cap_top, _, baseline = font.getbbox("H")
    top = int(np.floor((origin + cap_top) / _SUPERSAMPLE)) - 2
    bottom = int(np.ceil((origin + baseline) / _SUPERSAMPLE)) + 2
    left, right = int(np.floor(pitch)) - 1, int(np.ceil(2 * pitch)) + 1
    small = round(canvas / _SUPERSAMPLE)
    templates = {}
    for glyph in GLYPHS:
        image = Image.new("L", (canvas, canvas), 0)
        ImageDraw.Draw(image).text((origin, origin), glyph, font=font, fill=255)
        reduced = cv2.resize(np.asarray(image, np.float32), (small, small), interpolation=cv2.INTER_AREA)
        templates[glyph] = cv2.GaussianBlur(reduced[top:bottom, left:right], (0, 0), _SOFTEN_SIGMA)
    return templates
