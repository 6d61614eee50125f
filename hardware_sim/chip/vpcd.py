"""A virtual card for vsmartcard's vpcd reader driver.

pcscd's vpcd driver listens on a TCP port; the virtual card connects to it
(that is 'inserting' the card) and answers its messages, each a 2-byte
big-endian length and a payload. A 1-byte payload is a control code, any
longer one a command APDU to answer with the response APDU. Closing the
connection is 'removing' the card.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Protocol

from drivers.emrtd.iso7816.transceiver import TransportError

VPCD_PORT = 35963  # the port in Debian's /etc/reader.conf.d/vpcd
CONTROL_POWER_OFF = 0x00
CONTROL_POWER_ON = 0x01
CONTROL_RESET = 0x02
CONTROL_GET_ATR = 0x04


class Card(Protocol):
    atr: bytes

    def process(self, apdu: bytes) -> bytes: ...

    def reset(self) -> None: ...


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        data += chunk
    return data


class VpcdCard:
    """Puts a card (e.g. VirtualChip) into the vpcd reader at host:port."""

    def __init__(self, card: Card, port: int = VPCD_PORT, host: str = "127.0.0.1") -> None:
        self.card = card
        self.address = (host, port)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.error: Exception | None = None  # why serving stopped, if not by remove()

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to the driver (retrying while pcscd is still starting) and serve it."""
        if self._sock is not None:
            # A second connection would leave the first serving: the reader would never see the card go.
            raise RuntimeError("the card is already inserted")
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=1.0)
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise TransportError(f"vpcd not listening on {self.address[0]}:{self.address[1]}: {error}")
                time.sleep(0.05)
        sock.settimeout(None)
        # One APDU is one small message each way: without these, Nagle and
        # delayed ACKs add ~40 ms to every exchange with the driver.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self.error = None
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="vpcd-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already disconnected by the other side
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                (length,) = struct.unpack(">H", _receive_exactly(sock, 2))
                message = _receive_exactly(sock, length)
                reply = self._answer(message)
                if reply is not None:
                    sock.sendall(struct.pack(">H", len(reply)) + reply)
        except TransportError as error:  # the card itself left (a removal fault)
            self.error = error
            sock.close()
        except OSError as error:  # remove() or pcscd went away
            if self._sock is sock:
                self.error = error

    def _answer(self, message: bytes) -> bytes | None:
        if len(message) == 1:
            if message[0] == CONTROL_GET_ATR:
                return self.card.atr
            if message[0] in (CONTROL_POWER_OFF, CONTROL_POWER_ON, CONTROL_RESET):
                self.card.reset()
                return None
            raise ConnectionError(f"unknown vpcd control code {message[0]}")
        return self.card.process(message)

    def __enter__(self) -> "VpcdCard":
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
