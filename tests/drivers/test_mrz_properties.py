"""Properties: whatever valid data is generated parses back to the same data, and no text
makes the parser fail with anything but MrzError."""
import string
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from drivers.mrz import (
    MrzError,
    generate_mrva,
    generate_mrvb,
    generate_td1,
    generate_td2,
    generate_td3,
    parse,
    transliterate,
)
from drivers.mrz.countries import KNOWN_CODES
from drivers.mrz.names import truncate

TODAY = date(2026, 1, 1)
ALNUM = string.ascii_uppercase + string.digits

# (generator, name field width, optional data width, longest number, document codes)
FORMATS = {
    "TD1": (generate_td1, 30, 15, 23, ["I", "ID", "A", "AC", "C", "CR"]),
    "TD2": (generate_td2, 31, 7, 15, ["I", "IR", "A", "C"]),
    "TD3": (generate_td3, 39, 14, 9, ["P", "PO", "PD"]),
    "MRVA": (generate_mrva, 39, 16, 9, ["V", "VA"]),
    "MRVB": (generate_mrvb, 31, 8, 9, ["V", "VC"]),
}

states = st.sampled_from(sorted(KNOWN_CODES))
name_chars = st.sampled_from(list(string.ascii_letters + "ÄÖÜäöüßÅåØøÆæÉéÑñŁł -'"))
names = st.text(name_chars, max_size=30)
birth_dates = st.dates(TODAY - timedelta(days=365 * 99), TODAY)
expiry_dates = st.dates(TODAY - timedelta(days=365 * 49), TODAY + timedelta(days=365 * 49))


def optional_text(max_size: int):
    # Trailing fillers are indistinguishable from padding, so the data ends in a letter or digit.
    inner = st.text(st.sampled_from(ALNUM + "<"), max_size=max(0, max_size - 2))
    return st.one_of(st.just(""), st.builds(lambda a, b, c: a + b + c, st.sampled_from(ALNUM),
                                            inner, st.sampled_from(ALNUM)).filter(lambda s: len(s) <= max_size),
                     st.sampled_from(ALNUM))


@st.composite
def holders(draw):
    format_name = draw(st.sampled_from(sorted(FORMATS)))
    generate, name_width, optional_width, longest, codes = FORMATS[format_name]
    surname = draw(names.filter(lambda s: transliterate(s) != ""))
    number = draw(st.text(st.sampled_from(ALNUM), min_size=1, max_size=longest))
    room = optional_width
    if len(number) > 9:
        room -= len(number) - 9 + 2  # number tail, its check digit, the ending filler
    fields = dict(
        document_type=draw(st.sampled_from(codes)), issuing_state=draw(states),
        surname=surname, given_names=draw(names), document_number=number,
        nationality=draw(states), birth_date=draw(st.one_of(st.none(), birth_dates)),
        sex=draw(st.sampled_from("MFX")), expiry_date=draw(st.one_of(st.none(), expiry_dates)),
        optional_data=draw(optional_text(max(room, 0))) if room > 0 else "",
    )
    if format_name == "TD1":
        fields["optional_data_2"] = draw(optional_text(11))
    return format_name, generate, name_width, fields


@given(holders())
def test_generate_then_parse_round_trips(holder):
    format_name, generate, name_width, fields = holder
    mrz = parse(generate(**fields), today=TODAY)
    assert mrz.format == format_name
    assert mrz.document_type == fields["document_type"]
    assert (mrz.issuing_state, mrz.nationality) == (fields["issuing_state"], fields["nationality"])
    assert mrz.document_number == fields["document_number"]
    assert (mrz.birth_date, mrz.expiry_date, mrz.sex) == (
        fields["birth_date"], fields["expiry_date"], fields["sex"])
    assert mrz.optional_data == fields["optional_data"]
    assert mrz.optional_data_2 == fields.get("optional_data_2", "")
    primary, secondary = transliterate(fields["surname"]), transliterate(fields["given_names"])
    full = primary + ("<<" + secondary if secondary else "")
    expected = truncate(full, name_width)
    printed = (mrz.surname.replace(" ", "<") + ("<<" + mrz.given_names.replace(" ", "<")
                                                if mrz.given_names else ""))
    assert printed == expected
    if len(full) <= name_width:
        assert mrz.surname == primary.replace("<", " ")
    assert len(mrz.bac_key_seed_input) == max(9, len(fields["document_number"])) + 15


@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_mrz_error(text):
    try:
        parse(text, today=TODAY)
    except MrzError as exc:
        assert exc.problems


SPECIMENS = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
    "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<",
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6",
]


@given(st.sampled_from(SPECIMENS),
       st.lists(st.tuples(st.integers(0, 120), st.sampled_from(ALNUM + "<")), min_size=1, max_size=6))
def test_corrupted_specimens_parse_or_raise_mrz_error(specimen, edits):
    # Mutations keep the shape, so they reach every field check rather than stopping at structure.
    chars = list(specimen)
    for position, char in edits:
        index = position % len(chars)
        if chars[index] != "\n":
            chars[index] = char
    try:
        parse("".join(chars), today=TODAY)
    except MrzError as exc:
        assert exc.problems and all(problem.field != "structure" for problem in exc.problems)
