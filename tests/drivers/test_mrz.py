"""The ICAO Doc 9303 specimens, field by field, and one test per kind of fault."""
from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from drivers.mrz import (
    Mrz,
    MrzError,
    Problem,
    check_digit,
    generate_mrva,
    generate_mrvb,
    generate_td1,
    generate_td2,
    generate_td3,
    parse,
)

TODAY = date(2026, 1, 1)

TD3_SPECIMEN = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD2_SPECIMEN = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
                "D231458907UTO7408122F1204159<<<<<<<6")
TD1_SPECIMEN = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
                "7408122F1204159UTO<<<<<<<<<<<6\n"
                "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD1_LONG_NUMBER = ("I<UTOD23145890<7349<<<<<<<<<<<\n"
                   "3407127M9507122UTO<<<<<<<<<<<2\n"
                   "STEVENSON<<PETER<JOHN<<<<<<<<<")
MRVB_SPECIMEN = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
                 "L8988901C4XXX4009078F9612109<<<<<<<<")

ANNA = dict(issuing_state="UTO", surname="Eriksson", given_names="Anna Maria",
            nationality="UTO", birth_date=date(1974, 8, 12), sex="F", expiry_date=date(2012, 4, 15))


def problems(text: str) -> list[Problem]:
    with pytest.raises(MrzError) as caught:
        parse(text, today=TODAY)
    return caught.value.problems


def fields(text: str) -> set[str]:
    return {problem.field for problem in problems(text)}


def replace(text: str, line: int, position: int, char: str) -> str:
    lines = text.split("\n")
    lines[line] = lines[line][:position] + char + lines[line][position + 1:]
    return "\n".join(lines)


@pytest.mark.parametrize("field, digit", [
    ("L898902C3", "6"), ("740812", "2"), ("120415", "9"), ("ZE184226B<<<<<", "1"),
    ("D23145890734", "9"), ("L8988901C", "4"), ("400907", "8"), ("961210", "9"),
    ("<<<<<<", "0"),
])
def test_check_digits_of_the_specimens(field, digit):
    assert check_digit(field) == digit


def test_td3_specimen():
    mrz = parse(TD3_SPECIMEN, today=TODAY)
    assert mrz == Mrz(
        format="TD3", document_type="P", issuing_state="UTO", surname="ERIKSSON",
        given_names="ANNA MARIA", document_number="L898902C3", document_number_check="6",
        nationality="UTO", birth_date=date(1974, 8, 12), sex="F", expiry_date=date(2012, 4, 15),
        optional_data="ZE184226B", optional_data_2="", lines=tuple(TD3_SPECIMEN.split("\n")),
        birth_date_field="740812", expiry_date_field="120415")
    assert generate_td3(document_number="L898902C3", optional_data="ZE184226B", **ANNA) == TD3_SPECIMEN


def test_td2_specimen():
    mrz = parse(TD2_SPECIMEN, today=TODAY)
    assert (mrz.format, mrz.document_type, mrz.document_number, mrz.optional_data) == ("TD2", "I", "D23145890", "")
    assert (mrz.surname, mrz.given_names, mrz.sex) == ("ERIKSSON", "ANNA MARIA", "F")
    assert generate_td2(document_number="D23145890", **ANNA) == TD2_SPECIMEN


def test_td1_specimen():
    mrz = parse(TD1_SPECIMEN, today=TODAY)
    assert (mrz.format, mrz.document_number, mrz.nationality) == ("TD1", "D23145890", "UTO")
    assert (mrz.birth_date, mrz.expiry_date) == (date(1974, 8, 12), date(2012, 4, 15))
    assert (mrz.optional_data, mrz.optional_data_2) == ("", "")
    assert generate_td1(document_number="D23145890", **ANNA) == TD1_SPECIMEN


