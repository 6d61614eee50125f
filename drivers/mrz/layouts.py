"""Where each field sits in the five MRZ formats of ICAO Doc 9303 (Parts 4-7).

Positions are 0-based [start, end) slices of a line. The composite check digit covers
the listed spans of raw characters, which is what the specification prescribes.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    line: int
    start: int
    end: int

    @property
    def width(self) -> int:
        return self.end - self.start

    def read(self, lines: list[str]) -> str:
        return lines[self.line][self.start:self.end]

    def write(self, lines: list[list[str]], text: str) -> None:
        assert len(text) == self.width, (text, self)
        lines[self.line][self.start:self.end] = list(text)


@dataclass(frozen=True)
class Layout:
    format: str
    line_count: int
    line_length: int
    document_code: Span
    issuing_state: Span
    name: Span
    document_number: Span
    document_number_check: Span
    nationality: Span
    birth_date: Span
    birth_date_check: Span
    sex: Span
    expiry_date: Span
    expiry_date_check: Span
    optional_data: Span
    optional_data_check: Span | None = None      # TD3 personal number
    optional_data_2: Span | None = None          # TD1 line 2
    composite: tuple[Span, ...] = ()
    composite_check: Span | None = None
    # TD1 and TD2 let a number longer than nine characters continue in the optional data.
    long_document_number: bool = False
    visa: bool = False


def _line2_36_44() -> dict[str, Span]:
    """The layout shared by line 2 of TD2, TD3, MRV-A and MRV-B up to the expiry date."""
    return dict(
        document_number=Span(1, 0, 9), document_number_check=Span(1, 9, 10),
        nationality=Span(1, 10, 13), birth_date=Span(1, 13, 19), birth_date_check=Span(1, 19, 20),
        sex=Span(1, 20, 21), expiry_date=Span(1, 21, 27), expiry_date_check=Span(1, 27, 28),
    )


TD1 = Layout(
    format="TD1", line_count=3, line_length=30,
    document_code=Span(0, 0, 2), issuing_state=Span(0, 2, 5),
    document_number=Span(0, 5, 14), document_number_check=Span(0, 14, 15),
    optional_data=Span(0, 15, 30),
    birth_date=Span(1, 0, 6), birth_date_check=Span(1, 6, 7), sex=Span(1, 7, 8),
    expiry_date=Span(1, 8, 14), expiry_date_check=Span(1, 14, 15), nationality=Span(1, 15, 18),
    optional_data_2=Span(1, 18, 29),
    composite=(Span(0, 5, 30), Span(1, 0, 7), Span(1, 8, 15), Span(1, 18, 29)),
    composite_check=Span(1, 29, 30),
    name=Span(2, 0, 30),
    long_document_number=True,
)

TD2 = Layout(
    format="TD2", line_count=2, line_length=36,
    document_code=Span(0, 0, 2), issuing_state=Span(0, 2, 5), name=Span(0, 5, 36),
    **_line2_36_44(),
    optional_data=Span(1, 28, 35),
    composite=(Span(1, 0, 10), Span(1, 13, 20), Span(1, 21, 35)),
    composite_check=Span(1, 35, 36),
    long_document_number=True,
)

TD3 = Layout(
    format="TD3", line_count=2, line_length=44,
    document_code=Span(0, 0, 2), issuing_state=Span(0, 2, 5), name=Span(0, 5, 44),
    **_line2_36_44(),
    optional_data=Span(1, 28, 42), optional_data_check=Span(1, 42, 43),
    composite=(Span(1, 0, 10), Span(1, 13, 20), Span(1, 21, 43)),
    composite_check=Span(1, 43, 44),
)

MRVA = Layout(
    format="MRVA", line_count=2, line_length=44,
    document_code=Span(0, 0, 2), issuing_state=Span(0, 2, 5), name=Span(0, 5, 44),
    **_line2_36_44(),
    optional_data=Span(1, 28, 44),
    visa=True,
)

MRVB = Layout(
    format="MRVB", line_count=2, line_length=36,
    document_code=Span(0, 0, 2), issuing_state=Span(0, 2, 5), name=Span(0, 5, 36),
    **_line2_36_44(),
    optional_data=Span(1, 28, 36),
    visa=True,
)

LAYOUTS = (TD1, TD2, TD3, MRVA, MRVB)


def for_shape(line_count: int, line_length: int, *, visa: bool) -> Layout | None:
    for layout in LAYOUTS:
        if (layout.line_count, layout.line_length, layout.visa) == (line_count, line_length, visa):
            return layout
    # A TD1-sized visa does not exist: such a card is read as TD1 and its code checked.
    for layout in LAYOUTS:
        if (layout.line_count, layout.line_length) == (line_count, line_length):
            return layout
    return None
