"""Data groups Limes reads but does not interpret (DG3 fingerprints, DG5
portrait, DG7 signature, ...), kept as stored with their outer tag checked."""
from __future__ import annotations

from dataclasses import dataclass

from drivers.emrtd import tlv
from drivers.emrtd.lds.errors import LdsError, parsing
from drivers.emrtd.lds.files import tag


@dataclass(frozen=True)
class RawDataGroup:
    number: int
    value: bytes  # the content inside the outer tag
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
