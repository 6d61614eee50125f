"""The document reader's serial framing, as pure bytes-in, events-out code.

Wire format (both directions):

    STX  KIND  SEQ  PAYLOAD...  ETX  CK CK

    STX 0x02, ETX 0x03.
    KIND      one ASCII letter, see FrameKind.
    SEQ       b'0' or b'1': the alternating bit of a stop-and-wait link. A sender
              flips it for every new frame and keeps it on retransmission, so a
              receiver that already took a frame recognises the copy.
    PAYLOAD   printable ASCII (0x20-0x7E) and CR (0x0D) only; MRZ lines are separated
              by CR. At most MAX_PAYLOAD bytes.
    CK CK     the XOR of every byte from KIND to ETX inclusive, as two uppercase hex
              digits. Keeping it printable means STX, ETX, ACK and NAK never occur
              inside a frame, so a receiver can always find the next frame again.

Outside frames, the single bytes ACK 0x06 and NAK 0x15 acknowledge the last frame
received. Any other byte outside a frame is line noise and is discarded.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

STX = 0x02
ETX = 0x03
ACK = 0x06
NAK = 0x15
CR = 0x0D
MAX_PAYLOAD = 512


class FrameKind(str, enum.Enum):
    MRZ = "M"        # reader -> host: the MRZ lines of the document on the window
    STATUS = "S"     # reader -> host: a Status letter, then for ERROR a description
    INQUIRY = "I"    # host -> reader: "how are you?"; the reader answers with STATUS
    IMAGE = "G"      # reader -> host: a chunk of a page image (drivers.devices.docreader.images)


class Status(str, enum.Enum):
    READY = "Y"      # no document on the window
    PRESENT = "P"    # a document was placed; its MRZ frame follows once read
    REMOVED = "R"    # the document was taken away
    ERROR = "E"      # the reader cannot read (payload continues with the reason)


class FrameError(ValueError):
    """A frame that cannot be put on the wire."""


@dataclass(frozen=True)
class Frame:
    kind: str          # one letter; FrameKind for the kinds this protocol defines
    seq: int           # 0 or 1
    payload: bytes = b""

    def encode(self) -> bytes:
        if len(self.kind) != 1 or not self.kind.isascii() or not self.kind.isalpha():
            raise FrameError(f"frame kind must be one ASCII letter, got {self.kind!r}")
        if self.seq not in (0, 1):
            raise FrameError(f"sequence bit must be 0 or 1, got {self.seq!r}")
        if len(self.payload) > MAX_PAYLOAD:
            raise FrameError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        bad = next((byte for byte in self.payload if not _payload_byte(byte)), None)
        if bad is not None:
            raise FrameError(f"payload byte 0x{bad:02X} is not printable ASCII or CR")
        body = self.kind.encode("ascii") + str(self.seq).encode("ascii") + self.payload + bytes([ETX])
        return bytes([STX]) + body + f"{checksum(body):02X}".encode("ascii")


def checksum(body: bytes) -> int:
    value = 0
    for byte in body:
        value ^= byte
    return value


def _payload_byte(byte: int) -> bool:
    return 0x20 <= byte <= 0x7E or byte == CR


def mrz_frame(mrz_text: str, seq: int) -> Frame:
    lines = [line.strip() for line in mrz_text.strip().splitlines()]
    return Frame(FrameKind.MRZ.value, seq, "\r".join(lines).encode("ascii", "replace"))


def mrz_text(frame: Frame) -> str:
    return "\n".join(frame.payload.decode("ascii").split("\r"))


def status_frame(status: Status, seq: int, detail: str = "") -> Frame:
    return Frame(FrameKind.STATUS.value, seq, (status.value + detail).encode("ascii", "replace"))


def read_status(frame: Frame) -> tuple[Status | None, str]:
    """(status, detail) of a STATUS frame; status None for a letter this side does not know."""
    text = frame.payload.decode("ascii")
    try:
        return Status(text[:1]), text[1:]
    except ValueError:
        return None, text


@dataclass(frozen=True)
class Control:
    """A lone ACK or NAK byte."""

    byte: int

    @property
    def is_ack(self) -> bool:
        return self.byte == ACK


@dataclass(frozen=True)
class Garbled:
    """A frame that started but cannot be trusted; the receiver should NAK it."""

    reason: str
    raw: bytes


@dataclass(frozen=True)
class Noise:
    """Bytes outside any frame, discarded."""

    raw: bytes


Event = Frame | Control | Garbled | Noise


class FrameDecoder:
    """Turns a byte stream into frames, resynchronising on the next STX after any fault."""

    def __init__(self) -> None:
        self._frame: bytearray | None = None   # bytes since STX, STX excluded
        self._check: bytearray | None = None   # checksum digits after ETX

    @property
    def in_frame(self) -> bool:
        """True between STX and the last checksum digit: a silence now means a lost tail."""
        return self._frame is not None

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        noise = bytearray()
        for byte in data:
            if self._frame is not None:
                if self._inside(byte, events):
                    continue
                # The byte broke the frame; it may still be an ACK, NAK or a new STX.
            if byte not in (STX, ACK, NAK):
                noise.append(byte)
                continue
            if noise:
                events.append(Noise(bytes(noise)))
                noise.clear()
            if byte == STX:
                self._start()
            else:
                events.append(Control(byte))
        if noise:
            events.append(Noise(bytes(noise)))
        return events

    def _inside(self, byte: int, events: list[Event]) -> bool:
        """Take one byte of the current frame; False when it ended the frame as garbled
        and must be looked at again from outside a frame."""
        assert self._frame is not None
        if byte == STX:
            events.append(self._garbled("frame cut short by a new STX"))
            return False
        if self._check is not None:
            if not _payload_byte(byte) or byte == CR:
                events.append(self._garbled(f"control byte 0x{byte:02X} in the checksum"))
                return False
            self._check.append(byte)
            if len(self._check) == 2:
                events.append(self._finish())
        elif byte == ETX:
            self._frame.append(byte)
            self._check = bytearray()
        elif not _payload_byte(byte):
            events.append(self._garbled(f"control byte 0x{byte:02X} inside a frame"))
            return False
        elif len(self._frame) >= MAX_PAYLOAD + 2:
            events.append(self._garbled(f"no ETX within {MAX_PAYLOAD + 2} bytes"))
            return False
        else:
            self._frame.append(byte)
        return True

    def expire(self) -> Garbled | None:
        """Give up on a frame whose tail never came (called after an inter-byte timeout)."""
        if self._frame is None:
            return None
        return self._garbled("frame incomplete when the line fell silent")

    def _start(self) -> None:
        self._frame = bytearray()
        self._check = None

    def _garbled(self, reason: str) -> Garbled:
        raw = bytes([STX]) + bytes(self._frame or b"") + bytes(self._check or b"")
        self._frame = self._check = None
        return Garbled(reason, raw)

    def _finish(self) -> Frame | Garbled:
        body, digits = bytes(self._frame), bytes(self._check)
        try:
            printed = int(digits.decode("ascii"), 16) if digits.isalnum() else None
        except ValueError:
            printed = None
        if printed is None:
            return self._garbled(f"checksum {digits!r} is not two hex digits")
        if printed != checksum(body):
            return self._garbled(f"checksum is {printed:02X}, computed {checksum(body):02X}")
        if len(body) < 3 or not chr(body[0]).isalpha() or body[1:2] not in (b"0", b"1"):
            return self._garbled("frame lacks a kind letter and a 0/1 sequence bit")
        self._frame = self._check = None
        return Frame(chr(body[0]), body[1] - ord("0"), body[2:-1])