def test_td1_document_number_longer_than_nine_characters():
    mrz = parse(TD1_LONG_NUMBER, today=TODAY)
    assert mrz.document_number == "D23145890734"
    assert mrz.document_number_check == "9"
    assert mrz.optional_data == ""
    assert (mrz.surname, mrz.given_names, mrz.sex) == ("STEVENSON", "PETER JOHN", "M")
    assert mrz.bac_key_seed_input == "D23145890734934071279507122"
    assert generate_td1(issuing_state="UTO", surname="Stevenson", given_names="Peter John",
                        document_number="D23145890734", nationality="UTO", birth_date=date(1934, 7, 12),
                        sex="M", expiry_date=date(1995, 7, 12)) == TD1_LONG_NUMBER


def test_long_document_number_followed_by_optional_data():
    text = generate_td2(document_number="AB1234567890", optional_data="X1", **ANNA)
    assert text.split("\n")[1][:10] == "AB1234567<"
    assert text.split("\n")[1][28:35] == "890" + check_digit("AB1234567890") + "<X1"
    mrz = parse(text, today=TODAY)
    assert (mrz.document_number, mrz.optional_data) == ("AB1234567890", "X1")


def test_visa_specimens():
    mrvb = parse(MRVB_SPECIMEN, today=TODAY)
    assert (mrvb.format, mrvb.document_type, mrvb.nationality) == ("MRVB", "V", "XXX")
    assert (mrvb.birth_date, mrvb.expiry_date) == (date(1940, 9, 7), date(1996, 12, 10))
    visa = dict(ANNA, document_number="L8988901C", nationality="XXX",
                birth_date=date(1940, 9, 7), expiry_date=date(1996, 12, 10))
    assert generate_mrvb(**visa) == MRVB_SPECIMEN
    assert generate_td2(document_type="V", **visa) == MRVB_SPECIMEN
    mrva_text = generate_mrva(optional_data="ZE184226B", **visa)
    assert mrva_text.split("\n")[1] == "L8988901C4XXX4009078F9612109ZE184226B<<<<<<<"
    assert generate_td3(document_type="V", optional_data="ZE184226B", **visa) == mrva_text
    mrva = parse(mrva_text, today=TODAY)
    assert (mrva.format, mrva.optional_data) == ("MRVA", "ZE184226B")


def test_bac_key_seed_of_doc_9303_part_11_worked_example():
    text = generate_td3(issuing_state="UTO", surname="Eriksson", given_names="Anna Maria",
                        document_number="L898902C", nationality="UTO", birth_date=date(1969, 8, 6),
                        sex="F", expiry_date=date(1994, 6, 23))
    assert parse(text, today=TODAY).bac_key_seed_input == "L898902C<369080619406236"


def test_input_whitespace_and_crlf_are_tolerated():
    messy = "\r\n  " + TD3_SPECIMEN.replace("\n", " \r\n\r\n ") + " \r\n"
    assert parse(messy, today=TODAY) == parse(TD3_SPECIMEN, today=TODAY)


def test_two_digit_years():
    assert parse(TD3_SPECIMEN, today=date(2074, 8, 11)).birth_date == date(1974, 8, 12)
    assert parse(TD3_SPECIMEN, today=date(2074, 8, 12)).birth_date == date(2074, 8, 12)
    # An expiry more than 50 years ahead belongs to the last century.
    assert parse(TD3_SPECIMEN, today=date(1961, 1, 1)).expiry_date == date(1912, 4, 15)
    assert parse(TD3_SPECIMEN, today=date(1962, 6, 1)).expiry_date == date(2012, 4, 15)


def test_unknown_birth_date_parts_read_as_none():
    text = generate_td3(**dict(ANNA, birth_date=None), document_number="L898902C3")
    assert text.split("\n")[1][13:20] == "<<<<<<0"
    mrz = parse(text, today=TODAY)
    assert mrz.birth_date is None and mrz.birth_date_field == "<<<<<<"
    partial = replace(replace(replace(TD3_SPECIMEN, 1, 15, "<"), 1, 16, "<"), 1, 17, "<")
    partial = replace(replace(partial, 1, 18, "<"), 1, 19, check_digit("74<<<<"))
    assert fields(partial) == {"composite"}  # the date itself is acceptable


