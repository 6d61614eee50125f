"""A ZhianTec ZFM-family fingerprint module on a serial line, through pyserial.

Chosen over libfprint because the modules are what stand-alone kiosks and gates wire to a UART, and a
serial protocol can be simulated on a pseudo-terminal exactly as the document reader is. The
pyfingerprint package speaks the same protocol but writes uploaded images to files through Pillow;
this driver keeps them in memory and reports every failure as a ScannerError.
"""
from __future__ import annotations

import struct
import time

import numpy as np
import serial

from drivers.devices.fingerprint import protocol
from drivers.devices.fingerprint.protocol import CONFIRMATION, Packet, PacketDecoder, ProtocolError
from drivers.devices.fingerprint.scanner import ScannerError

_POLL = 0.1                 # seconds between GenImg commands while no finger lies on the sensor


class ZfmScanner:
    """`url` is anything serial.serial_for_url opens. `image_size` is what the module's firmware uploads:
    256 x 288 for the common single-finger modules; a slap module on the same framing sends more."""

    def __init__(self, url: str, *, password: int = protocol.DEFAULT_PASSWORD, baudrate: int = 57600,
                 image_size: tuple[int, int] = (protocol.IMAGE_WIDTH, protocol.IMAGE_HEIGHT),
                 reply_timeout: float = 2.0):
        self.image_size = image_size
        self.reply_timeout = reply_timeout
        self._decoder = PacketDecoder()
        self._pending: list[Packet] = []
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ScannerError(f"cannot open fingerprint scanner at {url}: {exc}") from exc
        confirmation = self._call(protocol.command(protocol.VERIFY_PASSWORD, struct.pack(">I", password)))
        if confirmation != protocol.OK:
            self.close()
            raise ScannerError(f"fingerprint scanner refused the password: {_describe(confirmation)}")

    def capture(self, timeout: float = 10.0) -> np.ndarray:
        deadline = time.monotonic() + timeout
        while True:
            confirmation = self._call(protocol.command(protocol.GEN_IMG))
            if confirmation == protocol.OK:
                break
            if confirmation != protocol.NO_FINGER:
                raise ScannerError(f"fingerprint capture failed: {_describe(confirmation)}")
            if time.monotonic() >= deadline:
                raise ScannerError(f"no finger on the scanner within {timeout:g} s")
            time.sleep(_POLL)
        confirmation = self._call(protocol.command(protocol.UP_IMAGE))
        if confirmation != protocol.OK:
            raise ScannerError(f"fingerprint image upload refused: {_describe(confirmation)}")
        data = bytearray()
        while True:
            packet = self._next_packet()
            if packet.kind not in (protocol.DATA, protocol.END_DATA):
                raise ScannerError(f"unexpected packet {packet.kind:#04x} during the image upload")
            data += packet.payload
            if packet.kind == protocol.END_DATA:
                break
        width, height = self.image_size
        try:
            return protocol.unpack_image(bytes(data), width, height)
        except ProtocolError as exc:
            raise ScannerError(f"fingerprint image upload damaged: {exc}") from exc

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> ZfmScanner:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _call(self, packet: Packet) -> int:
        try:
            self._port.write(packet.encode())
        except (serial.SerialException, OSError) as exc:
            raise ScannerError(f"fingerprint scanner link broken: {exc}") from exc
        reply = self._next_packet()
        if reply.kind != protocol.ACK or not reply.payload:
            raise ScannerError(f"fingerprint scanner answered with packet {reply.kind:#04x}, not an acknowledgement")
        return reply.payload[0]

    def _next_packet(self) -> Packet:
        deadline = time.monotonic() + self.reply_timeout
        while not self._pending:
            if time.monotonic() >= deadline:
                raise ScannerError(f"fingerprint scanner did not answer within {self.reply_timeout:g} s")
            try:
                chunk = self._port.read(4096)
                self._pending += self._decoder.feed(chunk)
            except ProtocolError as exc:
                raise ScannerError(f"fingerprint scanner sent a damaged packet: {exc}") from exc
            except (serial.SerialException, OSError) as exc:
                raise ScannerError(f"fingerprint scanner link broken: {exc}") from exc
        return self._pending.pop(0)


def _describe(confirmation: int) -> str:
    return CONFIRMATION.get(confirmation, f"confirmation code {confirmation:#04x}")
