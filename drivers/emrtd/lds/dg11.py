"""DG11: additional personal details (Doc 9303 Part 10)."""
from __future__ import annotations

from dataclasses import dataclass

from drivers.emrtd.lds import fields
from drivers.emrtd.lds.fields import Field

FILE = "DG11"
TAG = 0x6B
OTHER_NAME = 0x5F0F

TABLE = [
    Field(0x5F0E, "full_name", "text"),
    Field(0x5F10, "personal_number", "text"),
    Field(0x5F2B, "full_date_of_birth", "date"),
    Field(0x5F11, "place_of_birth", "text"),
    Field(0x5F42, "address", "text"),
    Field(0x5F12, "telephone", "text"),
    Field(0x5F13, "profession", "text"),
    Field(0x5F14, "title", "text"),
    Field(0x5F15, "personal_summary", "text"),
    Field(0x5F16, "proof_of_citizenship", "bytes"),  # an image
    Field(0x5F17, "other_travel_document_numbers", "text"),
    Field(0x5F18, "custody_information", "text"),
]


@dataclass(frozen=True)
class Dg11:
    full_name: str | None = None  # primary and secondary identifiers separated by '<<'
    other_names: tuple[str, ...] = ()
    personal_number: str | None = None
    full_date_of_birth: str | None = None  # YYYYMMDD
    place_of_birth: str | None = None
    address: str | None = None
    telephone: str | None = None
    profession: str | None = None
    title: str | None = None
    personal_summary: str | None = None
    proof_of_citizenship: bytes | None = None
    other_travel_document_numbers: str | None = None
    custody_information: str | None = None
    tags: tuple[int, ...] = ()  # the tag list as stored (filled when parsing)


def parse(data: bytes) -> Dg11:
    values = fields.parse(FILE, TAG, data, TABLE, OTHER_NAME, "other_names", {0x5F2B: 8})
    return fields.build(Dg11, values)


def encode(dg11: Dg11) -> bytes:
    return fields.encode(TAG, dg11, TABLE, OTHER_NAME, "other_names")
