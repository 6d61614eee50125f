"""Shared machinery of DG11 and DG12: a tag list (5C) followed by optional
fields, some text, some dates, some images, plus a count-prefixed template
(A0) of repeated names.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from drivers.emrtd import tlv
from drivers.emrtd.lds.errors import LdsError, parsing, text

TAG_LIST = 0x5C
NAMES_TEMPLATE = 0xA0

Kind = Literal["text", "date", "bytes"]


@dataclass(frozen=True)
class Field:
    tag: int
    attr: str
    kind: Kind


def _bcd(file: str, attr: str, value: bytes) -> str:
    digits = value.hex()
    if not digits.isdigit():
        raise LdsError(file, f"{attr} is neither ASCII nor BCD digits")
    return digits


def decode_date(file: str, attr: str, value: bytes, digits: int) -> str:
    """A date as digits ('19740812'); the chip may store ASCII or packed BCD."""
    if len(value) == digits and value.isdigit():
        return value.decode("ascii")
    if len(value) * 2 == digits:
        return _bcd(file, attr, value)
    raise LdsError(file, f"{attr} must be {digits} digits, got {value!r}")


def tag_list(value: bytes) -> tuple[int, ...]:
    tags = []
    offset = 0
    while offset < len(value):
        tag, offset = tlv.read_tag(value, offset)
        tags.append(tag)
    return tuple(tags)


def parse(file: str, outer_tag: int, data: bytes, table: list[Field], names_tag: int,
          names_attr: str, date_digits: dict[int, int]) -> dict[str, Any]:
    """Field values by attribute name, from a DG11- or DG12-shaped file."""
    by_tag = {f.tag: f for f in table}
    values: dict[str, Any] = {}
    with parsing(file):
        children = tlv.decode_one(data, outer_tag).children()
        if not children or children[0].tag != TAG_LIST:
            raise LdsError(file, "tag list (5C) must come first")
        values["tags"] = tag_list(children[0].value)
        names: list[str] = []
        for child in children[1:]:
            if child.tag == NAMES_TEMPLATE:
                if not child.constructed:
                    raise LdsError(file, "names template (A0) is not constructed")
                names.extend(text(file, names_attr, n.value) for n in child.children() if n.tag == names_tag)
            elif child.tag == names_tag:  # some issuers omit the A0 wrapper
                names.append(text(file, names_attr, child.value))
            elif child.tag in by_tag:
                spec = by_tag[child.tag]
                if spec.kind == "text":
                    values[spec.attr] = text(file, spec.attr, child.value)
                elif spec.kind == "date":
                    values[spec.attr] = decode_date(file, spec.attr, child.value, date_digits[child.tag])
                else:
                    values[spec.attr] = child.value
            # unknown tags are skipped: later LDS versions may add fields
    values[names_attr] = tuple(names)
    return values


def encode(outer_tag: int, record: Any, table: list[Field], names_tag: int, names_attr: str) -> bytes:
    items: list[tuple[int, bytes]] = []
    names = getattr(record, names_attr)
    for spec in table:
        value = getattr(record, spec.attr)
        if value is None:
            continue
        raw = value if spec.kind == "bytes" else value.encode("utf-8")
        items.append((spec.tag, tlv.encode(spec.tag, raw)))
    if names:
        body = tlv.encode(0x02, bytes([len(names)])) + b"".join(
            tlv.encode(names_tag, n.encode("utf-8")) for n in names)
        items.append((names_tag, tlv.encode(NAMES_TEMPLATE, body)))
    tags = b"".join(tag.to_bytes(2, "big") for tag, _ in items)
    return tlv.encode(outer_tag, tlv.encode(TAG_LIST, tags) + b"".join(chunk for _, chunk in items))


def build(cls: type, values: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known})
