"""The visual zone against the MRZ: mismatches returned, what OCR could not read skipped; the labels found
as the recogniser reads them; the ICAO specimen's page, rendered, read and cross-checked (slow: OCR)."""
from datetime import date

import pytest

from drivers.mrz import parse
from drivers.pageimage import Mismatch, VisualZone, cross_check, decode_image, read_visual_zone
from drivers.pageimage.engine import DetectedText
from drivers.pageimage.visual_zone import _LABELS, _below_label, _date
from hardware_sim.datapage import Damage, PrintedPage, damage_page, encode_jpeg, render_page
from tests.drivers.pageimage.test_read_mrz import ICAO_SPECIMEN_MRZ, SPECIMEN

MRZ = parse("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
            today=date(2026, 1, 1))


def test_a_matching_visual_zone_has_no_mismatch():
    visual = VisualZone(surname="ERIKSSON", given_names="ANNA MARIA", document_number="L898902C3",
                        birth_date=date(1974, 8, 12), expiry_date=date(2012, 4, 15))
    assert cross_check(visual, MRZ) == []


def test_fields_ocr_could_not_read_are_not_mismatches():
    assert cross_check(VisualZone(), MRZ) == []
    assert cross_check(VisualZone(surname="ERIKSSON"), MRZ) == []


def test_each_differing_field_is_returned():
    visual = VisualZone(surname="ERICSON", given_names="ANNA MARIA", document_number="L898902C8",
                        birth_date=date(1974, 8, 21), expiry_date=date(2012, 4, 15))
    assert cross_check(visual, MRZ) == [
        Mismatch("surname", "ERICSON", "ERIKSSON"),
        Mismatch("document_number", "L898902C8", "L898902C3"),
        Mismatch("birth_date", "1974-08-21", "1974-08-12"),
    ]


def test_a_space_the_recogniser_dropped_between_names_is_no_mismatch():
    assert cross_check(VisualZone(given_names="ANNAMARIA"), MRZ) == []
    assert cross_check(VisualZone(given_names="ANNAMARTA"), MRZ) == [Mismatch("given_names", "ANNAMARTA",
                                                                              "ANNA MARIA")]


def test_printed_names_are_compared_in_the_mrz_alphabet_and_truncation_is_allowed():
    mueller = parse("P<D<<MUELLER<<JUERGEN<<<<<<<<<<<<<<<<<<<<<<<\nC01X00T478D<<6408125M3110315<<<<<<<<<<<<<<<2",
                    today=date(2026, 1, 1))
    assert cross_check(VisualZone(surname="MÜLLER", given_names="JÜRGEN"), mueller) == []
    long = parse("P<UTOSCHWARZENEGGER<VON<UND<ZU<HOHENSTEIN<<A\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
                 today=date(2026, 1, 1))
    assert long.given_names == "A"
    assert cross_check(VisualZone(given_names="ARNOLD"), long) == []


def test_viz_dates_are_read_in_the_printed_form():
    assert _date("12 AUG 1974") == date(1974, 8, 12)
    assert _date("12 AUG/AOÛT 1974") == date(1974, 8, 12)
    assert _date("31 FEB 1974") is None and _date("12 XYZ 1974") is None and _date(None) is None


def _box(text: str, left: float, top: float, right: float, bottom: float) -> DetectedText:
    return DetectedText(text, 0.95, ((left, top), (right, top), (right, bottom), (left, bottom)))


def test_labels_are_found_as_the_recogniser_reads_them():
    """Labels as PP-OCRv4 read them on the simulator's pages (hardware_sim.datapage): small spaces
    dropped, "rn" read "m", no slash before the French, one letter wrong on a damaged page; a value's
    box starts a pixel above its label's bottom. "Place of birth" and an authority named PASSPORT
    OFFICE are not labels of the fields checked."""
    boxes = [
        _box("PassportNo.N'du passeport", 710, 97, 922, 121), _box("D2000004", 710, 118, 842, 145),
        _box("Sumame/Nom", 358, 153, 465, 175), _box("OKAFOR", 360, 175, 467, 199),
        _box("Given namey/Pre", 358, 210, 478, 229), _box("CHIDI", 359, 231, 433, 256),
        _box("Place of birth/Lieu de naissance", 359, 270, 560, 290), _box("12JAN1999", 359, 291, 512, 314),
        _box("Date ofbith/Oat", 359, 321, 478, 341), _box("09JUN1982", 359, 340, 512, 367),
        _box("PASSPORTOFFICE", 710, 400, 937, 420), _box("X9999999", 710, 421, 842, 445),
        _box("Date otexpiry/Date dexpiration", 357, 489, 584, 510), _box("01MAY2030", 357, 508, 523, 537),
    ]
    assert [_below_label(boxes, labels) for labels in _LABELS.values()] == [
        "OKAFOR", "CHIDI", "D2000004", "09JUN1982", "01MAY2030"]
    assert _below_label([_box("PASSPORTOFFICE", 710, 400, 937, 420), _box("X9999999", 710, 421, 842, 445)],
                        _LABELS["document_number"]) is None
    assert _below_label([_box("Place of birth/Lieu", 359, 270, 560, 290), _box("12JAN1999", 359, 291, 512, 314)],
                        _LABELS["birth_date"]) is None


@pytest.fixture(scope="module")
def specimen_pages():
    """The ICAO specimen's data page (tests/drivers/pageimage/test_read_mrz.py) rendered by the simulator,
    lightly damaged, as printed and with its visual zone altered (another surname and number)."""
    damage = Damage(rotation_degrees=1.0, blur_sigma=0.6, texture=0.5, noise_sigma=3.0)
    altered = PrintedPage(**{**SPECIMEN.__dict__, "surname": "ERIKSEN", "document_number": "L898902C4"})
    return [decode_image(encode_jpeg(damage_page(render_page(page), damage), 88)) for page in (SPECIMEN, altered)]


@pytest.mark.slow
def test_a_rendered_visual_zone_is_read_and_agrees_with_its_mrz(specimen_pages):
    visual = read_visual_zone(specimen_pages[0])
    # The recogniser drops the small space between the given names ("ANNAMARIA"): not a mismatch.
    assert (visual.surname, visual.given_names.replace(" ", ""), visual.document_number, visual.birth_date,
            visual.expiry_date) == ("ERIKSSON", "ANNAMARIA", "L898902C3", date(1974, 8, 12), date(2012, 4, 15)), \
        visual.texts
    assert cross_check(visual, parse(ICAO_SPECIMEN_MRZ, today=date(2026, 1, 1))) == []


@pytest.mark.slow
def test_an_altered_visual_zone_is_caught_against_the_mrz(specimen_pages):
    visual = read_visual_zone(specimen_pages[1])
    assert cross_check(visual, parse(ICAO_SPECIMEN_MRZ, today=date(2026, 1, 1))) == [
        Mismatch("surname", "ERIKSEN", "ERIKSSON"), Mismatch("document_number", "L898902C4", "L898902C3")]
