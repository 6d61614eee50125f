"""Minutiae templates: what extraction produces, comparison consumes and the records carry.

Coordinates are pixels of a 500 ppi image, origin top left, y down. Angles follow ISO/IEC 19794-2:
radians counter-clockwise from the x axis as seen on the print (so y up), in [0, 2*pi).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from drivers.fingerprint.errors import FingerprintError

ENDING = "ending"
BIFURCATION = "bifurcation"
OTHER = "other"
KINDS = (ENDING, BIFURCATION, OTHER)

PPI = 500
PIXELS_PER_CM = 197     # 500 ppi as ISO/IEC 19794-2 states resolution


@dataclass(frozen=True)
class Minutia:
    x: int
    y: int
    angle: float        # radians, ISO convention (counter-clockwise, y up)
    kind: str = ENDING
    quality: int = 50   # 0-100, as ISO/IEC 19794-2 minutia quality

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FingerprintError(f"unknown minutia kind {self.kind!r}")
        if not 0 <= self.quality <= 100:
            raise FingerprintError(f"minutia quality {self.quality} outside 0-100")


@dataclass(frozen=True)
class Template:
    width: int
    height: int
    minutiae: tuple[Minutia, ...] = field(default_factory=tuple)
    position: int = 0    # ISO/IEC 19794-2 finger position: 0 unknown, 1 right thumb ... 10 left little
    quality: int = 0     # finger quality 0-100 (drivers.fingerprint.quality)

    def to_json(self) -> dict:
        return {"width": self.width, "height": self.height, "position": self.position, "quality": self.quality,
                "minutiae": [{"x": m.x, "y": m.y, "angle": round(m.angle, 4), "kind": m.kind,
                              "quality": m.quality} for m in self.minutiae]}

    @classmethod
    def from_json(cls, value: dict) -> Template:
        try:
            minutiae = tuple(Minutia(int(m["x"]), int(m["y"]), float(m["angle"]) % (2 * math.pi),
                                     str(m["kind"]), int(m["quality"])) for m in value["minutiae"])
            return cls(int(value["width"]), int(value["height"]), minutiae, int(value.get("position", 0)),
                       int(value.get("quality", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise FingerprintError(f"malformed template JSON: {exc}") from exc