def test_expiry_and_sex():
    mrz = parse(TD3_SPECIMEN, today=TODAY)
    assert mrz.is_expired(date(2012, 4, 16))
    assert not mrz.is_expired(date(2012, 4, 15))
    unspecified = parse(generate_td3(**dict(ANNA, sex="X"), document_number="L898902C3"), today=TODAY)
    assert unspecified.sex == "X" and unspecified.lines[1][20] == "<"


def test_mrz_is_frozen_and_prints_its_lines():
    mrz = parse(TD3_SPECIMEN, today=TODAY)
    with pytest.raises(FrozenInstanceError):
        mrz.surname = "X"  # type: ignore[misc]
    assert str(mrz) == TD3_SPECIMEN


# --- one test per kind of fault --------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    ("", "got 0 line"),
    (TD3_SPECIMEN.split("\n")[0], "got 1 line"),
    (TD3_SPECIMEN[:-1], "of 43, 44 characters"),
    (TD1_SPECIMEN + "\n" + "<" * 30, "got 4 line"),
])
def test_wrong_shape_is_a_structure_problem(text, reason):
    found = problems(text)
    assert [p.field for p in found] == ["structure"]
    assert reason in found[0].reason


def test_bad_characters_are_listed_per_line():
    found = problems(replace(replace(TD3_SPECIMEN, 0, 6, "r"), 1, 3, " "))
    assert [p.field for p in found] == ["structure", "structure"]
    assert "line 1" in found[0].reason and "'r' at 7" in found[0].reason
    assert "' ' at 4" in found[1].reason


def test_non_text_is_a_structure_problem():
    assert fields(b"P<UTO") == {"structure"}  # type: ignore[arg-type]


def test_document_number_check_digit():
    found = problems(replace(TD3_SPECIMEN, 1, 9, "5"))
    assert Problem("document_number", "check digit is 5, computed 6") in found
    assert {p.field for p in found} == {"document_number", "composite"}


def test_check_digit_that_is_not_a_digit():
    assert Problem("document_number", "check digit 'A' is not a digit (computed 6)") in problems(
        replace(TD3_SPECIMEN, 1, 9, "A"))


def test_birth_and_expiry_date_check_digits():
    assert "birth_date" in fields(replace(TD3_SPECIMEN, 1, 19, "3"))
    assert "expiry_date" in fields(replace(TD3_SPECIMEN, 1, 27, "3"))


def test_impossible_dates():
    text = replace(replace(TD3_SPECIMEN, 1, 17, "3"), 1, 18, "2")  # 741332
    reasons = [p.reason for p in problems(text) if p.field == "birth_date"]
    assert any("not a calendar date" in reason for reason in reasons)
    assert any("computed" in reason for reason in reasons)
    day_without_month = "74<<12"
    text = TD3_SPECIMEN.replace("7408122", day_without_month + check_digit(day_without_month))
    assert any("known part after an unknown" in p.reason for p in problems(text) if p.field == "birth_date")


def test_personal_number_and_composite_check_digits():
    assert fields(replace(TD3_SPECIMEN, 1, 42, "2")) == {"optional_data", "composite"}
    assert fields(replace(TD3_SPECIMEN, 1, 43, "1")) == {"composite"}
    assert fields(replace(TD1_SPECIMEN, 1, 29, "7")) == {"composite"}
    assert fields(replace(TD2_SPECIMEN, 1, 35, "7")) == {"composite"}


def test_td1_optional_data_is_covered_by_the_composite():
    # (not 'A': its value 10 never changes a weighted sum modulo 10)
    assert fields(replace(TD1_SPECIMEN, 1, 20, "B")) == {"composite"}
    assert fields(replace(TD1_SPECIMEN, 0, 20, "B")) == {"composite"}


def test_unknown_state_codes():
    assert fields(replace(TD3_SPECIMEN, 0, 2, "Q")) == {"issuing_state"}
    assert "nationality" in fields(replace(TD3_SPECIMEN, 1, 12, "Q"))


