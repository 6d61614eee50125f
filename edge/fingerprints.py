"""The gate's fingerprint step: one or two live fingers compared 1:1 with the fingers the document holds.

The reference fingers come from the chip's DG3, which the chip step reads after Terminal Authentication
(edge.chip); a chip without fingers, or one that did not open DG3 to this gate, gives none, and then there
is nothing to verify and no check. With references, the traveller is asked for the fingers the gate
verifies (the index fingers first, as ICAO and the EES use them), each captured with the re-capture prompt
of drivers.devices.fingerprint.capture, and compared with drivers.fingerprint.compare at its shipped
threshold. Every finger must match.

Everything that can go wrong (no scanner, a broken link, no finger in time, a poor image, too few minutiae)
is a check not done, so the gate refers to an officer; nothing here raises into the gate.
`verify_fingers` is the reusable part (a desk can call it with its own scanner and references).

A traveller file's fingers (enrolled at a counter desk, central.travellers.fingerprints) are verified the
other way round: `verify_against_file` captures the fingers, extracts their minutiae here, and central
compares them with the file's (check `finger.file_verification`). The file's templates never come to the
gate: a gate in a public hall then holds nobody's enrolled fingerprints, and its certificate cannot be used
to collect them; central audits each verification.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from drivers.checks import Check
from drivers.devices.fingerprint.capture import capture_finger
from drivers.devices.fingerprint.scanner import FingerprintScanner, ScannerError
from drivers.fingerprint import compare, iso19794_2, iso19794_4, minutiae
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import Template

log = logging.getLogger(__name__)

CHECK = "finger.verification"
FILE_CHECK = "finger.file_verification"
# Which fingers to ask for first: right index, left index, then the thumbs and middle fingers.
PREFERENCE = (2, 7, 1, 6, 3, 8, 4, 9, 5, 10)
FINGER_NAMES = {1: "right thumb", 2: "right index", 3: "right middle", 4: "right ring", 5: "right little",
                6: "left thumb", 7: "left index", 8: "left middle", 9: "left ring", 10: "left little"}


@dataclass(frozen=True)
class EncodedFinger:
    """A document's finger as DG3 stores it (an ISO/IEC 19794-4 record of one view): decoded only when the
    gate asks for that finger, so the chip step does not decode images nobody compares."""

    record: bytes
    position: int

    def image(self) -> np.ndarray:
        views = [view for view in iso19794_4.decode(self.record) if view.position == self.position]
        if not views:
            raise FingerprintError(f"the finger image record holds no view of finger {self.position}")
        return views[0].image


Reference = Template | np.ndarray | EncodedFinger


@dataclass(frozen=True)
class FingerResult:
    position: int
    score: float
    match: bool
    quality: int


def verify_fingers(scanner: FingerprintScanner, references: dict[int, Reference], *, fingers: int = 1,
                   attempts: int = 2, timeout: float = 10.0, prompt: Callable[[str], None] = lambda text: None,
                   ) -> tuple[list[FingerResult], Check]:
    """Capture up to `fingers` of the reference positions and compare each; the results and the one check.
    A reference is a minutiae template, or a 500 ppi image (decoded and) extracted when it is asked for."""
    chosen = [p for p in PREFERENCE if p in references][:max(1, fingers)]
    if not chosen:
        return [], Check.not_done(CHECK, "the document's fingers carry no usable finger position")
    results: list[FingerResult] = []
    for position in chosen:
        name = FINGER_NAMES[position]
        prompt(f"place your {name} on the scanner")
        try:
            captured = capture_finger(scanner, position, attempts=attempts, timeout=timeout, prompt=prompt)
        except ScannerError as exc:
            return results, Check.not_done(CHECK, f"fingerprint scanner: {exc}")
        if not captured.fingers:
            return results, Check.not_done(CHECK, f"{name}: no usable image ({'; '.join(captured.reasons)})")
        finger = captured.fingers[0]
        if not captured.accepted:
            return results, Check.not_done(CHECK, f"{name}: quality {finger.quality} after {captured.attempts} "
                                           f"attempt(s) ({'; '.join(captured.reasons)})")
        try:
            reference = references[position]
            if isinstance(reference, EncodedFinger):
                reference = reference.image()
            if isinstance(reference, np.ndarray):
                reference = minutiae.extract(reference, position)
            comparison = compare.compare(reference, minutiae.extract(finger.image, position))
        except FingerprintError as exc:
            return results, Check.not_done(CHECK, f"{name}: {exc}")
        results.append(FingerResult(position, round(comparison.score, 1), comparison.match, finger.quality))
    detail = ", ".join(f"{FINGER_NAMES[r.position]} score {r.score:.1f}" for r in results)
    threshold = f"(match at >= {compare.THRESHOLD:g})"
    if all(r.match for r in results):
        return results, Check.passed(CHECK, f"{detail} {threshold}")
    return results, Check.failed(CHECK, f"live finger does not match the document's: {detail} {threshold}")


# central's answer to the live fingers of a traveller file: (status, reason) with status VERIFIED, MISMATCH or
# NO_FINGERPRINTS; it raises when central cannot answer.
FileVerifier = Callable[[list[tuple[int, bytes]]], tuple[str, str]]


def verify_against_file(scanner: FingerprintScanner, positions: list[int], verify: FileVerifier, *,
                        fingers: int = 1, attempts: int = 2, timeout: float = 10.0,
                        prompt: Callable[[str], None] = lambda text: None) -> Check:
    """Capture up to `fingers` of the file's positions, send their minutiae to central (`verify`); the check."""
    chosen = [p for p in PREFERENCE if p in positions][:max(1, fingers)]
    if not chosen:
        return Check.not_done(FILE_CHECK, "the traveller file's fingers carry no usable finger position")
    records = []
    for position in chosen:
        name = FINGER_NAMES[position]
        prompt(f"place your {name} on the scanner")
        try:
            captured = capture_finger(scanner, position, attempts=attempts, timeout=timeout, prompt=prompt)
        except ScannerError as exc:
            return Check.not_done(FILE_CHECK, f"fingerprint scanner: {exc}")
        if not captured.fingers or not captured.accepted:
            quality = f"quality {captured.fingers[0].quality} " if captured.fingers else "no usable image "
            return Check.not_done(FILE_CHECK, f"{name}: {quality}after {captured.attempts} attempt(s) "
                                  f"({'; '.join(captured.reasons)})")
        try:
            records.append((position, iso19794_2.encode(minutiae.extract(captured.fingers[0].image, position))))
        except FingerprintError as exc:
            return Check.not_done(FILE_CHECK, f"{name}: {exc}")
    try:
        status, reason = verify(records)
    except Exception as exc:  # central not answering is a check not done: the gate refers
        return Check.not_done(FILE_CHECK, f"central could not verify the fingers: {exc}")
    if status == "VERIFIED":
        return Check.passed(FILE_CHECK, reason)
    if status == "MISMATCH":
        return Check.failed(FILE_CHECK, reason)
    return Check.not_done(FILE_CHECK, f"central answered {status}: {reason}")


