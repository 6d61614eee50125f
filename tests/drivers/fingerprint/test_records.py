"""ISO/IEC 19794-2 minutiae records and ANSI/NIST-ITL Type-4/Type-14 transactions: round trips and checks."""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from drivers.fingerprint import ansi_nist, iso19794_2
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.template import BIFURCATION, ENDING, Minutia, Template


def _template(position: int = 2) -> Template:
    minutiae = (Minutia(10, 20, 0.5, ENDING, 60), Minutia(250, 390, 5.9, BIFURCATION, 80),
                Minutia(0, 0, 0.0, ENDING, 0))
    return Template(300, 400, minutiae, position, 55)


def _ridges(height: int = 160, width: int = 128) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return (128 + 90 * np.sin(x / 3.0 + y / 5.0)).astype(np.uint8)


def test_iso_record_layout_follows_the_2005_standard():
    record = iso19794_2.encode(_template())
    assert record[:8] == b"FMR\x00 20\x00"
    assert int.from_bytes(record[8:12], "big") == len(record) == 24 + 4 + 3 * 6 + 2
    assert int.from_bytes(record[14:16], "big") == 300 and int.from_bytes(record[16:18], "big") == 400
    assert record[22] == 1                       # one finger view
    assert record[24:28] == bytes([2, 0, 55, 3])  # position, view/impression, quality, count
    # first minutia: type 01 (ending) in the top two bits of x, y, angle in 360/256 degree units
    assert record[28:34] == bytes([0x40, 10, 0, 20, round(0.5 / (2 * math.pi / 256)), 60])


def test_iso_round_trip_keeps_minutiae_within_angle_rounding():
    (back,) = iso19794_2.decode(iso19794_2.encode(_template()))
    original = _template()
    assert (back.width, back.height, back.position, back.quality) == (300, 400, 2, 55)
    for a, b in zip(back.minutiae, original.minutiae, strict=True):
        assert (a.x, a.y, a.kind, a.quality) == (b.x, b.y, b.kind, b.quality)
        assert abs(math.remainder(a.angle - b.angle, 2 * math.pi)) <= math.pi / 256


def test_iso_record_with_several_views():
    views = iso19794_2.decode(iso19794_2.encode([_template(1), _template(6)]))
    assert [v.position for v in views] == [1, 6]


@pytest.mark.parametrize("damage, reason", [
    (lambda r: r[:20], "truncated"),
    (lambda r: b"XMR\x00" + r[4:], "format identifier"),
    (lambda r: r[:4] + b"030\x00" + r[8:], "version"),
    (lambda r: r + b"\x00", "length field"),
    (lambda r: r[:28] + bytes([0x40, 10, 0xff, 0xff]) + r[32:], "outside"),
    (lambda r: r[:28] + bytes([0xC0]) + r[29:], "reserved type"),
    (lambda r: r[:24] + bytes([11]) + r[25:], "finger position"),
])
def test_malformed_iso_records_are_refused_with_the_reason(damage, reason):
    with pytest.raises(FingerprintError, match=reason):
        iso19794_2.decode(damage(iso19794_2.encode(_template())))


def test_minutiae_that_do_not_fit_are_refused_when_encoding():
    with pytest.raises(FingerprintError, match="14-bit"):
        iso19794_2.encode(Template(300, 400, (Minutia(1 << 14, 0, 0.0),)))


@pytest.mark.parametrize("record_type", [4, 14])
@pytest.mark.parametrize("compression", ["NONE", "WSQ"])
def test_ansi_nist_round_trip(record_type, compression):
    image = _ridges()
    fingers = [ansi_nist.FingerImage(2, image, compression, 70), ansi_nist.FingerImage(7, image[:, ::-1], compression)]
    data = ansi_nist.encode(fingers, record_type, when=date(2026, 12, 6))
    assert data.startswith(b"1.001:") and b"1.002:0500" in data
    back = ansi_nist.decode(data)
    assert [f.position for f in back] == [2, 7]
    assert [f.compression for f in back] == [compression, compression]
    if record_type == 14:
        assert back[0].quality == 70       # Type-4 has no quality field
    tolerance = 0 if compression == "NONE" else 12
    assert np.abs(back[0].image.astype(int) - image).mean() <= tolerance
    assert back[1].image.shape == image.shape


def test_ansi_nist_type14_fields_say_what_the_image_is():
    data = ansi_nist.encode([ansi_nist.FingerImage(3, _ridges(), "WSQ")], 14)
    for field in (b"14.006:128", b"14.007:160", b"14.011:WSQ20", b"14.013:3", b"14.999:\xff\xa0"):
        assert field in data


@pytest.mark.parametrize("damage, reason", [
    (lambda d: d[:100], "does not fit"),
    (lambda d: b"2" + d[1:], "does not start"),
    (lambda d: d + b"junk", "after the last record"),
    (lambda d: d.replace(b"1\x1f1\x1e14", b"1\x1f2\x1e14"), "announces 2"),
    (lambda d: d.replace(b"14.011:NONE", b"14.011:JPEG"), "compression"),
    (lambda d: d.replace(b"14.006:128", b"14.006:999"), "image bytes"),
])
def test_malformed_transactions_are_refused_with_the_reason(damage, reason):
    data = ansi_nist.encode([ansi_nist.FingerImage(3, _ridges(), "NONE")], 14)
    with pytest.raises(FingerprintError, match=reason):
        ansi_nist.decode(damage(data))


def test_type4_with_an_unknown_compression_code_is_refused():
    data = bytearray(ansi_nist.encode([ansi_nist.FingerImage(3, _ridges(), "NONE")], 4))
    type4 = bytes(data).index(b"\x1c") + 1
    data[type4 + 17] = 9
    with pytest.raises(FingerprintError, match="compression code 9"):
        ansi_nist.decode(bytes(data))
