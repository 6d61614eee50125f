"""The chip's half of ICAO 9303 secure messaging: check and open protected
commands, protect responses.

It is written from the chip's point of view on purpose rather than reusing
the reader's SecureMessaging class, so that a mistake in one side's wrapping
shows up as a failure instead of cancelling out. Only the cipher primitives
are shared.
"""
from __future__ import annotations

import hmac

from drivers.emrtd import tlv
from drivers.emrtd.iso7816.apdu import CommandApdu, ResponseApdu
from drivers.emrtd.iso7816.secure_messaging import SecureMessagingError, SmCipher, pad, unpad

SW_SM_MISSING = 0x6987
SW_SM_INCORRECT = 0x6988


class SmViolation(Exception):
    """A protected command the chip refuses; it answers the SW in plain and
    forgets the session keys."""

    def __init__(self, sw: int, reason: str) -> None:
        self.sw = sw
        super().__init__(reason)


class ChipSession:
    def __init__(self, cipher: SmCipher, ssc: int) -> None:
        self.cipher = cipher
        self.ssc = ssc

    def _increment(self) -> bytes:
        self.ssc = (self.ssc + 1) % (1 << (8 * self.cipher.block_size))
        return self.ssc.to_bytes(self.cipher.block_size, "big")

    def unwrap(self, command: CommandApdu) -> CommandApdu:
        ssc = self._increment()
        if command.cla & 0x0C != 0x0C:
            raise SmViolation(SW_SM_MISSING, "command not protected")
        try:
            items = tlv.decode(command.data)
        except tlv.TlvError as error:
            raise SmViolation(SW_SM_INCORRECT, f"malformed SM objects: {error}") from error
        if not items or items[-1].tag != 0x8E:
            raise SmViolation(SW_SM_MISSING, "no MAC object")
        header = pad(bytes([command.cla, command.ins, command.p1, command.p2]), self.cipher.block_size)
        covered = b"".join(item.encode() for item in items[:-1])
        if not hmac.compare_digest(items[-1].value, self.cipher.mac(ssc + header + covered)):
            raise SmViolation(SW_SM_INCORRECT, "command MAC does not verify")
        data, ne = b"", None
        try:
            for item in items[:-1]:
                if item.tag == 0x87 and item.value[:1] == b"\x01":
                    data = unpad(self.cipher.decrypt(ssc, item.value[1:]))
                elif item.tag == 0x85 and command.ins & 1:  # odd INS: BER-TLV data, no indicator
                    data = unpad(self.cipher.decrypt(ssc, item.value))
                elif item.tag == 0x97 and len(item.value) in (1, 2):
                    limit = 1 << (8 * len(item.value))
                    ne = int.from_bytes(item.value, "big") or limit
                else:
                    raise SmViolation(SW_SM_INCORRECT, f"unexpected object {item.tag:X}")
        except SecureMessagingError as error:  # bad padding or cryptogram size
            raise SmViolation(SW_SM_INCORRECT, str(error)) from error
        return CommandApdu(command.cla & ~0x0C & 0xFF, command.ins, command.p1, command.p2, data, ne)

    def wrapped_size(self, data_length: int, odd_ins: bool = False) -> int:
        """Bytes a protected response carrying data_length plain bytes takes."""
        size = 4 + 2 + self.cipher.block_size  # DO'99' and DO'8E'
        if data_length:
            cryptogram = (data_length // self.cipher.block_size + 1) * self.cipher.block_size
            size += len(tlv.encode(0x85, bytes(cryptogram + (0 if odd_ins else 1))))
        return size

    def wrap(self, response: ResponseApdu, *, odd_ins: bool = False,
             mac_cipher: SmCipher | None = None) -> ResponseApdu:
        """Protect a response; BER-TLV data answering an odd INS goes in DO'85'
        without the padding indicator. mac_cipher lets a fault inject a MAC
        under the wrong key."""
        ssc = self._increment()
        body = b""
        if response.data:
            cryptogram = self.cipher.encrypt(ssc, pad(response.data, self.cipher.block_size))
            body += tlv.encode(0x85, cryptogram) if odd_ins else tlv.encode(0x87, b"\x01" + cryptogram)
        body += tlv.encode(0x99, bytes([response.sw1, response.sw2]))
        body += tlv.encode(0x8E, (mac_cipher or self.cipher).mac(ssc + body))
        return ResponseApdu(body, response.sw1, response.sw2)
