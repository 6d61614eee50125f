"""Transports that carry APDU bytes to a card and back.

Every layer (a PC/SC reader, secure messaging, an in-memory virtual chip)
implements the same one-method `Transceiver` protocol, so layers stack as
decorators and protocol code never knows which transport it talks to.
"""
from __future__ import annotations

from typing import Callable, Protocol

from drivers.emrtd.iso7816.apdu import ApduError, CommandApdu, ResponseApdu

# A card that keeps answering 61XX forever must not hang the reader.
MAX_GET_RESPONSE = 64


class TransportError(Exception):
    """The link to the card broke: card removed, reader gone, socket closed."""


class Transceiver(Protocol):
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU, return the response APDU (data + SW1 SW2)."""
        ...


class CallableTransceiver:
    """Adapts a function bytes -> bytes (e.g. VirtualChip.process) for tests."""

    def __init__(self, function: Callable[[bytes], bytes]) -> None:
        self._function = function

    def transmit(self, apdu: bytes) -> bytes:
        return self._function(apdu)


class ResponseChaining:
    """Hides the T=0 conventions 61XX (fetch the rest with GET RESPONSE) and
    6CXX (resend with the exact Le) from the layers above."""

    def __init__(self, inner: Transceiver) -> None:
        self.inner = inner

    def transmit(self, apdu: bytes) -> bytes:
        response = ResponseApdu.parse(self.inner.transmit(apdu))
        if response.sw1 == 0x6C:
            command = CommandApdu.parse(apdu)
            resent = CommandApdu(command.cla, command.ins, command.p1, command.p2,
                                 command.data, ne=response.sw2 or 0x100)
            response = ResponseApdu.parse(self.inner.transmit(resent.encode()))
        data = response.data
        for _ in range(MAX_GET_RESPONSE):
            if response.sw1 != 0x61:
                return data + bytes([response.sw1, response.sw2])
            get_response = CommandApdu(apdu[0] & 0x03, 0xC0, 0, 0, ne=response.sw2 or 0x100)
            response = ResponseApdu.parse(self.inner.transmit(get_response.encode()))
            data += response.data
        raise ApduError(f"card still chaining after {MAX_GET_RESPONSE} GET RESPONSE commands")


def send(transceiver: Transceiver, command: CommandApdu) -> ResponseApdu:
    """Transmit a command and parse the answer."""
    return ResponseApdu.parse(transceiver.transmit(command.encode()))
