"""ISO/IEC 9796-2 digital signature scheme 1 with partial message recovery,
as Active Authentication with RSA uses it (Doc 9303 Part 11 section 6.1.2.2).

No library offers it, so it is written here: the message representative
F = 6A || M1 || H(M1 || M2) || trailer, where the chip chooses M1 (the
recoverable part) and M2 is the reader's challenge. The trailer is BC for
SHA-1 or a hash identifier followed by CC. Verification also accepts the
alternative signature production of ISO/IEC 9796-2 (sigma = min(s, n - s)),
which Doc 9303 recommends to chips.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

PARTIAL_RECOVERY = 0x6A
TRAILER_SHA1 = 0xBC
TRAILER_EXPLICIT = 0xCC
HASH_IDS = {0x33: "sha1", 0x38: "sha224", 0x34: "sha256", 0x36: "sha384", 0x35: "sha512"}
HASH_ID_BY_NAME = {name: ident for ident, name in HASH_IDS.items()}


class Iso9796Error(ValueError):
    """A signature that does not recover to a valid message representative or whose digest differs."""


@dataclass(frozen=True)
class Recovered:
    m1: bytes  # the recovered part of the message (the chip's nonce)
    hash_name: str


def _trailer(hash_name: str) -> bytes:
    if hash_name == "sha1":
        return bytes([TRAILER_SHA1])
    if hash_name not in HASH_ID_BY_NAME:
        raise Iso9796Error(f"hash {hash_name} has no ISO/IEC 9796-2 identifier here")
    return bytes([HASH_ID_BY_NAME[hash_name], TRAILER_EXPLICIT])


def capacity(modulus_bytes: int, hash_name: str) -> int:
    """Bytes of M1 a representative of this size holds (k - Lh - 8t - 8 bits)."""
    return modulus_bytes - 1 - hashlib.new(hash_name).digest_size - len(_trailer(hash_name))


def message_representative(m1: bytes, m2: bytes, hash_name: str, modulus_bytes: int) -> bytes:
    """F = 6A || M1 || H(M1 || M2) || T, exactly modulus_bytes long (chip side)."""
    if len(m1) != capacity(modulus_bytes, hash_name):
        raise Iso9796Error(f"M1 must be {capacity(modulus_bytes, hash_name)} bytes for this key and hash")
    return bytes([PARTIAL_RECOVERY]) + m1 + hashlib.new(hash_name, m1 + m2).digest() + _trailer(hash_name)


def recover(modulus: int, exponent: int, signature: bytes, m2: bytes) -> Recovered:
    """Open the signature with the public key, check the representative and its digest over
    M1 || M2; Iso9796Error says what is wrong."""
    size = (modulus.bit_length() + 7) // 8
    value = int.from_bytes(signature, "big")
    if not signature or len(signature) > size or not 0 < value < modulus:
        raise Iso9796Error(f"signature of {len(signature)} bytes does not fit the {size}-byte modulus")
    opened = pow(value, exponent, modulus)
    if opened & 0x0F != 0x0C:  # the alternative production: the chip sent n - s
        opened = modulus - opened
    if opened & 0x0F != 0x0C:
        raise Iso9796Error("signature does not open to an ISO/IEC 9796-2 representative (no trailer)")
    representative = opened.to_bytes(size, "big")
    if representative[0] != PARTIAL_RECOVERY:
        raise Iso9796Error(f"representative header {representative[0]:02X}, expected 6A (partial recovery)")
    if representative[-1] == TRAILER_SHA1:
        hash_name, trailer_length = "sha1", 1
    elif representative[-1] == TRAILER_EXPLICIT and representative[-2] in HASH_IDS:
        hash_name, trailer_length = HASH_IDS[representative[-2]], 2
    else:
        raise Iso9796Error(f"unknown trailer {representative[-2:].hex().upper()}")
    digest_size = hashlib.new(hash_name).digest_size
    if size < 1 + digest_size + trailer_length:
        raise Iso9796Error("representative too short for its hash")
    digest = representative[-trailer_length - digest_size:-trailer_length]
    m1 = representative[1:-trailer_length - digest_size]
    if not hmac.compare_digest(digest, hashlib.new(hash_name, m1 + m2).digest()):
        raise Iso9796Error(f"the {hash_name} digest of the recovered message and the challenge differs")
    return Recovered(m1, hash_name)
