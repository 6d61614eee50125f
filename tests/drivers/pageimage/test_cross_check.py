"""The visual zone against the MRZ: mismatches returned, what OCR could not read skipped."""
from datetime import date

from drivers.mrz import parse
from drivers.pageimage import Mismatch, VisualZone, cross_check
from drivers.pageimage.visual_zone import _date

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
