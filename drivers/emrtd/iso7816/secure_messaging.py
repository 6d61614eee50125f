"""ICAO Doc 9303 Part 11 secure messaging (ISO 7816-4 SM with DO'87', DO'97',
DO'99' and DO'8E').

The cipher is separate from the APDU wrapping: `DesSmCipher` is the 3DES
variant that follows BAC; an AES variant for PACE only needs another class
with the same four members (block_size, encrypt, decrypt, mac).
"""
from __future__ import annotations

import hmac
from typing import Protocol

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from drivers.emrtd import tlv
from drivers.emrtd.iso7816.apdu import CommandApdu, ResponseApdu, status_meaning
from drivers.emrtd.iso7816.transceiver import Transceiver

TAG_PADDED_CRYPTOGRAM = 0x87   # padding-content indicator byte + cryptogram
TAG_CRYPTOGRAM = 0x85          # cryptogram without indicator (odd INS)
TAG_LE = 0x97
TAG_STATUS = 0x99
TAG_MAC = 0x8E
PADDING_INDICATOR = 0x01       # ISO 9797-1 padding method 2 was applied
SM_CLA_BITS = 0x0C             # CLA bits: SM with the header authenticated


class SecureMessagingError(Exception):
    """A protected response that cannot be trusted or decoded, or a chip
    that reported a secure messaging failure; the SM session is unusable."""

    def __init__(self, reason: str, sw: int | None = None) -> None:
        self.sw = sw
        super().__init__(reason)


def pad(data: bytes, block_size: int = 8) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros to a block boundary."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block_size)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise SecureMessagingError("decrypted data lacks ISO 9797-1 method 2 padding")
    return stripped[:-1]


def _des3(key: bytes) -> TripleDES:
    # Keys are spelled out as three-key 3DES: K1K2K1 for two-key 3DES, K1K1K1
    # for single DES (the retail MAC's inner steps), as cryptography asks.
    if len(key) == 8:
        return TripleDES(key * 3)
    if len(key) == 16:
        return TripleDES(key + key[:8])
    return TripleDES(key)


