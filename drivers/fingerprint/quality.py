"""Finger image quality on NFIQ 2's 0-100 scale, and the re-capture decision.

Not NFIQ 2: NIST's NFIQ 2 is a random forest over 69 features trained on operational data, and
no build of it loads here (docs/FINGERPRINTS.md). This score multiplies three of the kinds of
feature NFIQ 2 uses: how much of the platen the finger covers (its ROI area), how coherent the
ridge flow is (its orientation certainty level) and how cleanly ridges stand out from valleys
(its local clarity). It ranks captures as a re-capture prompt needs; its values are not NFIQ 2's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivers.fingerprint import ridges
from drivers.fingerprint.image import check_size
from drivers.fingerprint.minutiae import Analysis, analyse

RECAPTURE_BELOW = 35          # default prompt threshold; limes finger quality --threshold changes it
_FULL_AREA = 0.6              # a good touch covers about this share of a single-finger platen


@dataclass(frozen=True)
class Quality:
    score: int                # 0-100
    area: float               # share of the image that is print
    coherence: float          # mean ridge-flow coherence over the print, 0-1
    clarity: float            # correlation of the print with its enhanced ridges, 0-1
    minutiae: int

    def recapture(self, threshold: int = RECAPTURE_BELOW) -> bool:
        return self.score < threshold

    def to_json(self, threshold: int = RECAPTURE_BELOW) -> dict:
        return {"score": self.score, "recapture": self.recapture(threshold), "threshold": threshold,
                "area": round(self.area, 3), "coherence": round(self.coherence, 3),
                "clarity": round(self.clarity, 3), "minutiae": self.minutiae}


def assess(image: np.ndarray, analysis: Analysis | None = None) -> Quality:
    image = check_size(image)
    found = analysis or analyse(image)
    mask = found.mask
    area = float(mask.mean())
    if area < 0.02:
        return Quality(0, area, 0.0, 0.0, 0)
    coherence = float(found.coherence[mask].mean())
    values = ridges.normalise(image)[mask]
    enhanced = found.enhanced[mask]
    clarity = float(np.corrcoef(values, enhanced)[0, 1]) if enhanced.std() > 0 else 0.0
    # each factor 0 where NFIQ 2 would see no usable print and 1 at the level of a clean live scan
    score = 100.0 * min(area / _FULL_AREA, 1.0) ** 0.5 * np.clip((coherence - 0.5) / 0.45, 0, 1) \
        * np.clip((clarity - 0.4) / 0.55, 0, 1)
    return Quality(int(round(score)), area, coherence, max(clarity, 0.0), len(found.minutiae))
