"""Answer-to-reset parsing (ISO/IEC 7816-3) as far as a reader needs it: the
historical bytes, and in them the card capabilities that say whether the card
accepts extended Lc/Le fields (ISO/IEC 7816-4, 'third software function table')."""
from __future__ import annotations

from drivers.emrtd.iso7816.apdu import ApduError

CARD_CAPABILITIES_TAG = 0x7  # compact-TLV tag 7 in the historical bytes
EXTENDED_LENGTH_BIT = 0x40   # third byte of the card capabilities


def historical_bytes(atr: bytes) -> bytes:
    if len(atr) < 2:
        raise ApduError(f"ATR of {len(atr)} bytes is too short")
    count = atr[1] & 0x0F
    indicator = atr[1] >> 4
    offset = 2
    while True:
        present = bin(indicator).count("1")
        next_td = offset + present - 1 if indicator & 0x8 else None
        offset += present
        if offset > len(atr):
            raise ApduError("ATR interface bytes run past its end")
        if next_td is None:
            break
        indicator = atr[next_td] >> 4
    if offset + count > len(atr):
        raise ApduError("ATR historical bytes run past its end")
    return atr[offset:offset + count]


def supports_extended_length(atr: bytes) -> bool:
    """True when the ATR's compact-TLV card capabilities announce extended Lc/Le."""
    history = historical_bytes(atr)
    if not history or history[0] != 0x80:  # only the compact-TLV format is understood
        return False
    offset = 1
    while offset < len(history):
        tag, length = history[offset] >> 4, history[offset] & 0x0F
        value = history[offset + 1:offset + 1 + length]
        if tag == CARD_CAPABILITIES_TAG and len(value) >= 3:
            return bool(value[2] & EXTENDED_LENGTH_BIT)
        offset += 1 + length
    return False
