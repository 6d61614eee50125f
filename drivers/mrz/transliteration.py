"""Names in national scripts written with the MRZ's letters A-Z (ICAO Doc 9303 Part 3, Section 6).

The tables are data, one entry per row of the published tables, upper case only (names are
upper-cased first):
- LATIN: multinational Latin-based characters. Five rows offer more than one spelling; the
  first is the one Limes writes (the table's first column), the others are in LATIN_OPTIONS
  so that comparisons can forgive them (drivers.alertmatch folds them).
- CYRILLIC: the Cyrillic table, its common column (not the per-language exceptions).
- ARABIC: the Arabic table. Its letters map one to one and reversibly; letters without a
  Latin equivalent get an X-prefixed code (ث -> XTH). Short vowels and other marks
  (harakat, shadda, tatweel) are not written, as in the table.
- GREEK: Doc 9303 has no Greek table; Greek passports write their MRZ with ELOT 743
  (= ISO 843 transcription), which is what GREEK_* implement. See docs/NAMES.md.

`to_latin` is the one function: text in any of these scripts to upper-case A-Z, with every
other character (spaces, hyphens, digits, unknown letters) left for the caller to treat.
"""
from __future__ import annotations

import unicodedata

# ---------------------------------------------------------------- Table A: Latin with diacritics

# Characters with several spellings in the table, the first one being the one written.
LATIN_OPTIONS: dict[str, tuple[str, ...]] = {
    "Ä": ("AE", "A"),
    "Å": ("AA", "A"),
    "Ñ": ("N", "NXX"),
    "Ö": ("OE", "O"),
    "Ü": ("UE", "UXX", "U"),
}

LATIN: dict[str, str] = {
    **{char: options[0] for char, options in LATIN_OPTIONS.items()},
    **dict.fromkeys("ÀÁÂÃĀĂĄ", "A"), "Æ": "AE",
    **dict.fromkeys("ÇĆĈĊČ", "C"),
    **dict.fromkeys("ÐĎĐ", "D"),
    **dict.fromkeys("ÈÉÊËĒĔĖĘĚ", "E"),
    **dict.fromkeys("ĜĞĠĢ", "G"),
    **dict.fromkeys("ĤĦ", "H"),
    **dict.fromkeys("ÌÍÎÏĨĪĬĮİ", "I"), "Ĳ": "IJ",
    "Ĵ": "J",
    "Ķ": "K",
    **dict.fromkeys("ĹĻĽĿŁ", "L"),
    **dict.fromkeys("ŃŅŇŊ", "N"),
    **dict.fromkeys("ÒÓÔÕŌŎŐ", "O"), "Ø": "OE", "Œ": "OE",
    **dict.fromkeys("ŔŖŘ", "R"),
    **dict.fromkeys("ŚŜŞŠ", "S"), "ẞ": "SS",
    **dict.fromkeys("ŢŤŦ", "T"), "Þ": "TH",
    **dict.fromkeys("ÙÚÛŨŪŬŮŰŲ", "U"),
    "Ŵ": "W",
    **dict.fromkeys("ÝŶŸ", "Y"),
    **dict.fromkeys("ŹŻŽ", "Z"),
}

# ---------------------------------------------------------------- Table B: Cyrillic

CYRILLIC: dict[str, str] = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Ґ": "G", "Д": "D", "Ђ": "D", "Ѓ": "G", "Е": "E",
    "Ё": "E", "Є": "IE", "Ж": "ZH", "З": "Z", "Ѕ": "DZ", "И": "I", "І": "I", "Ї": "I", "Й": "I",
    "Ј": "J", "К": "K", "Л": "L", "Љ": "LJ", "М": "M", "Н": "N", "Њ": "NJ", "О": "O", "П": "P",
    "Р": "R", "С": "S", "Т": "T", "Ћ": "C", "Ќ": "K", "У": "U", "Ў": "U", "Ф": "F", "Х": "KH",
    "Ц": "TS", "Ч": "CH", "Џ": "DZ", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "",
    "Э": "E", "Ю": "IU", "Я": "IA", "Ѫ": "U", "Ѣ": "IE", "Ѵ": "Y", "Ғ": "G",
}

# ---------------------------------------------------------------- Table C: Arabic

ARABIC: dict[str, str] = {
    "\u0621": "XE", "\u0622": "XAA", "\u0623": "XAE", "\u0624": "U", "\u0625": "I", "\u0626": "XI",
    "\u0627": "A", "\u0628": "B", "\u0629": "XTA", "\u062A": "T", "\u062B": "XTH", "\u062C": "J",
    "\u062D": "XH", "\u062E": "XKH", "\u062F": "D", "\u0630": "XDH", "\u0631": "R", "\u0632": "Z",
    "\u0633": "S", "\u0634": "XSH", "\u0635": "XSS", "\u0636": "XDZ", "\u0637": "XTT", "\u0638": "XZZ",
    "\u0639": "E", "\u063A": "G", "\u0641": "F", "\u0642": "Q", "\u0643": "K", "\u0644": "L",
    "\u0645": "M", "\u0646": "N", "\u0647": "H", "\u0648": "W", "\u0649": "XAY", "\u064A": "Y",
    # Letters of Persian, Urdu, Pashto and other languages written in Arabic script.
    "\u0671": "XXA", "\u0679": "XXT", "\u067C": "XRT", "\u067E": "P", "\u0681": "XKE", "\u0685": "XXH",
    "\u0686": "XC", "\u0688": "XXD", "\u0689": "XDR", "\u0691": "XXR", "\u0693": "XRR", "\u0696": "XRX",
    "\u0698": "XJ", "\u069A": "XXS", "\u06A9": "XKK", "\u06AB": "XXK", "\u06AD": "XNG", "\u06AF": "XGG",
    "\u06BA": "XNN", "\u06BC": "XXN", "\u06BE": "XDO", "\u06C0": "XYH", "\u06C1": "XXG", "\u06C2": "XGE",
    "\u06C3": "XTG", "\u06CC": "XYA", "\u06CD": "XXY", "\u06D0": "Y", "\u06D2": "XYB", "\u06D3": "XBE",
}
# Marks the table leaves unwritten: tatweel, the short vowels (fathatan..sukun), superscript alef.
ARABIC_UNWRITTEN = frozenset("\u0640\u064B\u064C\u064D\u064E\u064F\u0650\u0651\u0652\u0670")

