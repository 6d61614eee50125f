"""Hostile records: the ISO/IEC 19794-2 and ANSI/NIST-ITL parsers parse or raise FingerprintError, nothing else."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.fingerprint import ansi_nist, iso19794_2
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import BIFURCATION, ENDING, Minutia, Template

_ISO = iso19794_2.encode(Template(300, 400, (Minutia(10, 20, 0.5, ENDING, 60), Minutia(5, 9, 3.0, BIFURCATION, 9)),
                                  2, 55))
_IMAGE = (np.arange(96 * 80) % 251).astype(np.uint8).reshape(96, 80)
_TYPE14 = ansi_nist.encode([ansi_nist.FingerImage(2, _IMAGE, "NONE", 60)], 14)
_TYPE4 = ansi_nist.encode([ansi_nist.FingerImage(2, _IMAGE, "NONE")], 4)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    damaged = bytearray(data)
    for position, value in edits:
        damaged[position % len(damaged)] = value
    return bytes(damaged[:cut] if cut is not None else damaged)


_EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6)
_CUTS = st.none() | st.integers(0, 400)


@settings(max_examples=300, deadline=None)
@given(_EDITS, _CUTS)
def test_iso_parser_on_damaged_records(edits, cut):
    try:
        for view in iso19794_2.decode(_mutate(_ISO, edits, cut)):
            assert all(m.x < view.width and m.y < view.height for m in view.minutiae)
    except FingerprintError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_iso_parser_on_random_bytes(data):
    try:
        iso19794_2.decode(b"FMR\x00 20\x00" + data)
    except FingerprintError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([_TYPE14, _TYPE4]), _EDITS, st.none() | st.integers(0, 8000))
def test_ansi_nist_parser_on_damaged_transactions(data, edits, cut):
    try:
        for finger in ansi_nist.decode(_mutate(data, edits, cut)):
            assert finger.image.dtype == np.uint8
    except FingerprintError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_ansi_nist_parser_on_random_bytes(data):
    try:
        ansi_nist.decode(b"1.001:" + data)
    except FingerprintError:
        pass
