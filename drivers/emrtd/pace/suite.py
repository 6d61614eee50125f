"""The symmetric half of PACE and Chip Authentication: which block cipher, its
key length, the key derivation function and the secure messaging it leads
to (Doc 9303 Part 11 sections 9.7 and 9.8).

Both protocols name the suite by the last arc of their object identifier:
1 = 3DES, 2 = AES-128, 3 = AES-192, 4 = AES-256.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from drivers.emrtd.bac import adjust_parity
from drivers.emrtd.iso7816.aes_sm import AesSmCipher, aes_cbc_decrypt, aes_cbc_encrypt, aes_cmac
from drivers.emrtd.iso7816.secure_messaging import (
    DesSmCipher,
    SecureMessaging,
    SmCipher,
    des3_cbc_decrypt,
    des3_cbc_encrypt,
    retail_mac,
)

KDF_ENC, KDF_MAC, KDF_PI = 1, 2, 3


@dataclass(frozen=True)
class CipherSuite:
    cipher: str  # "3DES" or "AES"
    key_length: int  # bytes: 16 for 3DES (two keys) and AES-128, 24, 32

    @property
    def name(self) -> str:
        return "3DES" if self.cipher == "3DES" else f"AES-{self.key_length * 8}"

    @property
    def block_size(self) -> int:
        return 8 if self.cipher == "3DES" else 16

    @property
    def nonce_length(self) -> int:
        """The PACE nonce: the smallest whole number of blocks not shorter than the key
        (section 4.4.3.3; 3DES counts as a 128-bit key there)."""
        return -(-self.key_length // 16) * 16

    def kdf(self, secret: bytes, counter: int) -> bytes:
        """KDF(K, c): SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256; 3DES keys get DES parity."""
        data = secret + counter.to_bytes(4, "big")
        if self.cipher == "3DES":
            return adjust_parity(hashlib.sha1(data).digest()[:16])
        digest = hashlib.sha1(data) if self.key_length == 16 else hashlib.sha256(data)
        return digest.digest()[:self.key_length]

    def encrypt(self, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
        """CBC without padding; IV zero unless given."""
        if self.cipher == "3DES":
            return des3_cbc_encrypt(key, data, iv or bytes(8))
        return aes_cbc_encrypt(key, data, iv or bytes(16))

    def decrypt(self, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
        if self.cipher == "3DES":
            return des3_cbc_decrypt(key, data, iv or bytes(8))
        return aes_cbc_decrypt(key, data, iv or bytes(16))

    def mac(self, key: bytes, data: bytes) -> bytes:
        """The 8-byte authentication code of tokens: retail MAC or CMAC (each pads as it must)."""
        return retail_mac(key, data) if self.cipher == "3DES" else aes_cmac(key, data)

    def sm_cipher(self, ks_enc: bytes, ks_mac: bytes) -> SmCipher:
        return DesSmCipher(ks_enc, ks_mac) if self.cipher == "3DES" else AesSmCipher(ks_enc, ks_mac)

    def secure_messaging(self, ks_enc: bytes, ks_mac: bytes) -> SecureMessaging:
        """After PACE and Chip Authentication the send sequence counter starts at zero."""
        return SecureMessaging(self.sm_cipher(ks_enc, ks_mac), 0)

    def session_keys(self, secret: bytes) -> tuple[bytes, bytes]:
        return self.kdf(secret, KDF_ENC), self.kdf(secret, KDF_MAC)


SUITES = {1: CipherSuite("3DES", 16), 2: CipherSuite("AES", 16), 3: CipherSuite("AES", 24),
          4: CipherSuite("AES", 32)}
SUITE_BY_NAME = {suite.name: suite for suite in SUITES.values()}
