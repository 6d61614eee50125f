"""ISO/IEC 19794-4 finger image records and DG3 framing: round trips, named errors, fuzzing."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.emrtd.lds import LdsError, dg3
from drivers.fingerprint import iso19794_2, iso19794_4
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import Minutia, Template


def ridges(seed: int = 0) -> np.ndarray:
    y, x = np.mgrid[0:300, 0:240]
    angle = 0.3 + seed * 0.1
    return (128 + 100 * np.sin((x * np.cos(angle) + y * np.sin(angle)) / 1.6)).astype(np.uint8)


@pytest.mark.parametrize("compression", [iso19794_4.UNCOMPRESSED, iso19794_4.PNG, iso19794_4.WSQ])
def test_records_round_trip(compression):
    views = [iso19794_4.FingerView(2, ridges(0), 80), iso19794_4.FingerView(7, ridges(1), 254)]
    record = iso19794_4.encode(views, compression)
    assert record[:8] == b"FIR\x00010\x00" and int.from_bytes(record[8:14], "big") == len(record)
    decoded = iso19794_4.decode(record)
    assert [(v.position, v.quality) for v in decoded] == [(2, 80), (7, 254)]
    for before, after in zip(views, decoded):
        assert after.image.shape == before.image.shape
        if compression != iso19794_4.WSQ:
            assert np.array_equal(after.image, before.image)
        else:  # lossy: close, not equal
            assert np.abs(after.image.astype(int) - before.image.astype(int)).mean() < 12


@pytest.mark.parametrize("change, message", [
    (lambda r: b"FMR\x00" + r[4:], "not 'FIR"),
    (lambda r: r[:4] + b"020\x00" + r[8:], "version"),
    (lambda r: r[:-1], "claims"),
    (lambda r: r[:29] + bytes([3]) + r[30:], "JPEG finger images are not supported"),
    (lambda r: r[:24] + (250).to_bytes(2, "big") + r[26:], "not 500 ppi"),
    (lambda r: r[:36] + bytes([11]) + r[37:], "position 11"),
])
def test_malformed_records_are_named(change, message):
    record = iso19794_4.encode([iso19794_4.FingerView(1, ridges())], iso19794_4.UNCOMPRESSED)
    with pytest.raises(FingerprintError, match=message):
        iso19794_4.decode(change(record))


def test_dg3_frames_image_and_minutiae_records_with_their_finger():
    image = iso19794_4.encode([iso19794_4.FingerView(6, ridges())], iso19794_4.PNG)
    template = Template(240, 300, tuple(Minutia(20 + 9 * i, 30 + 7 * i, 0.2 * i) for i in range(12)), 1)
    records = [dg3.FingerRecord(dg3.FORMAT_TYPE_FINGER_IMAGE, 6, image),
               dg3.FingerRecord(dg3.FORMAT_TYPE_FINGER_MINUTIAE, 1, iso19794_2.encode(template))]
    parsed = dg3.parse(dg3.encode(records))
    assert parsed == records
    assert dg3.SUBTYPES[1] == 0x05 and dg3.SUBTYPES[10] == 0x16  # right thumb, left little (ISO/IEC 7816-11)


def test_dg3_refuses_a_header_that_contradicts_its_record():
    image = iso19794_4.encode([iso19794_4.FingerView(6, ridges())], iso19794_4.PNG)
    data = dg3.encode([dg3.FingerRecord(dg3.FORMAT_TYPE_FINGER_MINUTIAE, 6, image)])
    with pytest.raises(LdsError, match="does not match"):
        dg3.parse(data)


VALID_RECORD = iso19794_4.encode([iso19794_4.FingerView(3, ridges())], iso19794_4.UNCOMPRESSED)
VALID_DG3 = dg3.encode([dg3.FingerRecord(dg3.FORMAT_TYPE_FINGER_IMAGE, 3, VALID_RECORD)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.builds(lambda n, m: VALID_RECORD[:n] + bytes([m]) + VALID_RECORD[n + 1:],
                                          st.integers(0, 60), st.integers(0, 255)))
def test_fuzzed_finger_image_records_decode_or_raise_fingerprint_error(data):
    try:
        iso19794_4.decode(data)
    except FingerprintError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(VALID_DG3) - 1), st.integers(1, 255), st.integers(0, len(VALID_DG3)))
def test_fuzzed_dg3_parses_or_raises_lds_error(index, mask, cut):
    data = bytearray(VALID_DG3)
    data[index] ^= mask
    try:
        dg3.parse(bytes(data[:cut]))
    except LdsError:
        pass