def des3_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    encryptor = Cipher(_des3(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def des3_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    decryptor = Cipher(_des3(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def retail_mac(key: bytes, message: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (the 'retail MAC') with padding method 2:
    single-DES CBC under K1, then the last block decrypted under K2 and
    encrypted again under K1."""
    k1, k2 = key[:8], key[8:16]
    chained = des3_cbc_encrypt(k1, pad(message))[-8:]
    ecb_decrypt = Cipher(_des3(k2), modes.ECB()).decryptor()
    ecb_encrypt = Cipher(_des3(k1), modes.ECB()).encryptor()
    return ecb_encrypt.update(ecb_decrypt.update(chained))


class SmCipher(Protocol):
    block_size: int

    def encrypt(self, ssc: bytes, data: bytes) -> bytes: ...

    def decrypt(self, ssc: bytes, data: bytes) -> bytes: ...

    def mac(self, data: bytes) -> bytes: ...


class DesSmCipher:
    """3DES secure messaging keys from BAC: CBC with a zero IV, retail MAC."""

    block_size = 8

    def __init__(self, ks_enc: bytes, ks_mac: bytes) -> None:
        if len(ks_enc) != 16 or len(ks_mac) != 16:
            raise ValueError("3DES session keys must be 16 bytes each")
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac

    def encrypt(self, ssc: bytes, data: bytes) -> bytes:
        return des3_cbc_encrypt(self.ks_enc, data)

    def decrypt(self, ssc: bytes, data: bytes) -> bytes:
        if not data or len(data) % self.block_size:
            raise SecureMessagingError(f"cryptogram of {len(data)} bytes is not whole 3DES blocks")
        return des3_cbc_decrypt(self.ks_enc, data)

    def mac(self, data: bytes) -> bytes:
        return retail_mac(self.ks_mac, data)


def split_objects(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(tag, value, raw TLV bytes) for each SM data object; the raw bytes are
    what the MAC covers, so they are kept exactly as received."""
    objects = []
    offset = 0
    try:
        while offset < len(data):
            start = offset
            tag, offset = tlv.read_tag(data, offset)
            length, offset = tlv.read_length(data, offset)
            if offset + length > len(data):
                raise tlv.TlvError(f"tag {tag:X} runs past the end of the response")
            objects.append((tag, data[offset:offset + length], data[start:offset + length]))
            offset += length
    except tlv.TlvError as error:
        raise SecureMessagingError(f"malformed secure messaging objects: {error}") from error
    return objects


class SecureMessaging:
    """One SM session: the cipher and the send sequence counter, which both
    sides increment before every command and every response."""

    def __init__(self, cipher: SmCipher, ssc: int) -> None:
        self.cipher = cipher
        self.ssc = ssc

    def _next_ssc(self) -> bytes:
        self.ssc = (self.ssc + 1) % (1 << (8 * self.cipher.block_size))
        return self.ssc.to_bytes(self.cipher.block_size, "big")

    def protect(self, command: CommandApdu) -> CommandApdu:
        block = self.cipher.block_size
        cla = command.cla | SM_CLA_BITS
        header = pad(bytes([cla, command.ins, command.p1, command.p2]), block)
        ssc = self._next_ssc()
        body = b""
        if command.data:
            cryptogram = self.cipher.encrypt(ssc, pad(command.data, block))
            if command.ins & 1:  # odd INS carries BER-TLV data: no indicator byte
                body += tlv.encode(TAG_CRYPTOGRAM, cryptogram)
            else:
                body += tlv.encode(TAG_PADDED_CRYPTOGRAM, bytes([PADDING_INDICATOR]) + cryptogram)
        if command.ne is not None:
            le_size = 2 if command.ne > 0x100 else 1
            body += tlv.encode(TAG_LE, (command.ne % (1 << (8 * le_size))).to_bytes(le_size, "big"))
        body += tlv.encode(TAG_MAC, self.cipher.mac(ssc + header + body))
        extended = command.uses_extended or len(body) > 0xFF
        return CommandApdu(cla, command.ins, command.p1, command.p2, body,
                           ne=0x10000 if extended else 0x100, extended=extended)

    def unprotect(self, response: ResponseApdu) -> ResponseApdu:
        ssc = self._next_ssc()
        if not response.data:
            raise SecureMessagingError(
                f"chip answered without secure messaging: {response.sw:04X} ({status_meaning(response.sw)})",
                response.sw)
        objects = split_objects(response.data)
        if objects[-1][0] != TAG_MAC:
            raise SecureMessagingError("response does not end with a MAC (DO'8E')")
        received_mac = objects[-1][1]
        covered = b"".join(raw for _, _, raw in objects[:-1])
        if not hmac.compare_digest(received_mac, self.cipher.mac(ssc + covered)):
            raise SecureMessagingError("response MAC does not verify")
        data = b""
        status = None
        for tag, value, _ in objects[:-1]:
            if tag == TAG_PADDED_CRYPTOGRAM:
                if not value or value[0] != PADDING_INDICATOR:
                    raise SecureMessagingError("DO'87' lacks the padding-content indicator 01")
                data = unpad(self.cipher.decrypt(ssc, value[1:]))
            elif tag == TAG_CRYPTOGRAM:
                data = unpad(self.cipher.decrypt(ssc, value))
            elif tag == TAG_STATUS:
                if len(value) != 2:
                    raise SecureMessagingError(f"DO'99' holds {len(value)} bytes, not a status word")
                status = value
            else:
                raise SecureMessagingError(f"unexpected data object {tag:X} in a protected response")
        if status is None:
            raise SecureMessagingError("protected response lacks the status (DO'99')")
        return ResponseApdu(data, status[0], status[1])


class SecureMessagingTransceiver:
    """A Transceiver decorator: plain APDUs in, protected APDUs on the wire."""

    def __init__(self, inner: Transceiver, session: SecureMessaging) -> None:
        self.inner = inner
        self.session = session

    def transmit(self, apdu: bytes) -> bytes:
        protected = self.session.protect(CommandApdu.parse(apdu))
        raw = self.inner.transmit(protected.encode())
        return self.session.unprotect(ResponseApdu.parse(raw)).encode()
