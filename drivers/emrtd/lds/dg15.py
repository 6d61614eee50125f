"""DG15, the Active Authentication public key (Doc 9303 Part 10 section
4.7.15): a SubjectPublicKeyInfo, RSA or EC."""
from __future__ import annotations

from dataclasses import dataclass, field

from drivers.emrtd import tlv
from drivers.emrtd.lds.errors import LdsError, parsing
from drivers.emrtd.lds.files import tag
from drivers.emrtd.lds.publickey import ChipPublicKey, parse_public_key

TAG = tag(15)


@dataclass(frozen=True)
class Dg15:
    public_key: ChipPublicKey
    data: bytes = field(repr=False)


def parse(data: bytes) -> Dg15:
    with parsing("DG15"):
        outer = tlv.decode_one(data)
    if outer.tag != TAG:
        raise LdsError("DG15", f"outer tag {outer.tag:X} is not {TAG:X}")
    key = parse_public_key(outer.value, "DG15")
    if key.algorithm == "dh":
        raise LdsError("DG15", "a DH key cannot sign: Active Authentication needs RSA or EC")
    return Dg15(key, bytes(data))


def encode(public_key_info: bytes) -> bytes:
    return tlv.encode(TAG, public_key_info)
