"""The transliteration tables of ICAO Doc 9303 Part 3, Section 6, row by row, as test facts.

Each row below is written out independently of drivers/mrz/transliteration.py's data, so a
mistyped entry on either side fails here. Where the rows come from (the Doc 9303 PDF itself was
out of reach here, and Greek is ELOT 743, which Doc 9303 does not cover): docs/NAMES.md, "Sources".
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.alertmatch.normalize import fold_umlaut_spelling
from drivers.mrz import transliterate
from drivers.mrz.transliteration import LATIN_OPTIONS, to_latin

# Table A: multinational Latin-based characters (the first column's spelling).
TABLE_A = """
À A  Á A  Â A  Ã A  Ä AE  Å AA  Æ AE  Ç C  È E  É E  Ê E  Ë E  Ì I  Í I  Î I  Ï I  Ð D  Ñ N
Ò O  Ó O  Ô O  Õ O  Ö OE  Ø OE  Ù U  Ú U  Û U  Ü UE  Ý Y  Þ TH  Ā A  Ă A  Ą A  Ć C  Ĉ C  Ċ C
Č C  Ď D  Đ D  Ē E  Ĕ E  Ė E  Ę E  Ě E  Ĝ G  Ğ G  Ġ G  Ģ G  Ĥ H  Ħ H  Ĩ I  Ī I  Ĭ I  Į I
İ I  ı I  Ĳ IJ  Ĵ J  Ķ K  Ĺ L  Ļ L  Ľ L  Ŀ L  Ł L  Ń N  Ņ N  Ň N  Ŋ N  Ō O  Ŏ O  Ő O  Œ OE
Ŕ R  Ŗ R  Ř R  Ś S  Ŝ S  Ş S  Š S  Ţ T  Ť T  Ŧ T  Ũ U  Ū U  Ŭ U  Ů U  Ű U  Ų U  Ŵ W  Ŷ Y
Ÿ Y  Ź Z  Ż Z  Ž Z  ß SS  ẞ SS
"""

# Table B: Cyrillic (the common column).
TABLE_B = """
А A  Б B  В V  Г G  Ґ G  Д D  Ђ D  Ѓ G  Е E  Ё E  Є IE  Ж ZH  З Z  Ѕ DZ  И I  І I  Ї I  Й I
Ј J  К K  Л L  Љ LJ  М M  Н N  Њ NJ  О O  П P  Р R  С S  Т T  Ћ C  Ќ K  У U  Ў U  Ф F  Х KH
Ц TS  Ч CH  Џ DZ  Ш SH  Щ SHCH  Ъ IE  Ы Y  Э E  Ю IU  Я IA  Ѫ U  Ѣ IE  Ѵ Y
"""

# Table C: Arabic, by code point (letters of Arabic, then of Persian, Urdu, Pashto ...).
TABLE_C = """
0621 XE  0622 XAA  0623 XAE  0624 U  0625 I  0626 XI  0627 A  0628 B  0629 XTA  062A T  062B XTH
062C J  062D XH  062E XKH  062F D  0630 XDH  0631 R  0632 Z  0633 S  0634 XSH  0635 XSS  0636 XDZ
0637 XTT  0638 XZZ  0639 E  063A G  0641 F  0642 Q  0643 K  0644 L  0645 M  0646 N  0647 H  0648 W
0649 XAY  064A Y  0671 XXA  0679 XXT  067C XRT  067E P  0681 XKE  0685 XXH  0686 XC  0688 XXD
0689 XDR  0691 XXR  0693 XRR  0696 XRX  0698 XJ  069A XXS  06A9 XKK  06AB XXK  06AD XNG  06AF XGG
06BA XNN  06BC XXN  06BE XDO  06C0 XYH  06C1 XXG  06C2 XGE  06C3 XTG  06CC XYA  06CD XXY  06D0 Y
06D2 XYB  06D3 XBE
"""
# Marks Table C leaves unwritten: tatweel, fathatan .. sukun (with shadda), superscript alef.
ARABIC_UNWRITTEN = "0640 064B 064C 064D 064E 064F 0650 0651 0652 0670".split()

# Greek capitals by ELOT 743.
GREEK_LETTERS = """
Α A  Β V  Γ G  Δ D  Ε E  Ζ Z  Η I  Θ TH  Ι I  Κ K  Λ L  Μ M  Ν N  Ξ X  Ο O  Π P  Ρ R  Σ S  Τ T
Υ Y  Φ F  Χ CH  Ψ PS  Ω O
"""


def _pairs(table: str) -> list[tuple[str, str]]:
    words = table.split()
    return list(zip(words[::2], words[1::2], strict=True))


@pytest.mark.parametrize("char, mrz", _pairs(TABLE_A))
def test_table_a_latin(char, mrz):
    assert transliterate(char) == mrz
    assert transliterate(char.lower()) == mrz


@pytest.mark.parametrize("char, mrz", _pairs(TABLE_B))
def test_table_b_cyrillic(char, mrz):
    assert transliterate(char) == mrz
    assert transliterate(char.lower()) == mrz


def test_cyrillic_soft_sign_is_not_written():
    assert transliterate("Ь") == transliterate("ь") == ""
    assert transliterate("Игорь") == "IGOR"


@pytest.mark.parametrize("code, mrz", _pairs(TABLE_C))
def test_table_c_arabic(code, mrz):
    assert transliterate(chr(int(code, 16))) == mrz


@pytest.mark.parametrize("code", ARABIC_UNWRITTEN)
def test_table_c_marks_are_not_written(code):
    assert transliterate("\u0628" + chr(int(code, 16)) + "\u0628") == "BB"


@pytest.mark.parametrize("char, mrz", _pairs(GREEK_LETTERS))
def test_greek_letters(char, mrz):
    assert transliterate(char) == mrz
    assert transliterate(char.lower()) == mrz


@pytest.mark.parametrize("name, mrz", [
    ("ΠΑΠΑΔΟΠΟΥΛΟΣ", "PAPADOPOULOS"),   # ΟΥ -> OU
    ("Γεώργιος", "GEORGIOS"),           # accents dropped, final sigma
    ("Ευάγγελος", "EVANGELOS"),         # ΕΥ before a vowel -> EV, ΓΓ -> NG
    ("Ευθύμιος", "EFTHYMIOS"),          # ΕΥ before a voiceless consonant -> EF
    ("Ναυσικά", "NAFSIKA"),             # ΑΥ before Σ -> AF
    ("Σπύρος Αυγερινός", "SPYROS<AVGERINOS"),  # ΑΥ before voiced Γ -> AV
    ("Μαΐου", "MAIOU"),                 # the diaeresis parts the vowels
    ("Χρήστος", "CHRISTOS"),
    ("Ξενοφών", "XENOFON"),
    ("Ψαρράς", "PSARRAS"),
    ("Θεόδωρος", "THEODOROS"),
    ("Αικατερίνη", "AIKATERINI"),
    ("Σφίγξ", "SFINX"),                 # ΓΞ -> NX
    ("Άγχος", "ANCHOS"),                # ΓΧ -> NCH
    ("Μπάμπης", "MPAMPIS"),             # ΜΠ -> MP (ELOT 743:2001)
    ("Αγκάθη", "AGKATHI"),              # ΓΚ -> GK
])
def test_greek_names(name, mrz):
    assert transliterate(name) == mrz


@pytest.mark.parametrize("name, mrz", [
    ("Горбачёв Михаил", "GORBACHEV<MIKHAIL"),
    ("Шевченко Тарас", "SHEVCHENKO<TARAS"),
    ("Цветаева Марина", "TSVETAEVA<MARINA"),
    ("Ђоковић", "DOKOVIC"),
    ("Юлия Тимошенко", "IULIIA<TIMOSHENKO"),
    ("Подъячев", "PODIEIACHEV"),
])
def test_cyrillic_names(name, mrz):
    assert transliterate(name) == mrz


@pytest.mark.parametrize("name, mrz", [
    ("محمد", "MXHMD"),                   # vowels are not written: the table's letters only
    ("مُحَمَّد", "MXHMD"),                # harakat and shadda add nothing
    ("عبد الله", "EBD<ALLH"),
    ("ﻣﺤﻤﺪ", "MXHMD"),                  # positional glyphs (presentation forms) fold to the letters
    ("ﻻ", "LA"),                          # the lam-alef ligature
    ("فاطمة", "FAXTTMXTA"),
])
def test_arabic_names(name, mrz):
    assert transliterate(name) == mrz


def test_the_five_rows_with_options_keep_the_first_and_list_the_others():
    assert LATIN_OPTIONS == {"Ä": ("AE", "A"), "Å": ("AA", "A"), "Ñ": ("N", "NXX"), "Ö": ("OE", "O"),
                             "Ü": ("UE", "UXX", "U")}
    for char, options in LATIN_OPTIONS.items():
        assert transliterate(char) == options[0]
        folded = {fold_umlaut_spelling("X" + option + "X") for option in options}
        assert len(folded) == 1, (char, folded)


def test_latin_outside_table_a_loses_its_diacritics():
    assert transliterate("Ștefan Țiriac") == "STEFAN<TIRIAC"


@given(st.text(max_size=30))
def test_to_latin_never_raises_and_writes_no_lower_case_table_letter(text):
    out = to_latin(text)
    assert not any(char in out for char in "абвгдежзαβγδ")
