"""PACE, reader side (ICAO Doc 9303 Part 11 section 4.4): MSE:Set AT, then
four chained GENERAL AUTHENTICATE commands (encrypted nonce, mapping, key
agreement, mutual authentication), for every mapping (generic, integrated,
chip authentication), ECDH and DH, 3DES and AES.

The pure steps live in `mapping`, `groups` and `suite`, where the worked
examples of Doc 9303 check them; `perform_pace` runs them over a
Transceiver and returns the session keys.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Callable

from drivers.emrtd import tlv
from drivers.emrtd.iso7816.aes_sm import aes_ecb_encrypt_block
from drivers.emrtd.iso7816.apdu import CommandApdu
from drivers.emrtd.iso7816.secure_messaging import SecureMessaging, SecureMessagingError, unpad
from drivers.emrtd.iso7816.transceiver import Transceiver, send
from drivers.emrtd.pace.curves import GroupError
from drivers.emrtd.pace.groups import EcGroup, Element, Group, standard_group, standard_parameter_id, unsigned
from drivers.emrtd.pace.mapping import generic_map, integrated_map
from drivers.emrtd.pace.suite import KDF_PI, SUITES, CipherSuite

ID_PACE = "0.4.0.127.0.7.2.2.4"
ECDH_GM = ID_PACE + ".2"
# second-to-last arc of a PACE protocol OID: (key agreement, mapping)
MAPPINGS = {1: ("DH", "GM"), 2: ("ECDH", "GM"), 3: ("DH", "IM"), 4: ("ECDH", "IM"), 6: ("ECDH", "CAM")}
PASSWORD_MRZ = 1
PASSWORD_CAN = 2
PASSWORD_NAMES = {PASSWORD_MRZ: "MRZ", PASSWORD_CAN: "CAN"}
SW_AUTHENTICATION_FAILED = 0x6300
FIRST_PROPRIETARY_PARAMETER_ID = 32  # Doc 9303 Part 11 table 12: 0-31 are standardized or reserved


class PaceError(Exception):
    """PACE failed: a wrong password (the chip refuses our token), a chip whose
    token does not verify, or a chip that does not follow the protocol."""


class PaceUnsupported(PaceError):
    """Parameters this reader cannot or may not use (e.g. explicit domain
    parameters that are not a standardized group: Doc 9303 forbids using
    explicit parameters unless they are known to be secure)."""


class PaceRefused(PaceError):
    """The chip refused the reader's authentication token: almost always a wrong password."""


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
    """One id-PACE-* protocol: key agreement, mapping and cipher suite."""

    oid: str
    agreement: str  # "ECDH" or "DH"
    mapping: str  # "GM", "IM" or "CAM"
    suite: CipherSuite

    @classmethod
    def from_oid(cls, oid: str) -> "PaceProtocol":
        prefix, _, rest = oid.partition(ID_PACE + ".")
        arcs = rest.split(".") if not prefix else []
        if len(arcs) != 2 or not all(arc.isdigit() for arc in arcs):
            raise PaceUnsupported(f"{oid} is not a PACE protocol identifier")
        mapping, cipher = int(arcs[0]), int(arcs[1])
        if mapping not in MAPPINGS or cipher not in SUITES or (MAPPINGS[mapping][1] == "CAM" and cipher == 1):
            raise PaceUnsupported(f"protocol {oid} is not a PACE protocol of Doc 9303")
        agreement, kind = MAPPINGS[mapping]
        return cls(oid, agreement, kind, SUITES[cipher])

    @classmethod
    def from_name(cls, name: str) -> "PaceProtocol":
        """'ECDH-GM-AES-128', 'DH-IM-3DES', ... (case-insensitive)."""
        wanted = name.upper()
        for protocol in all_protocols():
            if protocol.name == wanted:
                return protocol
        raise PaceUnsupported(f"no PACE protocol named {name!r}; known: "
                              + ", ".join(p.name for p in all_protocols()))

    @property
    def name(self) -> str:
        return f"{self.agreement}-{self.mapping}-{self.suite.name}"

    # the cipher-suite operations, for callers that hold a protocol
    @property
    def cipher(self) -> str:
        return self.suite.cipher

    @property
    def key_length(self) -> int:
        return self.suite.key_length

    def kdf(self, secret: bytes, counter: int) -> bytes:
        return self.suite.kdf(secret, counter)

    def decrypt_nonce(self, k_pi: bytes, encrypted: bytes) -> bytes:
        if not encrypted or len(encrypted) % self.suite.block_size:
            raise PaceError(f"encrypted nonce of {len(encrypted)} bytes is not whole {self.suite.cipher} blocks")
        return self.suite.decrypt(k_pi, encrypted)

    def mac(self, key: bytes, data: bytes) -> bytes:
        return self.suite.mac(key, data)

    def secure_messaging(self, ks_enc: bytes, ks_mac: bytes) -> SecureMessaging:
        return self.suite.secure_messaging(ks_enc, ks_mac)