class GateFingerprints:
    """The gate's step: opens the scanner for each traveller (a scanner unplugged since the last one shows
    as a check not done, not as a stale handle) and verifies against the chip's fingers."""

    def __init__(self, open_scanner: Callable[[], FingerprintScanner], *, fingers: int = 1, attempts: int = 2,
                 timeout: float = 10.0) -> None:
        self.open_scanner = open_scanner
        self.fingers = fingers
        self.attempts = attempts
        self.timeout = timeout

    def __call__(self, references: dict[int, Reference], prompt: Callable[[str], None]
                 ) -> tuple[list[FingerResult], list[Check]]:
        if not references:
            return [], []  # the document holds no fingers this gate may read: nothing to verify
        try:
            scanner = self.open_scanner()
        except (ScannerError, OSError) as exc:
            return [], [Check.not_done(CHECK, f"fingerprint scanner unavailable: {exc}")]
        try:
            results, check = verify_fingers(scanner, references, fingers=self.fingers, attempts=self.attempts,
                                            timeout=self.timeout, prompt=prompt)
        except Exception as exc:  # a driver bug must not stop the gate
            log.exception("fingerprint verification failed")
            return [], [Check.not_done(CHECK, f"fingerprint verification error: {exc}")]
        finally:
            try:
                scanner.close()
            except Exception:
                log.exception("closing the fingerprint scanner failed")
        return results, [check]

    def against_file(self, positions: list[int], verify: FileVerifier, prompt: Callable[[str], None]) -> list[Check]:
        """The live fingers against a traveller file's (verify_against_file), with this gate's scanner."""
        if not positions:
            return []  # the file holds no fingers: nothing to verify
        try:
            scanner = self.open_scanner()
        except (ScannerError, OSError) as exc:
            return [Check.not_done(FILE_CHECK, f"fingerprint scanner unavailable: {exc}")]
        try:
            return [verify_against_file(scanner, positions, verify, fingers=self.fingers, attempts=self.attempts,
                                        timeout=self.timeout, prompt=prompt)]
        except Exception as exc:  # a driver bug must not stop the gate
            log.exception("fingerprint verification against the traveller file failed")
            return [Check.not_done(FILE_CHECK, f"fingerprint verification error: {exc}")]
        finally:
            try:
                scanner.close()
            except Exception:
                log.exception("closing the fingerprint scanner failed")