# ---------------------------------------------------------------- Greek: ELOT 743

GREEK: dict[str, str] = {
    "Α": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Ζ": "Z", "Η": "I", "Θ": "TH", "Ι": "I",
    "Κ": "K", "Λ": "L", "Μ": "M", "Ν": "N", "Ξ": "X", "Ο": "O", "Π": "P", "Ρ": "R", "Σ": "S",
    "Τ": "T", "Υ": "Y", "Φ": "F", "Χ": "CH", "Ψ": "PS", "Ω": "O",
}
# Pairs written as one: ΟΥ, and Γ before Γ, Ξ, Χ (a nasal).
GREEK_PAIRS: dict[str, str] = {"ΟΥ": "OU", "ΓΓ": "NG", "ΓΞ": "NX", "ΓΧ": "NCH"}
# ΑΥ, ΕΥ, ΗΥ: the Υ is V before a vowel or voiced consonant, F before a voiceless one or at the end.
GREEK_U_DIPHTHONGS: dict[str, str] = {"Α": "A", "Ε": "E", "Η": "I"}
GREEK_VOICELESS = frozenset("ΘΚΞΠΣΤΦΧΨ")

_DIAERESIS = "\u0308"


def _greek_letters(run: list[str]) -> list[tuple[str, bool]]:
    """Greek capitals without their accents, each with whether it bore a diaeresis (which splits a pair)."""
    letters: list[tuple[str, bool]] = []
    for char in unicodedata.normalize("NFD", "".join(run)):
        if not unicodedata.combining(char):
            letters.append((char, False))
        elif char == _DIAERESIS and letters:
            letters[-1] = (letters[-1][0], True)
    return letters


def _greek(run: list[str]) -> str:
    """A run of Greek capitals by ELOT 743."""
    letters = _greek_letters(run)
    out: list[str] = []
    i = 0
    while i < len(letters):
        char, _ = letters[i]
        following, split = letters[i + 1] if i + 1 < len(letters) else ("", False)
        if following and not split and char + following in GREEK_PAIRS:
            out.append(GREEK_PAIRS[char + following])
            i += 2
            continue
        if char in GREEK_U_DIPHTHONGS and following == "Υ" and not split:
            after = letters[i + 2][0] if i + 2 < len(letters) else ""
            out.append(GREEK_U_DIPHTHONGS[char] + ("F" if not after or after in GREEK_VOICELESS else "V"))
            i += 2
            continue
        out.append(GREEK.get(char, char))
        i += 1
    return "".join(out)


def _is_greek(char: str) -> bool:
    return "\u0370" <= char <= "\u03FF" or "\u1F00" <= char <= "\u1FFF"


def to_latin(text: str) -> str:
    """`text` upper-cased with every letter of the tables replaced by its A-Z spelling.

    Arabic presentation forms (a letter's initial, medial, final or isolated glyph, and
    ligatures such as lam-alef) are first folded to the letters they show (NFKC, for them only). A Latin
    letter outside Table A loses its diacritics. Anything else (spaces, hyphens, digits, letters
    of other scripts) is kept as it is, for the caller to separate, refuse or ignore.
    """
    if text.isascii():  # an MRZ, most typed names: nothing to transliterate (asked for every alert compared)
        return text.upper()
    upper = unicodedata.normalize("NFC", "".join(_arabic_letters(char) for char in text).upper())
    out: list[str] = []
    greek_run: list[str] = []
    for char in upper:
        if _is_greek(char) or (greek_run and unicodedata.combining(char)):
            greek_run.append(char)
            continue
        if greek_run:
            out.append(_greek(greek_run))
            greek_run = []
        out.append(_letter(char))
    if greek_run:
        out.append(_greek(greek_run))
    return "".join(out)


def _arabic_letters(char: str) -> str:
    """The letters an Arabic presentation form shows (its positional glyph folded), else the character."""
    if "\uFB50" <= char <= "\uFDFF" or "\uFE70" <= char <= "\uFEFF":
        return unicodedata.normalize("NFKC", char)
    return char


def _letter(char: str) -> str:
    for table in (LATIN, CYRILLIC, ARABIC):
        if char in table:
            return table[char]
    if char in ARABIC_UNWRITTEN or unicodedata.combining(char):  # a diacritic left over by NFC
        return ""
    if char.isascii() or not char.isalpha():
        return char
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and base.isascii() and base.isalpha():
        return base.upper()
    return char