def all_protocols() -> list[PaceProtocol]:
    return [PaceProtocol.from_oid(f"{ID_PACE}.{mapping}.{cipher}") for mapping in MAPPINGS for cipher in SUITES
            if not (MAPPINGS[mapping][1] == "CAM" and cipher == 1)]


def mrz_password(mrz_information: str) -> bytes:
    """The MRZ password is SHA-1 of the same MRZ information BAC uses."""
    if not mrz_information or not mrz_information.isascii():
        raise ValueError("MRZ information must be non-empty ASCII")
    return hashlib.sha1(mrz_information.encode("ascii")).digest()


def can_password(can: str) -> bytes:
    if not can.isdigit() or len(can) != 6:
        raise ValueError(f"CAN must be six digits, got {can!r}")
    return can.encode("ascii")


def public_key_object(protocol: PaceProtocol, group: Group, element: Element) -> bytes:
    """The public key data object 7F49 the authentication tokens cover: the
    protocol OID and the bare public value (86 point or 84 unsigned integer)."""
    return tlv.encode(0x7F49, tlv.encode(0x06, oid_to_der(protocol.oid))
                      + tlv.encode(group.public_key_tag, group.encode(element)))


def token(protocol: PaceProtocol, ks_mac: bytes, group: Group, other_public: Element) -> bytes:
    return protocol.mac(ks_mac, public_key_object(protocol, group, other_public))


def decrypt_chip_authentication_data(ks_enc: bytes, encrypted: bytes) -> bytes:
    """A_IC -> CA_IC: AES-CBC with IV = E(KSenc, -1), padding method 2 (section 4.4.3.5)."""
    if not encrypted or len(encrypted) % 16:
        raise PaceError(f"encrypted chip authentication data of {len(encrypted)} bytes is not whole AES blocks")
    iv = aes_ecb_encrypt_block(ks_enc, b"\xff" * 16)
    try:
        return unpad(CipherSuite("AES", len(ks_enc)).decrypt(ks_enc, encrypted, iv))
    except SecureMessagingError as error:
        raise PaceError(f"chip authentication data: {error}") from error


def pace_group(protocol: PaceProtocol, parameter_id: int | None, explicit: Group | None = None) -> Group:
    """The group PACE runs in: the standardized domain parameters with this id or, when the chip gave
    them explicitly (a proprietary id, in a PACEDomainParameterInfo), those. Doc 9303 allows explicit
    parameters only when known to be secure; this reader knows only its standardized groups, so the
    explicit parameters must be one of them. PaceUnsupported when the group may not be used."""
    if explicit is not None:
        if parameter_id is not None and parameter_id < FIRST_PROPRIETARY_PARAMETER_ID:
            raise PaceUnsupported(f"explicit domain parameters under id {parameter_id}, which is not a "
                                  f"proprietary one ({FIRST_PROPRIETARY_PARAMETER_ID} and above)")
        if standard_parameter_id(explicit) is None:
            raise PaceUnsupported("explicit domain parameters that are not a standardized group: "
                                  "not known to be secure")
        group = explicit
    else:
        try:
            group = standard_group(parameter_id)
        except GroupError as error:
            raise PaceUnsupported(str(error)) from error
    if group.kind != protocol.agreement:
        raise PaceUnsupported(f"parameter id {parameter_id} ({group.name}) does not fit {protocol.name}")
    if protocol.mapping == "IM" and isinstance(group, EcGroup) and group.prime % 4 != 3:
        raise PaceUnsupported(f"{group.name} cannot be used with the integrated mapping")
    return group


@dataclass(frozen=True)
class PaceResult:
    protocol: PaceProtocol
    group: Group
    parameter_id: int | None  # None: explicit domain parameters announced without an id
    password_type: int
    ks_enc: bytes
    ks_mac: bytes
    chip_public_key: bytes  # the chip's ephemeral key, encoded (Terminal Authentication binds to it)
    chip_mapping_key: bytes | None = None  # PK_Map,IC (generic mapping and CAM)
    chip_authentication_data: bytes | None = None  # CA_IC, decrypted (CAM only)
    chip_authentication_problem: str | None = None  # CAM: why there is no CA_IC
    explicit_parameters: bool = False  # the chip gave the (standardized) group explicitly

    def secure_messaging(self) -> SecureMessaging:
        return self.protocol.secure_messaging(self.ks_enc, self.ks_mac)

    def describe(self) -> str:
        explicit = ""
        if self.explicit_parameters:
            explicit = " (given explicitly" + (f", id {self.parameter_id})" if self.parameter_id is not None else ")")
        return (f"PACE {self.protocol.name} on {self.group.name}{explicit} "
                f"with the {PASSWORD_NAMES[self.password_type]}")


