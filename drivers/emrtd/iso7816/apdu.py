"""ISO/IEC 7816-4 command and response APDUs.

A CommandApdu encodes itself in short form when its data and expected length
fit (Lc <= 255, Ne <= 256) and in extended form otherwise, or when asked to.
The same class parses APDUs so the virtual chip and the reader share one
definition of the wire format.
"""
from __future__ import annotations

from dataclasses import dataclass

SW_OK = 0x9000

# The status words an eMRTD reader meets, with the meaning ISO 7816-4 gives them.
STATUS_MEANINGS: dict[int, str] = {
    0x6282: "end of file reached before reading Ne bytes",
    0x6700: "wrong length",
    0x6882: "secure messaging not supported",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6987: "expected secure messaging data objects missing",
    0x6988: "incorrect secure messaging data objects",
    0x6A80: "incorrect parameters in the data field",
    0x6A82: "file or application not found",
    0x6A86: "incorrect parameters P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters (offset outside the EF)",
    0x6D00: "instruction code not supported or invalid",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def status_meaning(sw: int) -> str:
    if sw in STATUS_MEANINGS:
        return STATUS_MEANINGS[sw]
    sw1 = sw >> 8
    if sw1 == 0x61:
        return f"{sw & 0xFF} more response bytes available"
    if sw1 == 0x6C:
        return f"wrong Le, exact length is {sw & 0xFF}"
    if sw1 == 0x63:
        return "warning, non-volatile memory changed"
    return "unknown status"


class ApduError(ValueError):
    """Bytes that are not a well-formed APDU, or an APDU that cannot be encoded."""


class StatusError(Exception):
    """The card answered with a status word other than 9000."""

    def __init__(self, sw: int, context: str = "") -> None:
        self.sw = sw
        self.meaning = status_meaning(sw)
        prefix = f"{context}: " if context else ""
        super().__init__(f"{prefix}status {sw:04X} ({self.meaning})")


@dataclass(frozen=True)
class CommandApdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None  # expected response length; 256 (short) / 65536 (extended) mean "all"
    extended: bool = False  # force extended length even when short would do

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ApduError(f"{name} must be one byte, got {value}")
        if len(self.data) > 0xFFFF:
            raise ApduError(f"data of {len(self.data)} bytes exceeds extended Lc")
        if self.ne is not None and not 1 <= self.ne <= 0x10000:
            raise ApduError(f"ne must be 1..65536, got {self.ne}")

    @property
    def uses_extended(self) -> bool:
        return self.extended or len(self.data) > 0xFF or (self.ne is not None and self.ne > 0x100)

    def encode(self) -> bytes:
        header = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.uses_extended:
            body = b""
            if self.data:
                body += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.ne is not None:
                le = (self.ne % 0x10000).to_bytes(2, "big")
                body += le if self.data else b"\x00" + le
            return header + body
        body = b""
        if self.data:
            body += bytes([len(self.data)]) + self.data
        if self.ne is not None:
            body += bytes([self.ne % 0x100])
        return header + body

    @classmethod
    def parse(cls, raw: bytes) -> "CommandApdu":
        """Decode the four ISO 7816-3 cases in short and extended form."""
        if len(raw) < 4:
            raise ApduError(f"command APDU of {len(raw)} bytes is shorter than its header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:  # case 2 short
            return cls(cla, ins, p1, p2, ne=body[0] or 0x100)
        if body[0] != 0:  # short with Lc
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(cla, ins, p1, p2, body[1:])
            if len(body) == 2 + lc:
                return cls(cla, ins, p1, p2, body[1:1 + lc], ne=body[-1] or 0x100)
            raise ApduError(f"Lc {lc} does not match a body of {len(body)} bytes")
        # extended: body starts with 00
        if len(body) == 3:  # case 2 extended
            return cls(cla, ins, p1, p2, ne=int.from_bytes(body[1:3], "big") or 0x10000, extended=True)
        if len(body) < 3:
            raise ApduError(f"truncated extended length in a body of {len(body)} bytes")
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise ApduError("extended Lc of zero")
        if len(body) == 3 + lc:
            return cls(cla, ins, p1, p2, body[3:], extended=True)
        if len(body) == 5 + lc:
            ne = int.from_bytes(body[-2:], "big") or 0x10000
            return cls(cla, ins, p1, p2, body[3:3 + lc], ne=ne, extended=True)
        raise ApduError(f"extended Lc {lc} does not match a body of {len(body)} bytes")


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        return self.sw1 << 8 | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def check(self, context: str = "") -> "ResponseApdu":
        """Return self when the status is 9000, else raise StatusError."""
        if not self.ok:
            raise StatusError(self.sw, context)
        return self

    def encode(self) -> bytes:
        return self.data + bytes([self.sw1, self.sw2])

    @classmethod
    def parse(cls, raw: bytes) -> "ResponseApdu":
        if len(raw) < 2:
            raise ApduError(f"response APDU of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), raw[-2], raw[-1])

    @classmethod
    def status(cls, sw: int, data: bytes = b"") -> "ResponseApdu":
        return cls(data, sw >> 8, sw & 0xFF)
