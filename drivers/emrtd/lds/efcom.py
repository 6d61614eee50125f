"""EF.COM: LDS version, Unicode version and the list of data groups present."""
from __future__ import annotations

from dataclasses import dataclass

from drivers.emrtd import tlv
from drivers.emrtd.lds.errors import LdsError, parsing
from drivers.emrtd.lds.files import DG_BY_TAG, tag

FILE = "EF.COM"
TAG = 0x60


@dataclass(frozen=True)
class EfCom:
    lds_version: str  # '1.8'
    unicode_version: str  # '4.0.0'
    data_groups: tuple[int, ...]  # data group numbers, in the order listed


def _digits(field: str, value: bytes, size: int) -> list[int]:
    """Split a field of two-digit ASCII groups ('0108' -> [1, 8])."""
    if len(value) != size or not value.isdigit():
        raise LdsError(FILE, f"{field} must be {size} ASCII digits, got {value!r}")
    return [int(value[i:i + 2]) for i in range(0, size, 2)]


def parse(data: bytes) -> EfCom:
    with parsing(FILE):
        com = tlv.decode_one(data, TAG)
        fields = {child.tag: child.value for child in com.children()}
    for needed, name in ((0x5F01, "LDS version (5F01)"), (0x5F36, "Unicode version (5F36)"),
                         (0x5C, "tag list (5C)")):
        if needed not in fields:
            raise LdsError(FILE, f"{name} missing")
    lds = _digits("LDS version", fields[0x5F01], 4)
    uni = _digits("Unicode version", fields[0x5F36], 6)
    groups = []
    for byte in fields[0x5C]:
        if byte not in DG_BY_TAG:
            raise LdsError(FILE, f"tag list names unknown data group tag {byte:02X}")
        groups.append(DG_BY_TAG[byte])
    return EfCom(".".join(map(str, lds)), ".".join(map(str, uni)), tuple(groups))


def _pack(field: str, version: str, parts: int) -> bytes:
    numbers = version.split(".")
    if len(numbers) != parts or not all(n.isdigit() and int(n) < 100 for n in numbers):
        raise LdsError(FILE, f"{field} {version!r} must be {parts} dot-separated numbers below 100")
    return "".join(f"{int(n):02d}" for n in numbers).encode("ascii")


def encode(com: EfCom) -> bytes:
    body = (tlv.encode(0x5F01, _pack("LDS version", com.lds_version, 2))
            + tlv.encode(0x5F36, _pack("Unicode version", com.unicode_version, 3))
            + tlv.encode(0x5C, bytes(tag(dg) for dg in com.data_groups)))
    return tlv.encode(TAG, body)
