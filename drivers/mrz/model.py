"""What a parsed MRZ is, and how a bad one is reported."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from drivers.mrz.checkdigit import check_digit


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an MRZ: the field it concerns and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class MrzError(ValueError):
    """An MRZ that cannot be parsed or generated; `problems` lists every fault found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems) or "invalid MRZ")

    @property
    def fields(self) -> set[str]:
        return {problem.field for problem in self.problems}


@dataclass(frozen=True)
class Mrz:
    """The fields of a valid MRZ, fillers stripped; `lines` keeps the printed text."""

    format: str                 # 'TD1' | 'TD2' | 'TD3' | 'MRVA' | 'MRVB'
    document_type: str          # document code without fillers: 'P', 'ID', 'V', ...
    issuing_state: str
    surname: str                # primary identifier, components joined by spaces
    given_names: str            # secondary identifier, components joined by spaces
    document_number: str
    document_number_check: str  # check digit of the whole number (from optional data when long)
    nationality: str
    birth_date: date | None     # None when (partly) unknown in the MRZ
    sex: str                    # 'M' | 'F' | 'X'
    expiry_date: date | None
    optional_data: str
    optional_data_2: str        # TD1 line 2 only, '' elsewhere
    lines: tuple[str, ...]
    birth_date_field: str       # the six printed characters, e.g. '740812'
    expiry_date_field: str

    def is_expired(self, on: date) -> bool:
        """True when `on` is after the expiry date; a document without one never expires."""
        return self.expiry_date is not None and on > self.expiry_date

    @property
    def bac_key_seed_input(self) -> str:
        """The 'MRZ information' that BAC/PACE derive their keys from (Doc 9303 Part 11):
        document number with its fillers and check digit, birth date + check digit,
        expiry date + check digit. A number longer than nine characters is used whole."""
        number = self.document_number.ljust(9, "<")
        return (number + self.document_number_check
                + self.birth_date_field + check_digit(self.birth_date_field)
                + self.expiry_date_field + check_digit(self.expiry_date_field))

    def __str__(self) -> str:
        return "\n".join(self.lines)

