"""Reading an MRZ: structure first, then every field, collecting all problems at once."""
from __future__ import annotations

from datetime import date

from drivers.mrz import dates, rules
from drivers.mrz.checkdigit import FILLER, MRZ_ALPHABET, check_digit
from drivers.mrz.layouts import Layout, for_shape
from drivers.mrz.model import Mrz, MrzError, Problem
from drivers.mrz.names import split_name_field

_SHAPES = "3 lines of 30 characters (TD1), or 2 lines of 36 (TD2, MRV-B) or 44 (TD3, MRV-A)"


def parse(text: str, *, today: date | None = None) -> Mrz:
    """The MRZ in `text`, its lines separated by newlines.

    `today` (default: the current date) decides the century of two-digit years.
    Raises MrzError listing every problem found.
    """
    lines = _split_lines(text)
    layout = _layout(lines)
    _check_alphabet(lines)
    return _FieldReader(layout, lines, today or date.today()).read()


def _split_lines(text: str) -> list[str]:
    if not isinstance(text, str):
        raise MrzError([Problem("structure", f"expected text, got {type(text).__name__}")])
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def _layout(lines: list[str]) -> Layout:
    lengths = sorted({len(line) for line in lines})
    layout = None
    if len(lengths) == 1:
        layout = for_shape(len(lines), lengths[0], visa=lines[0].startswith("V"))
    if layout is None:
        got = f"{len(lines)} line(s)" + (f" of {', '.join(map(str, lengths))} characters" if lines else "")
        raise MrzError([Problem("structure", f"expected {_SHAPES}; got {got}")])
    return layout


def _check_alphabet(lines: list[str]) -> None:
    problems = []
    for number, line in enumerate(lines, start=1):
        bad = [f"{char!r} at {position}" for position, char in enumerate(line, start=1)
               if char not in MRZ_ALPHABET]
        if bad:
            problems.append(Problem("structure", f"line {number} has invalid characters: {', '.join(bad)}"))
    if problems:
        raise MrzError(problems)


class _FieldReader:
    def __init__(self, layout: Layout, lines: list[str], today: date):
        self.layout = layout
        self.lines = lines
        self.today = today
        self.problems: list[Problem] = []

    def complain(self, field: str, reason: str | None) -> None:
        if reason:
            self.problems.append(Problem(field, reason))

    def check(self, field: str, printed: str, data: str) -> None:
        computed = check_digit(data)
        if printed == computed or (printed == FILLER and set(data) == {FILLER}):
            return  # an unused field may carry '<' as its check digit
        if not printed.isdigit():
            self.complain(field, f"check digit {printed!r} is not a digit (computed {computed})")
        else:
            self.complain(field, f"check digit is {printed}, computed {computed}")

    def read(self) -> Mrz:
        layout, lines = self.layout, self.lines
        code = layout.document_code.read(lines)
        self.complain("document_type", rules.document_code(layout, code))
        issuing_state = layout.issuing_state.read(lines).strip(FILLER)
        self.complain("issuing_state", rules.state_code(issuing_state))
        nationality = layout.nationality.read(lines).strip(FILLER)
        self.complain("nationality", rules.state_code(nationality))
        surname, given_names = self.read_name()
        number, number_check, optional_data = self.read_document_number()
        birth_field = layout.birth_date.read(lines)
        birth_date = self.read_date("birth_date", birth_field, layout.birth_date_check.read(lines), "birth")
        expiry_field = layout.expiry_date.read(lines)
        expiry_date = self.read_date("expiry_date", expiry_field, layout.expiry_date_check.read(lines), "expiry")
        sex_char = layout.sex.read(lines)
        sex = rules.SEX_CODES.get(sex_char, "")
        if not sex:
            self.complain("sex", f"{sex_char!r} is not M, F or '<'")
        if layout.optional_data_check:
            self.check("optional_data", layout.optional_data_check.read(lines),
                       layout.optional_data.read(lines))
        optional_data_2 = layout.optional_data_2.read(lines).rstrip(FILLER) if layout.optional_data_2 else ""
        if layout.composite_check:
            self.check("composite", layout.composite_check.read(lines),
                       "".join(span.read(lines) for span in layout.composite))
        if self.problems:
            raise MrzError(self.problems)
        return Mrz(
            format=layout.format, document_type=code.rstrip(FILLER), issuing_state=issuing_state,
            surname=surname, given_names=given_names, document_number=number,
            document_number_check=number_check, nationality=nationality, birth_date=birth_date,
            sex=sex, expiry_date=expiry_date, optional_data=optional_data,
            optional_data_2=optional_data_2, lines=tuple(lines),
            birth_date_field=birth_field, expiry_date_field=expiry_field,
        )

    def read_name(self) -> tuple[str, str]:
        field = self.layout.name.read(self.lines)
        if field.startswith(FILLER):
            self.complain("name", "the primary identifier (surname) is missing")
        if any(char.isdigit() for char in field):
            self.complain("name", f"{field.rstrip(FILLER)!r} contains digits")
        return split_name_field(field)

    def read_document_number(self) -> tuple[str, str, str]:
        """(number, its check digit, the optional data left after it)."""
        layout, lines = self.layout, self.lines
        printed = layout.document_number.read(lines)
        check = layout.document_number_check.read(lines)
        optional = layout.optional_data.read(lines)
        if layout.long_document_number and check == FILLER and printed != FILLER * 9:
            # A number of more than nine characters: its tail and check digit start the
            # optional data and end at the first filler.
            tail, _, optional = optional.partition(FILLER)
            if len(tail) < 2:
                self.complain("document_number", "check digit is '<' but the optional data "
                              "does not continue the number with its check digit")
                return printed.rstrip(FILLER), check, optional.rstrip(FILLER)
            number, check = printed + tail[:-1], tail[-1]
            self.check("document_number", check, number)
        else:
            number = printed.rstrip(FILLER)
            self.check("document_number", check, printed)
        self.complain("document_number", rules.document_number(number))
        return number, check, optional.rstrip(FILLER)

    def read_date(self, field: str, printed: str, check: str, kind: str) -> date | None:
        self.check(field, check, printed)
        try:
            return dates.read(printed, kind=kind, today=self.today)
        except dates.DateFieldError as exc:
            self.complain(field, str(exc))
            return None
