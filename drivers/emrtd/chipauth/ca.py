"""Chip Authentication, reader side (Doc 9303 Part 11 section 6.2).

The reader sends an ephemeral public key; both sides derive new secure
messaging keys from Diffie-Hellman with the chip's static key (published in
DG14 or EF.CardSecurity, signed through the SOD). Only a chip holding the
matching private key can go on answering under the new keys: a copy of the
data groups on another chip cannot. 3DES uses MSE:Set KAT, AES uses MSE:Set
AT and GENERAL AUTHENTICATE (Doc 9303 allows the latter for 3DES too, and
some chips only implement that, so the reader falls back to it).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable, Sequence

from drivers.emrtd import tlv
from drivers.emrtd.iso7816.apdu import CommandApdu, ResponseApdu
from drivers.emrtd.iso7816.secure_messaging import SecureMessagingTransceiver
from drivers.emrtd.iso7816.transceiver import send
from drivers.emrtd.lds.cardaccess import (
    ID_CA,
    ID_PK_DH,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfo,
)
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.lds.publickey import ChipPublicKey, parse_public_key
from drivers.emrtd.pace.curves import GroupError
from drivers.emrtd.pace.protocol import oid_to_der
from drivers.emrtd.pace.suite import SUITES, CipherSuite

AGREEMENTS = {1: "DH", 2: "ECDH"}


class ChipAuthenticationError(Exception):
    """Chip Authentication could not be run or the chip refused it."""


@dataclass(frozen=True)
class CaProtocol:
    """One id-CA-* protocol: key agreement and cipher suite."""

    oid: str
    agreement: str  # "DH" or "ECDH"
    suite: CipherSuite

    @classmethod
    def from_oid(cls, oid: str) -> "CaProtocol":
        prefix, _, rest = oid.partition(ID_CA + ".")
        arcs = rest.split(".") if not prefix else []
        if len(arcs) != 2 or not all(a.isdigit() for a in arcs) or int(arcs[0]) not in AGREEMENTS \
                or int(arcs[1]) not in SUITES:
            raise ChipAuthenticationError(f"{oid} is not a Chip Authentication protocol of Doc 9303")
        return cls(oid, AGREEMENTS[int(arcs[0])], SUITES[int(arcs[1])])

    @classmethod
    def from_name(cls, name: str) -> "CaProtocol":
        """'ECDH-AES-128', 'DH-3DES', ... (case-insensitive)."""
        for agreement_arc, agreement in AGREEMENTS.items():
            for suite_arc, suite in SUITES.items():
                if f"{agreement}-{suite.name}" == name.upper():
                    return cls(f"{ID_CA}.{agreement_arc}.{suite_arc}", agreement, suite)
        raise ChipAuthenticationError(f"no Chip Authentication protocol named {name!r}")

    @property
    def name(self) -> str:
        return f"{self.agreement}-{self.suite.name}"


@dataclass(frozen=True)
class CaChoice:
    protocol: CaProtocol
    key: ChipPublicKey
    key_id: int | None

    def describe(self) -> str:
        key = f" key {self.key_id}" if self.key_id is not None else ""
        return f"CA {self.protocol.name} with the chip's {self.key.describe()}{key}"


def offered(infos: Sequence[SecurityInfo]) -> bool:
    """Whether these SecurityInfos announce Chip Authentication (a public key for it)."""
    return any(isinstance(info, ChipAuthenticationPublicKeyInfo) for info in infos)


def choose(infos: Sequence[SecurityInfo], file: str = "DG14") -> CaChoice:
    """The protocol and key to run, AES before 3DES (Doc 9303 Part 11 section 8.5).
    ChipAuthenticationError when the infos announce no usable key."""
    keys = [info for info in infos if isinstance(info, ChipAuthenticationPublicKeyInfo)]
    if not keys:
        raise ChipAuthenticationError(f"{file} holds no Chip Authentication public key")
    announced = []
    for info in infos:
        if isinstance(info, ChipAuthenticationInfo):
            try:
                announced.append((CaProtocol.from_oid(info.protocol), info.key_id))
            except ChipAuthenticationError:
                continue  # a version Doc 9303 does not know: ignore it, as for unknown infos
    if not announced:  # early chips published only the key, which implies 3DES
        announced = [(CaProtocol.from_oid(f"{ID_CA}.{1 if k.protocol == ID_PK_DH else 2}.1"), k.key_id) for k in keys]
    announced.sort(key=lambda item: (item[0].suite.cipher == "AES", item[0].suite.key_length), reverse=True)
    problems = []
    for protocol, key_id in announced:
        for candidate in (k for k in keys if key_id is None or k.key_id == key_id):
            try:
                key = parse_public_key(candidate.public_key, file)
            except LdsError as error:
                problems.append(error.reason)
                continue
            if {"ec": "ECDH", "dh": "DH"}.get(key.algorithm) != protocol.agreement:
                problems.append(f"{protocol.name} announced with a {key.describe()} key")
                continue
            return CaChoice(protocol, key, candidate.key_id)
    raise ChipAuthenticationError(f"{file}: no usable Chip Authentication key ({'; '.join(problems) or 'no match'})")


def _key_reference(key_id: int | None) -> bytes:
    return b"" if key_id is None else tlv.encode(0x84, key_id.to_bytes(max(1, (key_id.bit_length() + 7) // 8), "big"))


def _check(response: ResponseApdu, what: str) -> None:
    if not response.ok:
        raise ChipAuthenticationError(f"the chip refused {what} with status {response.sw:04X}")


def perform_ca(channel: SecureMessagingTransceiver, choice: CaChoice,
               random: Callable[[int], bytes] = secrets.token_bytes) -> bytes:
    """Run Chip Authentication over an open secure channel and switch it to the new keys; return the
    reader's ephemeral public key (Terminal Authentication signs its compressed form).

    Raises ChipAuthenticationError when the chip refuses; the old keys then stay
    in force, as on the chip. Whether the chip really holds the key shows only
    in the next protected answer (the caller must send one and check it)."""
    group, suite = choice.key.group, choice.protocol.suite
    try:
        private = group.private_key(random)
        public = group.encode(group.power(group.generator, private))
        secret = group.shared_secret(private, choice.key.public)
    except GroupError as error:
        raise ChipAuthenticationError(f"key agreement with the chip's key failed: {error}") from error
    ks_enc, ks_mac = suite.session_keys(secret)
    answer = None
    if suite.cipher == "3DES":
        answer = send(channel, CommandApdu(0x00, 0x22, 0x41, 0xA6,
                                           tlv.encode(0x91, public) + _key_reference(choice.key_id)))
    if answer is None or not answer.ok:
        # AES always, 3DES when the chip does not implement MSE:Set KAT
        set_at = tlv.encode(0x80, oid_to_der(choice.protocol.oid)) + _key_reference(choice.key_id)
        _check(send(channel, CommandApdu(0x00, 0x22, 0x41, 0xA4, set_at)), "MSE:Set AT for Chip Authentication")
        _check(send(channel, CommandApdu(0x00, 0x86, 0x00, 0x00, tlv.encode(0x7C, tlv.encode(0x80, public)),
                                         ne=0x100)), "GENERAL AUTHENTICATE for Chip Authentication")
    channel.session = suite.secure_messaging(ks_enc, ks_mac)
    return public
