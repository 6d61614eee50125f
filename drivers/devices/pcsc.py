"""PC/SC access to contactless readers through pcscd (pyscard's low-level API).

`PcscTransceiver` is the Transceiver for a real (or vpcd-virtual) reader; it
turns every PC/SC failure into a TransportError subclass that names the
reason, so the chip reader above never sees pyscard's exceptions.
"""
from __future__ import annotations

import time

from smartcard import scard

from drivers.emrtd.iso7816.transceiver import TransportError

_NO_SERVICE = scard.SCARD_E_NO_SERVICE & 0xFFFFFFFF
_NO_READERS = scard.SCARD_E_NO_READERS_AVAILABLE & 0xFFFFFFFF
_TIMEOUT = scard.SCARD_E_TIMEOUT & 0xFFFFFFFF
_CARD_GONE = {code & 0xFFFFFFFF for code in (
    scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD,
    scard.SCARD_W_UNPOWERED_CARD, scard.SCARD_W_UNRESPONSIVE_CARD)}
_POLL_SLICE_MS = 200  # GetStatusChange slices, so a long wait stays interruptible


class PcscError(TransportError):
    """A PC/SC call failed; `code` is the PC/SC return code."""

    def __init__(self, operation: str, code: int) -> None:
        self.code = code & 0xFFFFFFFF
        super().__init__(f"{operation}: {scard.SCardGetErrorMessage(code)} (0x{self.code:08X})")


class PcscdNotRunning(PcscError):
    def __init__(self, operation: str, code: int) -> None:
        super().__init__(operation, code)
        self.args = (f"{self.args[0]}: pcscd is not running (start it with `pcscd`, "
                     "or hardware_sim.pcscd for the virtual reader)",)


class CardAbsent(TransportError):
    """No card arrived in the reader in time, or it was taken away."""


def _check(operation: str, code: int) -> None:
    code &= 0xFFFFFFFF
    if code == scard.SCARD_S_SUCCESS:
        return
    if code == _NO_SERVICE:
        raise PcscdNotRunning(operation, code)
    if code in _CARD_GONE:
        raise CardAbsent(f"{operation}: card removed or not present ({scard.SCardGetErrorMessage(code)})")
    raise PcscError(operation, code)


class _Context:
    def __enter__(self) -> int:
        code, self.handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check("establish PC/SC context", code)
        return self.handle

    def __exit__(self, *exc: object) -> None:
        scard.SCardReleaseContext(self.handle)


def list_readers() -> list[str]:
    """Names of the readers pcscd knows; [] when there are none."""
    with _Context() as context:
        code, readers = scard.SCardListReaders(context, [])
        if code & 0xFFFFFFFF == _NO_READERS:
            return []
        _check("list readers", code)
        return list(readers)


def _wait_for_state(reader: str, timeout: float, present: bool) -> bytes:
    deadline = time.monotonic() + timeout
    with _Context() as context:
        state = scard.SCARD_STATE_UNAWARE
        while True:
            remaining = deadline - time.monotonic()
            slice_ms = max(0, min(_POLL_SLICE_MS, int(remaining * 1000)))
            code, states = scard.SCardGetStatusChange(context, slice_ms, [(reader, state)])
            if code & 0xFFFFFFFF != _TIMEOUT:
                _check(f"watch reader {reader!r}", code)
                _, state, atr = states[0]
                usable = bool(state & scard.SCARD_STATE_PRESENT) and not state & scard.SCARD_STATE_MUTE
                if usable == present:
                    return bytes(atr)
                state &= ~scard.SCARD_STATE_CHANGED
            if remaining <= 0:
                wanted = "no card in" if present else "card still in"
                raise CardAbsent(f"{wanted} {reader!r} after {timeout:.1f} s")


def wait_for_card(reader: str, timeout: float) -> bytes:
    """Block until a card is in `reader`; return its ATR or raise CardAbsent."""
    return _wait_for_state(reader, timeout, present=True)


def wait_for_removal(reader: str, timeout: float) -> None:
    """Block until `reader` is empty (the traveller took the document back)."""
    _wait_for_state(reader, timeout, present=False)


class PcscTransceiver:
    """A Transceiver over one PC/SC reader; use as a context manager or call
    connect()/close().

    The connection is shared (other clients may watch the reader), but holds a
    PC/SC transaction from connect() to close(): another client's command
    between ours would end the chip's secure-messaging session mid-read, so
    pcscd makes it wait until this read is done.
    """

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.atr = b""
        self._context: int | None = None
        self._card: int | None = None
        self._protocol = 0

    def connect(self) -> "PcscTransceiver":
        code, self._context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        _check("establish PC/SC context", code)
        code, card, self._protocol = scard.SCardConnect(
            self._context, self.reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        if code != scard.SCARD_S_SUCCESS:
            self.close()
            _check(f"connect to {self.reader!r}", code)
        self._card = card
        code = scard.SCardBeginTransaction(self._card)
        if code != scard.SCARD_S_SUCCESS:
            self.close()
            _check(f"hold {self.reader!r} for this read", code)
        code, _, _, _, atr = scard.SCardStatus(self._card)
        _check("read card status", code)
        self.atr = bytes(atr)
        return self

    def transmit(self, apdu: bytes) -> bytes:
        if self._card is None:
            raise TransportError(f"not connected to {self.reader!r}")
        code, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        _check("transmit", code)
        if len(response) < 2:
            # vpcd and some readers report a card that left mid-command this way.
            raise CardAbsent(f"{self.reader!r} returned {len(response)} bytes: card removed or link broken")
        return bytes(response)

    def close(self) -> None:
        if self._card is not None:
            scard.SCardEndTransaction(self._card, scard.SCARD_LEAVE_CARD)  # fails harmlessly if never begun
            scard.SCardDisconnect(self._card, scard.SCARD_LEAVE_CARD)
            self._card = None
        if self._context is not None:
            scard.SCardReleaseContext(self._context)
            self._context = None

    def __enter__(self) -> "PcscTransceiver":
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()
