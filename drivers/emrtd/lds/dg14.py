"""DG14, security options (Doc 9303 Part 10 section 4.7.14): the SecurityInfos
of Chip Authentication, PACE and Active Authentication with ECDSA, signed
through the SOD. Chip Authentication trusts the public key found here."""
from __future__ import annotations

from dataclasses import dataclass, field

from drivers.emrtd import tlv
from drivers.emrtd.lds.cardaccess import (
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfo,
    encode_security_infos,
    parse_security_infos,
)
from drivers.emrtd.lds.errors import LdsError, parsing
from drivers.emrtd.lds.files import tag

TAG = tag(14)


@dataclass(frozen=True)
class Dg14:
    infos: tuple[SecurityInfo, ...]
    data: bytes = field(repr=False)  # the whole file, as hashed in the SOD

    @property
    def chip_authentication(self) -> tuple[ChipAuthenticationInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, ChipAuthenticationInfo))

    @property
    def chip_authentication_keys(self) -> tuple[ChipAuthenticationPublicKeyInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, ChipAuthenticationPublicKeyInfo))

    @property
    def active_authentication(self) -> ActiveAuthenticationInfo | None:
        return next((i for i in self.infos if isinstance(i, ActiveAuthenticationInfo)), None)


def parse(data: bytes) -> Dg14:
    with parsing("DG14"):
        outer = tlv.decode_one(data)
    if outer.tag != TAG:
        raise LdsError("DG14", f"outer tag {outer.tag:X} is not {TAG:X}")
    return Dg14(tuple(parse_security_infos(outer.value, "DG14")), bytes(data))


def encode(infos: list[bytes]) -> bytes:
    """DG14 around DER SecurityInfo values."""
    return tlv.encode(TAG, encode_security_infos(infos))
