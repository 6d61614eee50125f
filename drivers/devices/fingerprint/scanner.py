"""What the product asks of a fingerprint scanner, whatever its make: a grey 500 ppi image of what
lies on the platen. A single-finger scanner gives one finger; a slap scanner gives four or two
fingers side by side, which drivers.fingerprint.slap splits."""
from __future__ import annotations

from typing import Protocol

import numpy as np


class ScannerError(RuntimeError):
    """The scanner cannot give an image: no finger in time, a fault, or a broken link; the message says which."""


class FingerprintScanner(Protocol):
    def capture(self, timeout: float = 10.0) -> np.ndarray:
        """Wait for a finger and return its image, (H, W) uint8 at 500 ppi; ScannerError otherwise."""

    def close(self) -> None:
        ...
