"""Writing an MRZ from the holder's data, names transliterated and truncated to fit.

Every function returns the lines joined by '\\n' and raises MrzError listing each input
that cannot be written."""
from __future__ import annotations

from datetime import date

from drivers.mrz import dates, rules
from drivers.mrz.checkdigit import FILLER, check_digit
from drivers.mrz.layouts import MRVA, MRVB, TD1, TD2, TD3, Layout
from drivers.mrz.model import MrzError, Problem
from drivers.mrz.names import name_field, transliterate


def generate_td3(*, document_type: str = "P", issuing_state: str, surname: str, given_names: str,
                 document_number: str, nationality: str, birth_date: date | None, sex: str,
                 expiry_date: date | None, optional_data: str = "") -> str:
    """A passport (TD3) MRZ; with a document type starting with V, an MRV-A visa."""
    fields = dict(locals())
    return _generate(MRVA if document_type.upper().startswith("V") else TD3, **fields)


def generate_td2(*, document_type: str = "I", issuing_state: str, surname: str, given_names: str,
                 document_number: str, nationality: str, birth_date: date | None, sex: str,
                 expiry_date: date | None, optional_data: str = "") -> str:
    """A TD2 card MRZ; with a document type starting with V, an MRV-B visa."""
    fields = dict(locals())
    return _generate(MRVB if document_type.upper().startswith("V") else TD2, **fields)


def generate_td1(*, document_type: str = "I", issuing_state: str, surname: str, given_names: str,
                 document_number: str, nationality: str, birth_date: date | None, sex: str,
                 expiry_date: date | None, optional_data: str = "", optional_data_2: str = "") -> str:
    """A TD1 card MRZ; numbers over nine characters continue in the optional data."""
    fields = dict(locals())
    return _generate(TD1, **fields)


def generate_mrva(*, document_type: str = "V", **fields) -> str:
    """An MRV-A visa MRZ (2 x 44), same fields as generate_td3."""
    return _generate(MRVA, document_type=document_type, **fields)


def generate_mrvb(*, document_type: str = "V", **fields) -> str:
    """An MRV-B visa MRZ (2 x 36), same fields as generate_td2."""
    return _generate(MRVB, document_type=document_type, **fields)


def _generate(layout: Layout, *, document_type: str, issuing_state: str, surname: str,
              given_names: str, document_number: str, nationality: str, birth_date: date | None,
              sex: str, expiry_date: date | None, optional_data: str = "",
              optional_data_2: str = "") -> str:
    writer = _Writer(layout)
    writer.document_code(document_type)
    writer.state("issuing_state", layout.issuing_state, issuing_state)
    writer.state("nationality", layout.nationality, nationality)
    writer.name(surname, given_names)
    writer.number_and_optional_data(document_number, optional_data)
    if layout.optional_data_2:
        writer.optional("optional_data_2", layout.optional_data_2, "", optional_data_2)
    writer.date(layout.birth_date, layout.birth_date_check, birth_date)
    writer.date(layout.expiry_date, layout.expiry_date_check, expiry_date)
    writer.sex(sex)
    return writer.finish()


class _Writer:
    def __init__(self, layout: Layout):
        self.layout = layout
        self.lines = [[FILLER] * layout.line_length for _ in range(layout.line_count)]
        self.problems: list[Problem] = []

    def complain(self, field: str, reason: str | None) -> bool:
        if reason:
            self.problems.append(Problem(field, reason))
        return bool(reason)

    def document_code(self, document_type: str) -> None:
        code = document_type.upper().ljust(2, FILLER)
        if len(code) > 2:
            self.complain("document_type", f"{document_type!r} is longer than two characters")
        elif not self.complain("document_type", rules.document_code(self.layout, code)):
            self.layout.document_code.write(self.lines, code)

    def state(self, field: str, span, code: str) -> None:
        code = code.upper().strip(FILLER)
        if not self.complain(field, rules.state_code(code)):
            span.write(self.lines, code.ljust(3, FILLER))

    def name(self, surname: str, given_names: str) -> None:
        identifiers = []
        for field, text in (("surname", surname), ("given_names", given_names)):
            try:
                identifiers.append(transliterate(text))
            except MrzError as exc:
                self.problems += [Problem(field, problem.reason) for problem in exc.problems]
                identifiers.append(None)
        if identifiers[0] == "":
            self.complain("surname", "has no letters to print")
        primary, secondary = (identifier or "" for identifier in identifiers)
        span = self.layout.name
        span.write(self.lines, name_field(primary, secondary, span.width))

    def number_and_optional_data(self, document_number: str, optional_data: str) -> None:
        layout = self.layout
        number = document_number.upper()
        if self.complain("document_number", rules.document_number(number)):
            self.optional("optional_data", layout.optional_data, "", optional_data)  # report its faults too
            return
        prefix = ""
        if len(number) <= 9:
            printed = number.ljust(9, FILLER)
            layout.document_number_check.write(self.lines, check_digit(printed))
        elif layout.long_document_number:
            printed = number[:9]
            layout.document_number_check.write(self.lines, FILLER)
            # The filler after the check digit ends the number for the reader.
            prefix = number[9:] + check_digit(number) + (FILLER if optional_data else "")
        else:
            self.complain("document_number", f"{number!r} is longer than the nine characters "
                          f"{layout.format} can hold")
            return
        layout.document_number.write(self.lines, printed)
        self.optional("optional_data", layout.optional_data, prefix, optional_data)
        if layout.optional_data_check:
            field = layout.optional_data.read(self._text_lines())
            check = FILLER if set(field) == {FILLER} else check_digit(field)
            layout.optional_data_check.write(self.lines, check)

    def optional(self, field: str, span, prefix: str, data: str) -> None:
        data = data.upper().replace(" ", FILLER)
        if self.complain(field, rules.optional_data(data)):
            return
        text = prefix + data
        if len(text) > span.width:
            what = "with the end of the document number " if prefix else ""
            self.complain(field, f"{data!r} {what}needs {len(text)} characters, "
                          f"{self.layout.format} has {span.width}")
            return
        span.write(self.lines, text.ljust(span.width, FILLER))

    def date(self, span, check_span, value: date | None) -> None:
        printed = dates.write(value)
        span.write(self.lines, printed)
        check_span.write(self.lines, check_digit(printed))

    def sex(self, sex: str) -> None:
        code = sex.upper()
        if code not in rules.SEX_CODES:
            self.complain("sex", f"{sex!r} is not M, F or X")
            return
        self.layout.sex.write(self.lines, FILLER if code == "X" else code)

    def finish(self) -> str:
        if self.problems:
            raise MrzError(self.problems)
        lines = self._text_lines()
        if self.layout.composite_check:
            data = "".join(span.read(lines) for span in self.layout.composite)
            self.layout.composite_check.write(self.lines, check_digit(data))
        return "\n".join(self._text_lines())

    def _text_lines(self) -> list[str]:
        return ["".join(line) for line in self.lines]
