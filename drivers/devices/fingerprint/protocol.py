"""The packet framing of ZhianTec ZFM-family optical fingerprint modules (ZFM-20/60, R30x, AS608).

A packet: header EF 01, a 4-byte module address, a packet identifier (command, data, ack or last
data), a 2-byte length counting the payload and the checksum, the payload, and a 2-byte checksum
(the sum of identifier, length and payload bytes). Images travel after an UpImage command as data
packets of 4-bit pixels, two to a byte, high nibble first. Pure: bytes in, packets out.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

HEADER = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
DEFAULT_PASSWORD = 0x00000000
IMAGE_WIDTH, IMAGE_HEIGHT = 256, 288     # the sensor's image at about 500 ppi
DATA_PAYLOAD = 128                        # bytes of image per data packet (the modules' default)
MAX_PAYLOAD = 256

COMMAND, DATA, ACK, END_DATA = 0x01, 0x02, 0x07, 0x08
GEN_IMG, UP_IMAGE, READ_SYS_PARA, VERIFY_PASSWORD = 0x01, 0x0A, 0x0F, 0x13
OK, RECEIVE_ERROR, NO_FINGER, CAPTURE_FAILED, UPLOAD_FAILED, WRONG_PASSWORD = 0x00, 0x01, 0x02, 0x03, 0x0F, 0x13
CONFIRMATION = {OK: "ok", RECEIVE_ERROR: "packet receive error", NO_FINGER: "no finger on the sensor",
                CAPTURE_FAILED: "image capture failed", UPLOAD_FAILED: "image upload failed",
                WRONG_PASSWORD: "wrong password"}


class ProtocolError(ValueError):
    """Bytes on the line that are not a well-formed packet."""


@dataclass(frozen=True)
class Packet:
    kind: int               # COMMAND, DATA, ACK or END_DATA
    payload: bytes
    address: int = DEFAULT_ADDRESS

    def encode(self) -> bytes:
        if len(self.payload) > MAX_PAYLOAD:
            raise ProtocolError(f"payload of {len(self.payload)} bytes over {MAX_PAYLOAD}")
        length = len(self.payload) + 2
        body = struct.pack(">BH", self.kind, length) + self.payload
        return HEADER + struct.pack(">I", self.address) + body + struct.pack(">H", sum(body) & 0xFFFF)


class PacketDecoder:
    """Feed bytes as they arrive; complete packets come out. Bytes before a header are skipped."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Packet]:
        self._buffer += data
        packets = []
        while True:
            start = self._buffer.find(HEADER)
            if start < 0:
                del self._buffer[:max(len(self._buffer) - 1, 0)]
                return packets
            del self._buffer[:start]
            if len(self._buffer) < 9:
                return packets
            address, kind, length = struct.unpack_from(">IBH", self._buffer, 2)
            if kind not in (COMMAND, DATA, ACK, END_DATA) or not 2 <= length <= MAX_PAYLOAD + 2:
                del self._buffer[:2]
                raise ProtocolError(f"packet with identifier {kind:#04x} and length {length} is not valid")
            if len(self._buffer) < 9 + length:
                return packets
            body = bytes(self._buffer[6:9 + length - 2])
            (checksum,) = struct.unpack_from(">H", self._buffer, 9 + length - 2)
            del self._buffer[:9 + length]
            if sum(body) & 0xFFFF != checksum:
                raise ProtocolError("packet checksum does not match")
            packets.append(Packet(kind, body[3:], address))


def command(code: int, *arguments: bytes) -> Packet:
    return Packet(COMMAND, bytes([code]) + b"".join(arguments))


def ack(code: int, extra: bytes = b"") -> Packet:
    return Packet(ACK, bytes([code]) + extra)


def pack_image(image: np.ndarray) -> bytes:
    """8-bit grey to the modules' 4-bit pixels, two to a byte, high nibble first."""
    nibbles = (image >> 4).astype(np.uint8).ravel()
    if len(nibbles) % 2:
        raise ProtocolError("an image of an odd number of pixels cannot be packed")
    return (nibbles[0::2] << 4 | nibbles[1::2]).tobytes()


def unpack_image(data: bytes, width: int, height: int) -> np.ndarray:
    if len(data) * 2 != width * height:
        raise ProtocolError(f"image data of {len(data)} bytes for {width}x{height} 4-bit pixels")
    packed = np.frombuffer(data, np.uint8)
    nibbles = np.empty(len(packed) * 2, np.uint8)
    nibbles[0::2], nibbles[1::2] = packed >> 4, packed & 0x0F
    return (nibbles * 17).reshape(height, width)        # 0..15 spread over 0..255


def data_packets(data: bytes, size: int = DATA_PAYLOAD) -> list[Packet]:
    chunks = [data[i:i + size] for i in range(0, len(data), size)] or [b""]
    return [Packet(DATA if i < len(chunks) - 1 else END_DATA, chunk) for i, chunk in enumerate(chunks)]
