"""Capture with a re-capture prompt: take a finger (or a slap) until every finger's quality reaches the
threshold, prompting the traveller in between, up to a number of attempts.

The best attempt is kept either way: after the last attempt the caller gets it with `accepted` false and
decides (a gate refers to an officer; a desk officer may take it as it is).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from drivers.devices.fingerprint.scanner import FingerprintScanner
from drivers.fingerprint import quality, slap
from drivers.fingerprint.errors import FingerprintError


@dataclass(frozen=True)
class Finger:
    position: int            # ISO/IEC 19794 finger position
    image: np.ndarray
    quality: int


@dataclass(frozen=True)
class Capture:
    fingers: tuple[Finger, ...]
    accepted: bool           # every finger at or above the threshold
    attempts: int
    reasons: tuple[str, ...]  # why each earlier attempt was prompted again


def capture_finger(scanner: FingerprintScanner, position: int = 0, **options) -> Capture:
    return _capture(scanner, lambda image: [(position, image)], **options)


def capture_slap(scanner: FingerprintScanner, which: str, **options) -> Capture:
    """`which`: "right", "left" or "thumbs" (the 4-4-2 sequence)."""
    positions = slap.SLAPS[which]
    return _capture(scanner, lambda image: slap.split(image, positions), **options)


def _capture(scanner: FingerprintScanner, fingers_of: Callable[[np.ndarray], list[tuple[int, np.ndarray]]], *,
             threshold: int = quality.RECAPTURE_BELOW, attempts: int = 3, timeout: float = 10.0,
             prompt: Callable[[str], None] = lambda reason: None) -> Capture:
    best: tuple[Finger, ...] = ()
    reasons: list[str] = []
    for attempt in range(1, attempts + 1):
        image = scanner.capture(timeout)
        try:
            fingers = tuple(Finger(p, f, quality.assess(f).score) for p, f in fingers_of(image))
        except FingerprintError as exc:
            reason = str(exc)
        else:
            worst = min(fingers, key=lambda f: f.quality)
            if worst.quality >= threshold:
                return Capture(fingers, True, attempt, tuple(reasons))
            if not best or worst.quality > min(f.quality for f in best):
                best = fingers
            reason = f"finger {worst.position} quality {worst.quality} below {threshold}"
        reasons.append(reason)
        if attempt < attempts:
            prompt(reason)
    return Capture(best, False, attempts, tuple(reasons))
