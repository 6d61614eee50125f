"""DG1: the machine readable zone as stored on the chip (tag 61 / 5F1F).

The chip holds the MRZ lines concatenated without separators; the length
tells the document format (TD1 3x30, TD2 2x36, TD3 2x44).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from drivers.emrtd import tlv
from drivers.emrtd.lds.errors import LdsError, parsing

FILE = "DG1"
TAG = 0x61
MRZ_TAG = 0x5F1F

LINE_LENGTHS = {90: 30, 72: 36, 88: 44}  # total length -> line length
_MRZ_CHARS = re.compile(r"[A-Z0-9<]+")


@dataclass(frozen=True)
class Dg1:
    mrz_text: str  # the lines concatenated, as on the chip
    # drivers.mrz.Mrz when that parser is installed and accepts the text
    mrz: Any = field(default=None, compare=False)

    @property
    def lines(self) -> list[str]:
        return split_lines(self.mrz_text)

    @property
    def issuing_state(self) -> str:
        """The ICAO issuing state code, same position in every format ('D<<' -> 'D')."""
        return self.mrz_text[2:5].rstrip("<")

    @property
    def document_code(self) -> str:
        return self.mrz_text[0:2].rstrip("<")


def normalise(mrz: str) -> str:
    """The MRZ as the chip stores it: lines joined, surrounding white space dropped."""
    return "".join(line.strip() for line in mrz.strip().splitlines())


def split_lines(text: str) -> list[str]:
    width = LINE_LENGTHS[len(text)]
    return [text[i:i + width] for i in range(0, len(text), width)]


def _check_text(text: str) -> None:
    if len(text) not in LINE_LENGTHS:
        raise LdsError(FILE, f"MRZ of {len(text)} characters is none of TD1 (90), TD2 (72), TD3 (88)")
    if not _MRZ_CHARS.fullmatch(text):
        raise LdsError(FILE, "MRZ holds characters outside A-Z, 0-9 and '<'")


def _parsed_mrz(lines: list[str]) -> Any:
    # drivers.mrz is optional here: DG1 is still usable as text without it
    try:
        from drivers.mrz import MrzError
        from drivers.mrz import parse as parse_mrz
    except ImportError:
        return None
    try:
        return parse_mrz("\n".join(lines))
    except MrzError:
        # a chip MRZ failing check digits is reported by the MRZ checks, not here
        return None


def parse(data: bytes) -> Dg1:
    with parsing(FILE):
        mrz_tlv = tlv.decode_one(data, TAG).find(MRZ_TAG)
    if mrz_tlv is None:
        raise LdsError(FILE, "MRZ (5F1F) missing")
    try:
        text = mrz_tlv.value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise LdsError(FILE, "MRZ is not ASCII") from exc
    _check_text(text)
    return Dg1(text, _parsed_mrz(split_lines(text)))


def encode(mrz: str) -> bytes:
    """DG1 for an MRZ given as lines (newline-separated) or already joined."""
    text = normalise(mrz)
    _check_text(text)
    return tlv.encode(TAG, tlv.encode(MRZ_TAG, text.encode("ascii")))
