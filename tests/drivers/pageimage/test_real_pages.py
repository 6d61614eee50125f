"""The MRZ read from photographs and scans of specimen documents Limes did not make
(tests/drivers/fixtures/pages/real/SOURCES.md says where each comes from and what is printed on
it; printed.json holds each printed MRZ). Each image's outcome is asserted as measured: read
exactly, or flagged; never a different MRZ returned as read. The same images made harder as a
hand-held camera would (hardware_sim.datapage.handheld) are asserted as measured too."""
import json
from pathlib import Path

import pytest

from drivers.mrz import MrzError, parse
from drivers.pageimage import decode_image, read_mrz
from hardware_sim.datapage.handheld import HANDHELD

REAL = Path(__file__).parents[1] / "fixtures" / "pages" / "real"
PRINTED = json.loads((REAL / "printed.json").read_text())
# Printed with wrong check digits (SOURCES.md): the only honest outcome is flagged.
INVALID_AS_PRINTED = {"eolie-specimen-td3.png"}

# The outcome measured on 2026-12-06 (`limes bench ocr --real`), per image as it is.
AS_IT_IS = {
    "gbr-specimen-td3.jpg": "exact",
    "isl-specimen-photo-td3.jpg": "exact",
    "utopia-mrz-strip-td3.jpeg": "exact",
    "eolie-specimen-td3.png": "flagged",
}


def outcome(reading, printed: str) -> str:
    if reading.flagged:
        return "flagged"
    return "exact" if reading.text == printed else "silently wrong"


def page(name: str):
    return decode_image((REAL / name).read_bytes())


def test_the_printed_mrzs_are_what_their_check_digits_say():
    for name, printed in PRINTED.items():
        if name in INVALID_AS_PRINTED:
            with pytest.raises(MrzError, match="check digit"):
                parse(printed)
        else:
            assert parse(printed).document_number


def test_every_fixture_has_its_source_and_its_printed_mrz_noted():
    sources = (REAL / "SOURCES.md").read_text()
    images = sorted(path.name for path in REAL.iterdir() if path.suffix in {".png", ".jpg", ".jpeg"})
    assert images == sorted(PRINTED) == sorted(AS_IT_IS)
    for name in images:
        assert f"`{name}`" in sources and PRINTED[name] in sources.replace("\n    ", "\n")


@pytest.mark.parametrize("name", AS_IT_IS)
def test_a_real_page_is_read_as_measured(name):
    reading = read_mrz(page(name))
    assert outcome(reading, PRINTED[name]) == AS_IT_IS[name], (reading.text, reading.problems)
    assert reading.check_digits_valid == (AS_IT_IS[name] == "exact")


# Measured on 2026-12-06 (`limes bench ocr --real`): where a harder image is flagged, it is said
# why in docs/PAGEIMAGE.md; none may ever be silently wrong.
MADE_HARDER = {
    ("gbr-specimen-td3.jpg", "half size"): "flagged",
    ("gbr-specimen-td3.jpg", "third size"): "flagged",
    ("gbr-specimen-td3.jpg", "turned 4 degrees"): "exact",
    ("gbr-specimen-td3.jpg", "turned 8 degrees"): "exact",
    ("gbr-specimen-td3.jpg", "keystone"): "exact",
    ("gbr-specimen-td3.jpg", "shaded"): "exact",
    ("gbr-specimen-td3.jpg", "upside down"): "exact",
    ("isl-specimen-photo-td3.jpg", "half size"): "exact",
    ("isl-specimen-photo-td3.jpg", "third size"): "exact",
    ("isl-specimen-photo-td3.jpg", "turned 4 degrees"): "exact",
    ("isl-specimen-photo-td3.jpg", "turned 8 degrees"): "exact",
    ("isl-specimen-photo-td3.jpg", "keystone"): "flagged",
    ("isl-specimen-photo-td3.jpg", "shaded"): "exact",
    ("isl-specimen-photo-td3.jpg", "upside down"): "exact",
    ("utopia-mrz-strip-td3.jpeg", "half size"): "flagged",
    ("utopia-mrz-strip-td3.jpeg", "third size"): "flagged",
    ("utopia-mrz-strip-td3.jpeg", "turned 4 degrees"): "exact",
    ("utopia-mrz-strip-td3.jpeg", "turned 8 degrees"): "exact",
    ("utopia-mrz-strip-td3.jpeg", "keystone"): "exact",
    ("utopia-mrz-strip-td3.jpeg", "shaded"): "exact",
    ("utopia-mrz-strip-td3.jpeg", "upside down"): "exact",
    ("eolie-specimen-td3.png", "half size"): "flagged",
    ("eolie-specimen-td3.png", "third size"): "flagged",
    ("eolie-specimen-td3.png", "turned 4 degrees"): "flagged",
    ("eolie-specimen-td3.png", "turned 8 degrees"): "flagged",
    ("eolie-specimen-td3.png", "keystone"): "flagged",
    ("eolie-specimen-td3.png", "shaded"): "flagged",
    ("eolie-specimen-td3.png", "upside down"): "flagged",
}


@pytest.mark.parametrize(("name", "made"), MADE_HARDER, ids=[f"{name}, {made}" for name, made in MADE_HARDER])
def test_a_real_page_made_harder_is_read_as_measured(name, made):
    reading = read_mrz(HANDHELD[made](page(name)))
    assert outcome(reading, PRINTED[name]) == MADE_HARDER[name, made], (reading.text, reading.problems)


def test_every_way_of_making_a_page_harder_is_measured_on_every_page():
    assert set(MADE_HARDER) == {(name, made) for name in PRINTED for made in HANDHELD}