def test_germany_is_d_with_fillers():
    text = generate_td3(**dict(ANNA, issuing_state="D", nationality="D"), document_number="C01X00T47")
    assert text.startswith("P<D<<ERIKSSON")
    mrz = parse(text, today=TODAY)
    assert (mrz.issuing_state, mrz.nationality) == ("D", "D")


@pytest.mark.parametrize("text, position, char", [
    (TD3_SPECIMEN, 0, "I"),   # a card code in a passport
    (TD1_SPECIMEN, 0, "P"),   # a passport code in a card
    (TD1_SPECIMEN, 1, "V"),   # IV is reserved
    (TD3_SPECIMEN, 1, "1"),
])
def test_wrong_document_codes(text, position, char):
    assert fields(replace(text, 0, position, char)) == {"document_type"}


def test_sex_must_be_m_f_or_filler():
    assert "sex" in fields(replace(TD3_SPECIMEN, 1, 20, "Q"))


def test_name_faults():
    no_surname = TD3_SPECIMEN.replace("P<UTOERIKSSON<<", "P<UTO<<<<<<<<<<", 1)
    assert "name" in fields(no_surname)
    with_digit = TD3_SPECIMEN.replace("ANNA", "ANN4", 1)
    assert any("contains digits" in p.reason for p in problems(with_digit) if p.field == "name")


def test_long_number_marker_without_a_continuation():
    text = replace(TD1_SPECIMEN, 0, 14, "<")
    found = problems(text)
    assert any(p.field == "document_number" and "does not continue" in p.reason for p in found)


def test_all_problems_are_reported_together_and_summarised():
    text = replace(replace(replace(TD3_SPECIMEN, 1, 9, "0"), 1, 20, "Q"), 0, 3, "Q")
    with pytest.raises(MrzError) as caught:
        parse(text, today=TODAY)
    assert caught.value.fields == {"issuing_state", "document_number", "sex", "composite"}
    assert "document_number: check digit is 0, computed 6" in str(caught.value)


# --- generation faults ---------------------------------------------------------------

def generation_fields(generate, **overrides) -> set[str]:
    with pytest.raises(MrzError) as caught:
        generate(**{**ANNA, "document_number": "L898902C3", **overrides})
    return caught.value.fields


@pytest.mark.parametrize("generate, overrides, field", [
    (generate_td3, {"document_number": "L898902C3X"}, "document_number"),
    (generate_mrvb, {"document_number": "L898902C3X"}, "document_number"),
    (generate_td3, {"document_number": "L8-98"}, "document_number"),
    (generate_td3, {"document_number": ""}, "document_number"),
    (generate_td3, {"issuing_state": "ZZZ"}, "issuing_state"),
    (generate_td1, {"nationality": "UTOPIA"}, "nationality"),
    (generate_td3, {"sex": "Q"}, "sex"),
    (generate_td3, {"document_type": "PPP"}, "document_type"),
    (generate_td1, {"document_type": "P"}, "document_type"),
    (generate_td3, {"surname": ""}, "surname"),
    (generate_td3, {"surname": "Smith 3rd"}, "surname"),
    (generate_td3, {"given_names": "李"}, "given_names"),
    (generate_td3, {"optional_data": "A" * 15}, "optional_data"),
    (generate_td3, {"optional_data": "a-b"}, "optional_data"),
    (generate_td1, {"document_number": "D" * 20, "optional_data": "ABCD"}, "optional_data"),
    (generate_td1, {"optional_data_2": "A" * 12}, "optional_data_2"),
])
def test_generation_rejects_what_cannot_be_written(generate, overrides, field):
    assert field in generation_fields(generate, **overrides)


def test_generation_reports_every_fault():
    assert generation_fields(generate_td3, issuing_state="ZZZ", sex="?", surname="") == {
        "issuing_state", "sex", "surname"}


def test_optional_data_faults_are_reported_beside_a_bad_number():
    assert generation_fields(generate_td3, document_number="L8-98", optional_data="a-b") == {
        "document_number", "optional_data"}
