"""WSQ through NBIS's codec: round trips, and corrupt streams that end in an error, never a crash."""
from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.fingerprint import wsq
from drivers.fingerprint.errors import FingerprintError


def _ridges(height: int = 200, width: int = 180) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    noise = np.random.default_rng(0).normal(0, 8, (height, width))
    return (128 + 90 * np.sin(x / 3.0 + y / 5.0) + noise).clip(0, 255).astype(np.uint8)


def test_round_trip_compresses_and_keeps_the_ridges():
    image = _ridges()
    stream = wsq.encode(image)
    assert stream[:2] == wsq.MAGIC
    assert len(stream) < image.size / 5            # NBIS's 0.75 bits per pixel
    back = wsq.decode(stream)
    assert back.shape == image.shape
    assert np.abs(back.astype(int) - image).mean() < 12
    assert np.corrcoef(back.ravel(), image.ravel())[0, 1] > 0.9


def test_known_crashing_corruptions_become_errors():
    # Seeded damage of the kinds that, fed to NBIS in-process, aborted Python (heap corruption).
    stream = wsq.encode(_ridges())
    rng = random.Random(3)
    refused = 0
    for _ in range(60):
        damaged = bytearray(stream)
        for _ in range(rng.randrange(1, 10)):
            damaged[rng.randrange(2, len(damaged))] = rng.randrange(256)
        try:
            image = wsq.decode(bytes(damaged))
        except FingerprintError as exc:
            assert "WSQ" in str(exc)
            refused += 1
        else:
            assert image.dtype == np.uint8 and image.ndim == 2
    assert refused > 0


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_after_the_marker_decode_or_raise(tail):
    try:
        wsq.decode(wsq.MAGIC + tail)
    except FingerprintError:
        pass


def test_not_wsq_and_too_small_are_refused():
    with pytest.raises(FingerprintError, match="not a WSQ stream"):
        wsq.decode(b"\x89PNG....")
    with pytest.raises(FingerprintError, match="too small"):
        wsq.encode(np.zeros((16, 16), np.uint8))
