"""Data groups kept as stored: DG14 (chip authentication / PACE info) and
DG15 (active authentication public key) are consumed by the chip protocols,
which need the exact bytes rather than a parsed view."""
from __future__ import annotations

from dataclasses import dataclass

from drivers import tlv
from drivers.lds.errors import LdsError, parsing
from drivers.lds.files import tag


@dataclass(frozen=True)
class RawDataGroup:
    number: int
    value: bytes  # the content inside the outer tag (SecurityInfos for DG14, SubjectPublicKeyInfo for DG15)
    data: bytes  # the whole file, as hashed in the SOD

    @property
    def tag(self) -> int:
        return tag(self.number)


def parse(number: int, data: bytes) -> RawDataGroup:
    file = f"DG{number}"
    with parsing(file):
        outer = tlv.decode_one(data)
    if outer.tag != tag(number):
        raise LdsError(file, f"outer tag {outer.tag:X} is not {tag(number):X}")
    return RawDataGroup(number, outer.value, bytes(data))


def parse_dg14(data: bytes) -> RawDataGroup:
    return parse(14, data)


def parse_dg15(data: bytes) -> RawDataGroup:
    return parse(15, data)
