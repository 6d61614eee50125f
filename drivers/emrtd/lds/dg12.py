"""DG12: additional document details (Doc 9303 Part 10)."""
from __future__ import annotations

from dataclasses import dataclass

from drivers.emrtd.lds import fields
from drivers.emrtd.lds.fields import Field

FILE = "DG12"
TAG = 0x6C
OTHER_PERSON = 0x5F1A

TABLE = [
    Field(0x5F19, "issuing_authority", "text"),
    Field(0x5F26, "date_of_issue", "date"),
    Field(0x5F1B, "endorsements", "text"),
    Field(0x5F1C, "tax_exit_requirements", "text"),
    Field(0x5F1D, "image_front", "bytes"),
    Field(0x5F1E, "image_rear", "bytes"),
    Field(0x5F55, "personalisation_time", "date"),
    Field(0x5F56, "personalisation_system_serial", "text"),
]


@dataclass(frozen=True)
class Dg12:
    issuing_authority: str | None = None
    date_of_issue: str | None = None  # YYYYMMDD
    other_persons: tuple[str, ...] = ()
    endorsements: str | None = None
    tax_exit_requirements: str | None = None
    image_front: bytes | None = None
    image_rear: bytes | None = None
    personalisation_time: str | None = None  # YYYYMMDDhhmmss
    personalisation_system_serial: str | None = None
    tags: tuple[int, ...] = ()  # the tag list as stored (filled when parsing)


def parse(data: bytes) -> Dg12:
    values = fields.parse(FILE, TAG, data, TABLE, OTHER_PERSON, "other_persons", {0x5F26: 8, 0x5F55: 14})
    return fields.build(Dg12, values)


def encode(dg12: Dg12) -> bytes:
    return fields.encode(TAG, dg12, TABLE, OTHER_PERSON, "other_persons")
