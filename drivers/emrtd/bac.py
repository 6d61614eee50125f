"""Basic Access Control (ICAO Doc 9303 Part 11, section 4.3).

The reader proves it saw the MRZ by deriving keys from the document number,
birth date and expiry date; chip and reader then agree on 3DES session keys
for secure messaging. Everything here is pure except `perform_bac`, which
talks to a Transceiver.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Callable

from drivers.emrtd.iso7816.apdu import CommandApdu
from drivers.emrtd.iso7816.secure_messaging import (
    DesSmCipher,
    SecureMessaging,
    des3_cbc_decrypt,
    des3_cbc_encrypt,
    retail_mac,
)
from drivers.emrtd.iso7816.transceiver import Transceiver, send
from drivers.mrz.checkdigit import check_digit

KDF_ENC = 1
KDF_MAC = 2


class BacError(Exception):
    """Basic Access Control failed: wrong MRZ key, or a chip that does not
    answer the protocol correctly."""


def mrz_key(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """The 'MRZ information' BAC hashes: each field followed by its check digit,
    the document number padded with '<' to at least nine characters."""
    for name, value in (("date_of_birth", date_of_birth), ("date_of_expiry", date_of_expiry)):
        if len(value) != 6 or not value.isdigit():
            raise ValueError(f"{name} must be YYMMDD, got {value!r}")
    number = document_number.upper().ljust(9, "<")
    return "".join(field + check_digit(field) for field in (number, date_of_birth, date_of_expiry))


def key_seed(mrz_information: str) -> bytes:
    if not mrz_information or not mrz_information.isascii():
        raise ValueError("MRZ information must be non-empty ASCII")
    return hashlib.sha1(mrz_information.encode("ascii")).digest()[:16]


def adjust_parity(key: bytes) -> bytes:
    """DES keys carry odd parity in the low bit of every byte."""
    out = bytearray()
    for byte in key:
        high = byte & 0xFE
        out.append(high | (bin(high).count("1") % 2 == 0))
    return bytes(out)


def derive_key(seed: bytes, counter: int) -> bytes:
    """Doc 9303 Part 11 KDF for 3DES: SHA-1(seed || counter), 16 bytes, parity fixed."""
    digest = hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()
    return adjust_parity(digest[:16])


@dataclass(frozen=True)
class BacKeys:
    k_enc: bytes
    k_mac: bytes

    @classmethod
    def from_mrz(cls, mrz_information: str) -> "BacKeys":
        seed = key_seed(mrz_information)
        return cls(derive_key(seed, KDF_ENC), derive_key(seed, KDF_MAC))


@dataclass(frozen=True)
class SessionKeys:
    ks_enc: bytes
    ks_mac: bytes
    ssc: int

    def secure_messaging(self) -> SecureMessaging:
        return SecureMessaging(DesSmCipher(self.ks_enc, self.ks_mac), self.ssc)


def session_keys(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SessionKeys:
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic))
    ssc = int.from_bytes(rnd_ic[4:8] + rnd_ifd[4:8], "big")
    return SessionKeys(derive_key(seed, KDF_ENC), derive_key(seed, KDF_MAC), ssc)


def mutual_authenticate_data(keys: BacKeys, rnd_ic: bytes, rnd_ifd: bytes, k_ifd: bytes) -> bytes:
    """E.IFD || M.IFD: the reader's cryptogram and its MAC."""
    cryptogram = des3_cbc_encrypt(keys.k_enc, rnd_ifd + rnd_ic + k_ifd)
    return cryptogram + retail_mac(keys.k_mac, cryptogram)


def open_chip_answer(keys: BacKeys, answer: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> bytes:
    """Check the chip's E.IC || M.IC and return K.IC."""
    if len(answer) != 40:
        raise BacError(f"MUTUAL AUTHENTICATE answer has {len(answer)} bytes, expected 40")
    cryptogram, mac = answer[:32], answer[32:]
    if not hmac.compare_digest(mac, retail_mac(keys.k_mac, cryptogram)):
        raise BacError("chip's MUTUAL AUTHENTICATE MAC does not verify")
    plain = des3_cbc_decrypt(keys.k_enc, cryptogram)
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise BacError("chip did not return the expected challenges")
    return plain[16:32]


def perform_bac(transceiver: Transceiver, mrz_information: str,
                random: Callable[[int], bytes] = os.urandom) -> SessionKeys:
    """GET CHALLENGE and MUTUAL AUTHENTICATE; return the session keys.

    A wrong MRZ key shows as status 6300 (or 6982) from the chip: BacError."""
    keys = BacKeys.from_mrz(mrz_information)
    challenge = send(transceiver, CommandApdu(0x00, 0x84, 0x00, 0x00, ne=8))
    if not challenge.ok or len(challenge.data) != 8:
        raise BacError(f"GET CHALLENGE failed: status {challenge.sw:04X}, {len(challenge.data)} bytes")
    rnd_ic = challenge.data
    rnd_ifd, k_ifd = random(8), random(16)
    command = CommandApdu(0x00, 0x82, 0x00, 0x00,
                          mutual_authenticate_data(keys, rnd_ic, rnd_ifd, k_ifd), ne=40)
    answer = send(transceiver, command)
    if not answer.ok:
        raise BacError(f"MUTUAL AUTHENTICATE refused with status {answer.sw:04X}: wrong MRZ key?")
    k_ic = open_chip_answer(keys, answer.data, rnd_ic, rnd_ifd)
    return session_keys(k_ifd, k_ic, rnd_ic, rnd_ifd)
