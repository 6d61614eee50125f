"""PACE with generic mapping over elliptic curves (ICAO Doc 9303 Part 11,
section 4.4), reader side.

The pure steps (keys, nonce, mapping, tokens) are functions so that they can
be checked against the worked example; `perform_pace` runs them over a
Transceiver with MSE:Set AT and four chained GENERAL AUTHENTICATE commands.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Callable

from drivers import tlv
from drivers.bac import adjust_parity
from drivers.iso7816.aes_sm import AesSmCipher, aes_cbc_decrypt, aes_cmac
from drivers.iso7816.apdu import CommandApdu
from drivers.iso7816.secure_messaging import (
    DesSmCipher, SecureMessaging, des3_cbc_decrypt, retail_mac,
)
from drivers.iso7816.transceiver import Transceiver, send
from drivers.pace.curves import STANDARD_CURVES, Curve, CurveError, Point

ID_PACE = "0.4.0.127.0.7.2.2.4"
ECDH_GM = ID_PACE + ".2"
CIPHERS = {1: ("3DES", 16), 2: ("AES", 16), 3: ("AES", 24), 4: ("AES", 32)}
PASSWORD_MRZ = 1
PASSWORD_CAN = 2
KDF_ENC, KDF_MAC, KDF_PI = 1, 2, 3


class PaceError(Exception):
    """PACE failed: unsupported parameters, a wrong password (the chip's
    token does not verify or the chip refuses ours) or a misbehaving chip."""


def oid_to_der(oid: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER (what tag 80 and 06 carry)."""
    arcs = [int(arc) for arc in oid.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


@dataclass(frozen=True)
class PaceProtocol:
    """One id-PACE-ECDH-GM-* protocol: the cipher and its key length."""

    oid: str
    cipher: str  # "3DES" or "AES"
    key_length: int

    @classmethod
    def from_oid(cls, oid: str) -> "PaceProtocol":
        prefix, _, last = oid.rpartition(".")
        if prefix != ECDH_GM or not last.isdigit() or int(last) not in CIPHERS:
            raise PaceError(f"protocol {oid} is not a supported PACE ECDH generic mapping")
        cipher, length = CIPHERS[int(last)]
        return cls(oid, cipher, length)

    def kdf(self, secret: bytes, counter: int) -> bytes:
        """Doc 9303 Part 11 key derivation: SHA-1 for 3DES and AES-128,
        SHA-256 for AES-192/256; 3DES keys get DES parity."""
        data = secret + counter.to_bytes(4, "big")
        if self.cipher == "3DES":
            return adjust_parity(hashlib.sha1(data).digest()[:16])
        digest = hashlib.sha1(data) if self.key_length == 16 else hashlib.sha256(data)
        return digest.digest()[:self.key_length]

    def decrypt_nonce(self, k_pi: bytes, encrypted: bytes) -> bytes:
        block = 8 if self.cipher == "3DES" else 16
        if not encrypted or len(encrypted) % block:
            raise PaceError(f"encrypted nonce of {len(encrypted)} bytes is not whole {self.cipher} blocks")
        if self.cipher == "3DES":
            return des3_cbc_decrypt(k_pi, encrypted)
        return aes_cbc_decrypt(k_pi, encrypted)

    def mac(self, key: bytes, data: bytes) -> bytes:
        return retail_mac(key, data) if self.cipher == "3DES" else aes_cmac(key, data)

    def secure_messaging(self, ks_enc: bytes, ks_mac: bytes) -> SecureMessaging:
        # After PACE the send sequence counter starts at zero.
        cipher = DesSmCipher(ks_enc, ks_mac) if self.cipher == "3DES" else AesSmCipher(ks_enc, ks_mac)
        return SecureMessaging(cipher, 0)


def mrz_password(mrz_information: str) -> bytes:
    """The MRZ password is SHA-1 of the same MRZ information BAC uses."""
    if not mrz_information or not mrz_information.isascii():
        raise ValueError("MRZ information must be non-empty ASCII")
    return hashlib.sha1(mrz_information.encode("ascii")).digest()


def can_password(can: str) -> bytes:
    if not can.isdigit() or len(can) != 6:
        raise ValueError(f"CAN must be six digits, got {can!r}")
    return can.encode("ascii")


def map_generator(curve: Curve, nonce: bytes, shared: Point) -> Point:
    """Generic mapping: G' = s*G + H."""
    mapped = curve.add(curve.multiply(int.from_bytes(nonce, "big"), curve.generator), shared)
    if mapped is None:
        raise PaceError("mapped generator is the point at infinity")
    return mapped


def public_key_object(protocol: PaceProtocol, curve: Curve, point: Point) -> bytes:
    """The public key data object 7F49 the authentication tokens cover."""
    return tlv.encode(0x7F49, tlv.encode(0x06, oid_to_der(protocol.oid)) + tlv.encode(0x86, curve.encode(point)))


def token(protocol: PaceProtocol, ks_mac: bytes, curve: Curve, other_public: Point) -> bytes:
    return protocol.mac(ks_mac, public_key_object(protocol, curve, other_public))


def _private_key(curve: Curve, random: Callable[[int], bytes]) -> int:
    while True:
        key = int.from_bytes(random(curve.size + 8), "big") % curve.n
        if key:
            return key


@dataclass(frozen=True)
class PaceResult:
    protocol: PaceProtocol
    ks_enc: bytes
    ks_mac: bytes
    chip_public_key: bytes  # the chip's ephemeral key, encoded (Chip Authentication binds to it)

    def secure_messaging(self) -> SecureMessaging:
        return self.protocol.secure_messaging(self.ks_enc, self.ks_mac)


def _general_authenticate(transceiver: Transceiver, tag: int, value: bytes, answer_tag: int,
                          last: bool = False) -> bytes:
    command = CommandApdu(0x00 if last else 0x10, 0x86, 0x00, 0x00,
                          tlv.encode(0x7C, tlv.encode(tag, value) if tag else b""), ne=0x100)
    response = send(transceiver, command)
    if not response.ok:
        raise PaceError(f"GENERAL AUTHENTICATE (answer {answer_tag:02X}) refused with status "
                        f"{response.sw:04X}" + (": wrong password?" if last else ""))
    try:
        found = tlv.decode_one(response.data, 0x7C).find(answer_tag)
    except tlv.TlvError as error:
        raise PaceError(f"malformed dynamic authentication data: {error}") from error
    if found is None:
        raise PaceError(f"dynamic authentication data lacks tag {answer_tag:02X}")
    return found.value


def perform_pace(transceiver: Transceiver, password: bytes, oid: str, parameter_id: int,
                 password_type: int = PASSWORD_MRZ,
                 random: Callable[[int], bytes] = secrets.token_bytes) -> PaceResult:
    """Run PACE ECDH-GM; return the session keys. Raises PaceError."""
    protocol = PaceProtocol.from_oid(oid)
    curve = STANDARD_CURVES.get(parameter_id)
    if curve is None:
        raise PaceError(f"domain parameter id {parameter_id} is not a supported standard curve")
    set_at = (tlv.encode(0x80, oid_to_der(oid)) + tlv.encode(0x83, bytes([password_type]))
              + tlv.encode(0x84, bytes([parameter_id])))
    response = send(transceiver, CommandApdu(0x00, 0x22, 0xC1, 0xA4, set_at))
    if not response.ok:
        raise PaceError(f"MSE:Set AT refused with status {response.sw:04X}")
    k_pi = protocol.kdf(password, KDF_PI)
    nonce = protocol.decrypt_nonce(k_pi, _general_authenticate(transceiver, 0, b"", 0x80))
    try:
        map_key = _private_key(curve, random)
        chip_map = curve.decode(_general_authenticate(
            transceiver, 0x81, curve.encode(curve.multiply(map_key, curve.generator)), 0x82))
        shared = curve.multiply(map_key * curve.h, chip_map)
        if shared is None:
            raise PaceError("mapping shared secret is the point at infinity")
        generator = map_generator(curve, nonce, shared)
        key = _private_key(curve, random)
        own_public = curve.multiply(key, generator)
        chip_public = curve.decode(_general_authenticate(transceiver, 0x83, curve.encode(own_public), 0x84))
    except CurveError as error:
        raise PaceError(f"chip sent a bad public key: {error}") from error
    if chip_public == own_public:
        raise PaceError("chip echoed the reader's ephemeral public key")
    secret = curve.multiply(key * curve.h, chip_public)
    if secret is None:
        raise PaceError("key agreement gave the point at infinity")
    shared_x = secret[0].to_bytes(curve.size, "big")
    ks_enc, ks_mac = protocol.kdf(shared_x, KDF_ENC), protocol.kdf(shared_x, KDF_MAC)
    chip_token = _general_authenticate(transceiver, 0x85, token(protocol, ks_mac, curve, chip_public),
                                       0x86, last=True)
    if not hmac.compare_digest(chip_token, token(protocol, ks_mac, curve, own_public)):
        raise PaceError("chip's authentication token does not verify")
    return PaceResult(protocol, ks_enc, ks_mac, curve.encode(chip_public))
