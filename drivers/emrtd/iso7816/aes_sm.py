"""AES secure messaging keys (ICAO Doc 9303 Part 11, section 9.8.6.2), the
cipher PACE and Chip Authentication switch to.

Unlike 3DES, AES encryption does not use a zero IV: every APDU's IV is the
send sequence counter encrypted under KSenc, and the SSC is a full 16-byte
block. The MAC is AES-CMAC over the padded input, cut to 8 bytes.
"""
from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from drivers.emrtd.iso7816.secure_messaging import SecureMessagingError, pad

AES_KEY_SIZES = (16, 24, 32)
MAC_LENGTH = 8


def aes_cmac(key: bytes, message: bytes, length: int = MAC_LENGTH) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(message)
    return mac.finalize()[:length]


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def aes_ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


class AesSmCipher:
    """AES-128/192/256 secure messaging: CBC with IV = E(KSenc, SSC), CMAC/8."""

    block_size = 16

    def __init__(self, ks_enc: bytes, ks_mac: bytes) -> None:
        if len(ks_enc) not in AES_KEY_SIZES or len(ks_mac) != len(ks_enc):
            raise ValueError(f"AES session keys must be 16, 24 or 32 bytes and equal in size, "
                             f"got {len(ks_enc)} and {len(ks_mac)}")
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac

    def _iv(self, ssc: bytes) -> bytes:
        if len(ssc) != self.block_size:
            raise ValueError(f"AES SSC must be 16 bytes, got {len(ssc)}")
        return aes_ecb_encrypt_block(self.ks_enc, ssc)

    def encrypt(self, ssc: bytes, data: bytes) -> bytes:
        return aes_cbc_encrypt(self.ks_enc, data, self._iv(ssc))

    def decrypt(self, ssc: bytes, data: bytes) -> bytes:
        if not data or len(data) % self.block_size:
            raise SecureMessagingError(f"cryptogram of {len(data)} bytes is not whole AES blocks")
        return aes_cbc_decrypt(self.ks_enc, data, self._iv(ssc))

    def mac(self, data: bytes) -> bytes:
        # SecureMessaging hands over SSC || header || objects unpadded; AES
        # SM pads the MAC input (method 2) before CMAC, unlike plain CMAC use.
        return aes_cmac(self.ks_mac, pad(data, self.block_size))
