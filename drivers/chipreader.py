"""Read an eMRTD chip: select the LDS application, run BAC, then read EF.COM,
the requested data groups and EF.SOD under secure messaging.

`read_chip` returns the raw bytes of every file it could read together with
one StepResult per step (outcome and timing). A data group the chip does not
have is recorded as 'absent' and the read goes on; anything that makes the
rest of the read meaningless (link lost, BAC refused, a response that fails
its MAC, an answer that is not ISO 7816) raises a ChipReadError subclass that
carries the partial result.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal, TypeVar

from drivers import tlv
from drivers.bac import BacError, perform_bac
from drivers.iso7816.apdu import ApduError, CommandApdu, ResponseApdu, StatusError
from drivers.iso7816.atr import supports_extended_length
from drivers.iso7816.secure_messaging import SecureMessagingError, SecureMessagingTransceiver
from drivers.iso7816.transceiver import ResponseChaining, Transceiver, TransportError, send

EMRTD_AID = bytes.fromhex("A0000002471001")
EF_COM = 0x011E
EF_SOD = 0x011D
DG1, DG2 = 0x0101, 0x0102
DEFAULT_FILES = (DG1, DG2)
T = TypeVar("T")

# Plain chunk for short APDUs: its protected answer (DO'87' with padding,
# DO'99', DO'8E': 242 bytes) fits Le 00 = 256 with room to spare; 0xE7 would
# be the exact limit, but some chips and readers stumble near it.
SHORT_BLOCK = 0xDF
# Extended reads stay well under 64 KiB so the protected answer fits too.
EXTENDED_BLOCK = 0xF000
HEADER_PROBE = 8  # enough for a two-byte tag and a four-byte length
MAX_OFFSET_B0 = 0x7FFF  # READ BINARY B0 encodes the offset in 15 bits; beyond it B1 is used
ODD_INS_OVERHEAD = 4  # the DO'53' header around B1 content (tag, 82, two length bytes)
MAX_FILE_SIZE = 1 << 20  # a header claiming more is garbage, not a photo


def file_name(file_id: int) -> str:
    if file_id == EF_COM:
        return "EF.COM"
    if file_id == EF_SOD:
        return "EF.SOD"
    if 0x0101 <= file_id <= 0x0110:
        return f"DG{file_id - 0x0100}"
    return f"EF {file_id:04X}"


@dataclass(frozen=True)
class StepResult:
    name: str
    outcome: Literal["ok", "absent", "failed"]  # absent: the chip has no such file
    seconds: float
    detail: str = ""


@dataclass
class ChipRead:
    files: dict[int, bytes] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    extended_length: bool = False

    @property
    def ok(self) -> bool:
        return all(step.outcome != "failed" for step in self.steps)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


class ChipReadError(Exception):
    """The read had to stop; `partial` holds what was read until then."""

    def __init__(self, step: str, reason: str, partial: ChipRead) -> None:
        self.step = step
        self.partial = partial
        super().__init__(f"{step}: {reason}")


class ChipLinkError(ChipReadError):
    """The card or reader went away (card removed, reader unplugged)."""


class AccessControlError(ChipReadError):
    """BAC failed: most often a wrong MRZ key."""


class ChipIntegrityError(ChipReadError):
    """A protected answer failed its MAC or the chip dropped secure messaging."""


class ChipProtocolError(ChipReadError):
    """The chip answered something that is not valid ISO 7816 / ICAO 9303."""


def _classify(error: Exception) -> type[ChipReadError]:
    if isinstance(error, TransportError):
        return ChipLinkError
    if isinstance(error, BacError):
        return AccessControlError
    if isinstance(error, SecureMessagingError):
        return ChipIntegrityError
    return ChipProtocolError


_EXPECTED_ERRORS = (TransportError, BacError, SecureMessagingError, ApduError, StatusError, tlv.TlvError)


class FileReader:
    """READ BINARY of whole files over one (secure) channel."""

    def __init__(self, channel: Transceiver, block: int) -> None:
        self.channel = channel
        self.block = block

    def select(self, file_id: int) -> None:
        send(self.channel, CommandApdu(0x00, 0xA4, 0x02, 0x0C, file_id.to_bytes(2, "big"))).check(
            f"SELECT {file_name(file_id)}")

    def read_binary(self, offset: int, length: int) -> bytes:
        if offset > MAX_OFFSET_B0:
            return self._read_binary_odd(offset, length)
        response = send(self.channel, CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=length))
        return self._chunk(response, offset, length)

    def _read_binary_odd(self, offset: int, length: int) -> bytes:
        """READ BINARY B1: the offset travels in DO'54', the content comes back in DO'53'."""
        offset_object = tlv.encode(0x54, offset.to_bytes((offset.bit_length() + 7) // 8, "big"))
        asked = length + ODD_INS_OVERHEAD
        response = send(self.channel, CommandApdu(0x00, 0xB1, 0x00, 0x00, offset_object, ne=asked))
        # Ne counts the DO'53' header too, so the chip may fit a few more content bytes than asked.
        content = tlv.decode_one(self._chunk(response, offset, asked), 0x53).value
        if not content:
            raise ApduError(f"READ BINARY B1 at offset {offset} returned no content")
        return content

    @staticmethod
    def _chunk(response: ResponseApdu, offset: int, length: int) -> bytes:
        if response.sw not in (0x9000, 0x6282):  # 6282: end of file before Ne bytes
            raise StatusError(response.sw, f"READ BINARY at offset {offset}")
        if not response.data or len(response.data) > length:
            raise ApduError(f"READ BINARY at offset {offset} returned {len(response.data)} bytes for {length} asked")
        return response.data

    def read_file(self, file_id: int) -> bytes:
        self.select(file_id)
        content = self.read_binary(0, HEADER_PROBE)
        total = tlv.total_length(content)
        if total > MAX_FILE_SIZE:
            raise ApduError(f"{file_name(file_id)} claims {total} bytes, more than any LDS file ({MAX_FILE_SIZE})")
        while len(content) < total:
            content += self.read_binary(len(content), min(self.block, total - len(content)))
        return content[:total]


def read_chip(transceiver: Transceiver, mrz_key: str, *, files: Iterable[int] = DEFAULT_FILES,
              extended_length: bool | None = None,
              clock: Callable[[], float] = time.perf_counter) -> ChipRead:
    """Read EF.COM, `files` and EF.SOD; extended_length None means 'as the ATR says'."""
    if extended_length is None:
        atr = getattr(transceiver, "atr", None)
        try:
            extended_length = bool(atr) and supports_extended_length(atr)
        except ApduError:
            extended_length = False
    result = ChipRead(extended_length=extended_length)
    chained = ResponseChaining(transceiver)

    def step(name: str, action: Callable[[], T]) -> T:
        started = clock()
        try:
            value = action()
        except _EXPECTED_ERRORS as error:
            result.steps.append(StepResult(name, "failed", clock() - started, str(error)))
            raise _classify(error)(name, str(error), result) from error
        result.steps.append(StepResult(name, "ok", clock() - started))
        return value

    step("select eMRTD application",
         lambda: send(chained, CommandApdu(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check("SELECT eMRTD application"))
    keys = step("basic access control", lambda: perform_bac(chained, mrz_key))
    reader = FileReader(SecureMessagingTransceiver(chained, keys.secure_messaging()),
                        EXTENDED_BLOCK if extended_length else SHORT_BLOCK)

    for file_id in dict.fromkeys([EF_COM, *files, EF_SOD]):
        name = f"read {file_name(file_id)}"
        started = clock()
        try:
            result.files[file_id] = step(name, lambda: reader.read_file(file_id))
        except ChipProtocolError as error:
            cause = error.__cause__
            if not isinstance(cause, StatusError):
                raise
            # A protected status error leaves the session intact: note it and go on.
            result.steps[-1] = StepResult(name, "absent" if cause.sw == 0x6A82 else "failed",
                                          clock() - started, str(cause))
    return result
