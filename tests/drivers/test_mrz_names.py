from datetime import date

import pytest

from drivers.mrz import MrzError, generate_td1, generate_td3, parse, transliterate
from drivers.mrz.names import truncate


@pytest.mark.parametrize("name, mrz", [
    ("Anna Maria", "ANNA<MARIA"),
    ("Müller-Lüdenscheidt", "MUELLER<LUEDENSCHEIDT"),
    ("Åsa Ørsted", "AASA<OERSTED"),
    ("Straße", "STRASSE"),
    ("Þórunn Æsa", "THORUNN<AESA"),
    ("Œuvre Ĳssel", "OEUVRE<IJSSEL"),
    ("José Ñúñez", "JOSE<NUNEZ"),
    ("Łukasz Wałęsa", "LUKASZ<WALESA"),
    ("Čapek Dvořák", "CAPEK<DVORAK"),
    ("O'Neill", "ONEILL"),
    ("D’Artagnan", "DARTAGNAN"),
    ("St. John", "ST<JOHN"),
    ("  Jean-Luc  Picard ", "JEAN<LUC<PICARD"),
    ("Smith, John", "SMITH<JOHN"),
    ("Юрий Гагарин", "IURII<GAGARIN"),
    ("Щербаков", "SHCHERBAKOV"),
    ("", ""),
])
def test_transliteration(name, mrz):
    assert transliterate(name) == mrz


@pytest.mark.parametrize("name", ["R2D2", "李", "ᚠᚢᚦ", "Anna@Home", "١٢٣"])
def test_untransliterable_names_are_an_error(name):
    with pytest.raises(MrzError) as caught:
        transliterate(name)
    assert caught.value.fields == {"name"}
    assert "cannot transliterate" in str(caught.value)


@pytest.mark.parametrize("full, width, cut", [
    ("ERIKSSON<<ANNA<MARIA", 39, "ERIKSSON<<ANNA<MARIA"),
    ("ANNA<MARIA<LOUISE", 13, "ANNA<MARIA<LO"),
    # a cut on a separator shortens the component before it to keep the next initial
    ("ANNA<MARIA<LOUISE", 11, "ANNA<MARI<L"),
    ("ABCDEFGHI<<JK", 10, "ABCDEFG<<J"),
    ("ABCDEFGHI<<JK", 11, "ABCDEFGH<<J"),
    ("A<B<C<D<E", 4, "A<B"),
])
def test_truncation_ends_in_a_letter(full, width, cut):
    assert truncate(full, width) == cut


def test_long_names_are_truncated_when_generated():
    text = generate_td3(issuing_state="UTO", surname="Nilavadhanananda",
                        given_names="Chayapa Dejthamrong Krasuang", document_number="123456789",
                        nationality="UTO", birth_date=date(1980, 1, 1), sex="M",
                        expiry_date=date(2030, 1, 1))
    line1 = text.split("\n")[0]
    assert line1 == "P<UTONILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<K"
    mrz = parse(text, today=date(2026, 1, 1))
    assert (mrz.surname, mrz.given_names) == ("NILAVADHANANANDA", "CHAYAPA DEJTHAMRONG K")


def test_td1_name_line_holds_thirty_characters():
    text = generate_td1(issuing_state="UTO", surname="Wolfeschlegelsteinhausenbergerdorff",
                        given_names="Hubert", document_number="X1", nationality="UTO",
                        birth_date=date(1980, 1, 1), sex="M", expiry_date=date(2030, 1, 1))
    name_line = text.split("\n")[2]
    assert name_line == "WOLFESCHLEGELSTEINHAUSENBERGER"  # no room left for the given name
