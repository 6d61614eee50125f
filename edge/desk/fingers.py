"""Fingerprint enrolment at the counter: the 4-4-2 slaps an officer takes for a traveller file.

Four fingers (the right slap, or the left) or all ten (right, left, then the two thumbs), each slap taken
with the re-capture prompt of drivers.devices.fingerprint.capture until every finger reaches the configured
quality (the officer hears why each time), then each finger's minutiae as an ISO/IEC 19794-2 record and its
image as WSQ, for central (central.travellers.fingerprints). After the last attempt the best slap is kept
with `accepted` false: the officer sees the qualities and decides whether to send it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from drivers.devices.fingerprint.capture import capture_slap
from drivers.devices.fingerprint.scanner import FingerprintScanner
from drivers.fingerprint import iso19794_2, minutiae, quality, wsq

# What the officer may choose, and the slaps each takes in order.
ENROLMENTS = {"right": ("right",), "left": ("left",), "ten": ("right", "left", "thumbs")}
SLAP_NAMES = {"right": "the right hand's four fingers", "left": "the left hand's four fingers",
              "thumbs": "both thumbs"}


@dataclass(frozen=True)
class EnrolmentFinger:
    position: int
    iso19794_2: bytes
    wsq: bytes
    quality: int
    minutiae: int


@dataclass(frozen=True)
class Enrolment:
    fingers: tuple[EnrolmentFinger, ...]
    accepted: bool            # every finger at or above the threshold
    attempts: int             # slaps taken, re-captures included


def take_fingers(scanner: FingerprintScanner, which: str, *, threshold: int = quality.RECAPTURE_BELOW,
                 attempts: int = 3, timeout: float = 15.0,
                 prompt: Callable[[str], None] = lambda text: None) -> Enrolment:
    """The slaps of `which` ("right", "left" or "ten"), each finger encoded; ValueError for another choice,
    ScannerError or FingerprintError as the scanner or the extraction raise them."""
    if which not in ENROLMENTS:
        raise ValueError(f"enrol {', '.join(ENROLMENTS)}, not {which!r}")
    fingers: list[EnrolmentFinger] = []
    accepted, taken = True, 0
    for slap in ENROLMENTS[which]:
        prompt(f"place {SLAP_NAMES[slap]} flat on the scanner")
        captured = capture_slap(scanner, slap, threshold=threshold, attempts=attempts, timeout=timeout,
                                prompt=lambda reason: prompt(f"again, {SLAP_NAMES[slap]}: {reason}"))
        taken += captured.attempts
        if not captured.fingers:
            raise ValueError(f"{SLAP_NAMES[slap]}: no usable slap after {captured.attempts} attempt(s) "
                             f"({'; '.join(captured.reasons)})")
        accepted = accepted and captured.accepted
        for finger in captured.fingers:
            template = minutiae.extract(finger.image, finger.position)
            fingers.append(EnrolmentFinger(finger.position, iso19794_2.encode(template), wsq.encode(finger.image),
                                           finger.quality, len(template.minutiae)))
    return Enrolment(tuple(fingers), accepted, taken)