def _general_authenticate(transceiver: Transceiver, objects: bytes, *, last: bool, extended: bool) -> tlv.Tlv:
    command = CommandApdu(0x00 if last else 0x10, 0x86, 0x00, 0x00, tlv.encode(0x7C, objects),
                          ne=0x10000 if extended else 0x100)
    response = send(transceiver, command)
    if not response.ok:
        if last and response.sw == SW_AUTHENTICATION_FAILED:
            raise PaceRefused("the chip refused the reader's authentication token (6300): wrong password?")
        raise PaceError(f"GENERAL AUTHENTICATE refused with status {response.sw:04X}")
    try:
        return tlv.decode_one(response.data, 0x7C)
    except tlv.TlvError as error:
        raise PaceError(f"malformed dynamic authentication data: {error}") from error


def _answer(data: tlv.Tlv, tag: int, *, may_be_empty: bool = False) -> bytes:
    try:
        found = data.find(tag)
    except tlv.TlvError as error:
        raise PaceError(f"malformed dynamic authentication data: {error}") from error
    if found is None:
        if may_be_empty:
            return b""
        raise PaceError(f"dynamic authentication data lacks tag {tag:02X}")
    return found.value


def perform_pace(transceiver: Transceiver, password: bytes, protocol: PaceProtocol | str, parameter_id: int | None,
                 password_type: int = PASSWORD_MRZ, random: Callable[[int], bytes] = secrets.token_bytes, *,
                 parameter_reference: bool = True, explicit: Group | None = None,
                 ephemeral_keys: Callable[[Group], int] | None = None) -> PaceResult:
    """Run PACE; return the session keys. Raises PaceError (PaceUnsupported
    before anything is sent, PaceRefused for a refused token).

    parameter_reference: send the domain parameter id (DO'84') in MSE:Set AT,
    which Doc 9303 requires when the chip offers several; it is the chip's own
    (proprietary) id when the chip gave the domain parameters explicitly, as
    `explicit` (see pace_group). ephemeral_keys picks the reader's private
    keys (the worked examples fix them)."""
    if isinstance(protocol, str):
        protocol = PaceProtocol.from_oid(protocol)
    group = pace_group(protocol, parameter_id, explicit)
    suite = protocol.suite
    new_key = ephemeral_keys or (lambda g: g.private_key(random))
    extended = (group.size if group.kind == "DH" else 1 + 2 * group.size) + 8 > 0xFF

    set_at = tlv.encode(0x80, oid_to_der(protocol.oid)) + tlv.encode(0x83, bytes([password_type]))
    if parameter_reference and parameter_id is not None:
        set_at += tlv.encode(0x84, unsigned(parameter_id))
    response = send(transceiver, CommandApdu(0x00, 0x22, 0xC1, 0xA4, set_at))
    if not response.ok:
        raise PaceError(f"MSE:Set AT refused with status {response.sw:04X}")

    k_pi = suite.kdf(password, KDF_PI)
    nonce = protocol.decrypt_nonce(k_pi, _answer(
        _general_authenticate(transceiver, b"", last=False, extended=False), 0x80))
    chip_mapping_key = None
    try:
        if protocol.mapping == "IM":
            t = random(suite.key_length)
            _answer(_general_authenticate(transceiver, tlv.encode(0x81, t), last=False, extended=extended),
                    0x82, may_be_empty=True)
            generator = integrated_map(group, suite, nonce, t)
        else:
            map_key = new_key(group)
            own_map_public = group.power(group.generator, map_key)
            chip_mapping_key = _answer(_general_authenticate(
                transceiver, tlv.encode(0x81, group.encode(own_map_public)), last=False, extended=extended), 0x82)
            chip_map_public = group.decode(chip_mapping_key)
            if chip_map_public == own_map_public:
                raise PaceError("chip echoed the reader's mapping public key")
            generator = generic_map(group, nonce, group.agree(map_key, chip_map_public))
        key = new_key(group)
        own_public = group.power(generator, key)
        chip_public_bytes = _answer(_general_authenticate(
            transceiver, tlv.encode(0x83, group.encode(own_public)), last=False, extended=extended), 0x84)
        chip_public = group.decode(chip_public_bytes)
        if chip_public == own_public:
            raise PaceError("chip echoed the reader's ephemeral public key")
        ks_enc, ks_mac = suite.session_keys(group.shared_secret(key, chip_public))
    except GroupError as error:
        raise PaceError(f"key agreement failed: {error}") from error

    final = _general_authenticate(transceiver, tlv.encode(0x85, token(protocol, ks_mac, group, chip_public)),
                                  last=True, extended=False)
    if not hmac.compare_digest(_answer(final, 0x86), token(protocol, ks_mac, group, own_public)):
        raise PaceError("the chip's authentication token does not verify")
    ca_data = problem = None
    if protocol.mapping == "CAM":
        # The session stands either way; a chip that cannot prove its key fails chip.ca, not access.
        try:
            encrypted = _answer(final, 0x8A, may_be_empty=True)
            if encrypted:
                ca_data = decrypt_chip_authentication_data(ks_enc, encrypted)
            else:
                problem = "the chip sent no chip authentication data (DO'8A') with PACE-CAM"
        except PaceError as error:
            problem = str(error)
    return PaceResult(protocol, group, parameter_id, password_type, ks_enc, ks_mac, chip_public_bytes,
                      chip_mapping_key, ca_data, problem, explicit is not None)
