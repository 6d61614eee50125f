"""The chip's side of PACE, Chip Authentication and Active Authentication.

Written from the chip's point of view, as the secure messaging is: the
flow and the checks are the chip's own, and it shares with the reader only
the mathematics (groups, mappings, KDF, ciphers), which the Doc 9303 worked
examples check independently. A mistake in one side's protocol handling
therefore shows as a failed exchange instead of cancelling out.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Callable

from asn1crypto import core
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from drivers.emrtd import tlv
from drivers.emrtd.chipauth import iso9796
from drivers.emrtd.chipauth.ca import CaProtocol
from drivers.emrtd.iso7816.aes_sm import aes_ecb_encrypt_block
from drivers.emrtd.iso7816.apdu import CommandApdu, ResponseApdu
from drivers.emrtd.iso7816.secure_messaging import pad
from drivers.emrtd.pace import PaceProtocol, PaceUnsupported
from drivers.emrtd.pace.curves import GroupError
from drivers.emrtd.pace.groups import Element, Group
from drivers.emrtd.pace.mapping import chip_authentication_data, generic_map, integrated_map
from drivers.emrtd.pace.protocol import public_key_object
from drivers.emrtd.pace.suite import KDF_PI, CipherSuite
from hardware_sim.chip.secure_messaging import ChipSession
from hardware_sim.chip.security import ChipKeys, PaceOffer, aa_hash_algorithm

SW_OK = 0x9000
SW_AUTH_FAILED = 0x6300
SW_CONDITIONS = 0x6985
SW_WRONG_DATA = 0x6A80
SW_NOT_FOUND_DATA = 0x6A88
SW_LAST_COMMAND_EXPECTED = 0x6883
SW_SECURITY = 0x6982


def _status(sw: int, data: bytes = b"") -> ResponseApdu:
    return ResponseApdu.status(sw, data)


def _oid(value: bytes | None) -> str | None:
    """The dotted form of an OID's content octets (what DO'80' of MSE:Set AT carries)."""
    if not value:
        return None
    try:
        return core.ObjectIdentifier.load(tlv.encode(0x06, value), strict=True).dotted
    except ValueError:
        return None


@dataclass
class _PaceRun:
    protocol: PaceProtocol
    group: Group
    password: bytes
    step: int = 0
    nonce: bytes = b""
    map_private: int = 0
    generator: Element | None = None
    private: int = 0
    own_public: Element | None = None
    reader_public: Element | None = None
    ks_enc: bytes = b""
    ks_mac: bytes = b""


class ChipPace:
    """MSE:Set AT (C1A4) and the chain of four GENERAL AUTHENTICATE commands."""

    def __init__(self, offers: tuple[PaceOffer, ...], passwords: dict[int, bytes], keys: ChipKeys,
                 random: Callable[[int], bytes], *, wrong_token: bool = False) -> None:
        self.offers = offers
        self.passwords = passwords  # password reference (1 MRZ, 2 CAN) -> the password
        self.keys = keys
        self.random = random
        self.wrong_token = wrong_token
        self.run: _PaceRun | None = None
        self.chip_key = b""  # the chip's ephemeral key of the last PACE (Terminal Authentication's ID_PICC)

    def set_authentication_template(self, data: bytes) -> ResponseApdu:
        self.run = None
        try:
            objects = {item.tag: item.value for item in tlv.decode(data)}
        except tlv.TlvError:
            return _status(SW_WRONG_DATA)
        oid = _oid(objects.get(0x80))
        reference = objects.get(0x83, b"")
        offers = [o for o in self.offers if o.protocol.oid == oid]
        if 0x84 in objects:
            offers = [o for o in offers if o.parameter_id == int.from_bytes(objects[0x84], "big")]
        if not offers or len(offers) > 1 and 0x84 not in objects:
            return _status(SW_WRONG_DATA)  # not offered, or ambiguous without a parameter reference
        if len(reference) != 1 or reference[0] not in self.passwords:
            return _status(SW_NOT_FOUND_DATA)
        offer = offers[0]
        self.run = _PaceRun(offer.protocol, offer.group, self.passwords[reference[0]])
        return _status(SW_OK)

    def general_authenticate(self, command: CommandApdu) -> tuple[ResponseApdu, ChipSession | None]:
        """The answer, and the new secure messaging session once PACE has succeeded."""
        run = self.run
        if run is None:
            return _status(SW_CONDITIONS), None
        last = command.cla & 0x10 == 0
        if last != (run.step == 3):
            self.run = None
            return _status(SW_LAST_COMMAND_EXPECTED if run.step == 3 else SW_CONDITIONS), None
        try:
            data = tlv.decode_one(command.data, 0x7C)
            objects = {item.tag: item.value for item in data.children()}
        except tlv.TlvError:
            self.run = None
            return _status(SW_WRONG_DATA), None
        try:
            answer, session = [self._nonce, self._map, self._agree, self._authenticate][run.step](run, objects)
        except (GroupError, KeyError, ValueError, PaceUnsupported):
            self.run = None
            return _status(SW_WRONG_DATA), None
        run.step += 1
        if session is not None or answer.sw != SW_OK:
            self.run = None
        return answer, session

    def _nonce(self, run: _PaceRun, objects: dict[int, bytes]):
        suite = run.protocol.suite
        run.nonce = self.random(suite.nonce_length)
        encrypted = suite.encrypt(suite.kdf(run.password, KDF_PI), run.nonce)
        return _status(SW_OK, tlv.encode(0x7C, tlv.encode(0x80, encrypted))), None

    def _map(self, run: _PaceRun, objects: dict[int, bytes]):
        group, suite = run.group, run.protocol.suite
        if run.protocol.mapping == "IM":
            t = objects[0x81]
            if len(t) != suite.key_length:
                raise ValueError("nonce t of the wrong length")
            run.generator = integrated_map(group, suite, run.nonce, t)
            return _status(SW_OK, tlv.encode(0x7C, tlv.encode(0x82, b""))), None
        reader_map = group.decode(objects[0x81])
        run.map_private = group.private_key(self.random)
        own = group.power(group.generator, run.map_private)
        run.generator = generic_map(group, run.nonce, group.agree(run.map_private, reader_map))
        return _status(SW_OK, tlv.encode(0x7C, tlv.encode(0x82, group.encode(own)))), None

    def _agree(self, run: _PaceRun, objects: dict[int, bytes]):
        group = run.group
        run.reader_public = group.decode(objects[0x83])
        run.private = group.private_key(self.random)
        own = group.power(run.generator, run.private)
        if own == run.reader_public:
            raise ValueError("the reader echoed the chip's key")
        run.own_public = own
        run.ks_enc, run.ks_mac = run.protocol.suite.session_keys(group.shared_secret(run.private, run.reader_public))
        return _status(SW_OK, tlv.encode(0x7C, tlv.encode(0x84, group.encode(own)))), None

    def _authenticate(self, run: _PaceRun, objects: dict[int, bytes]):
        protocol, group, suite = run.protocol, run.group, run.protocol.suite
        expected = suite.mac(run.ks_mac, public_key_object(protocol, group, run.own_public))
        if not hmac.compare_digest(objects.get(0x85, b""), expected):
            return _status(SW_AUTH_FAILED), None
        own_token = suite.mac(run.ks_mac, public_key_object(protocol, group, run.reader_public))
        if self.wrong_token:
            own_token = bytes([own_token[0] ^ 0x01]) + own_token[1:]
        body = tlv.encode(0x86, own_token)
        if protocol.mapping == "CAM":
            ca_data = chip_authentication_data(group, self.keys.ca_private, run.map_private)
            iv = aes_ecb_encrypt_block(run.ks_enc, b"\xff" * 16)
            body += tlv.encode(0x8A, suite.encrypt(run.ks_enc, pad(ca_data, 16), iv))
        session = ChipSession(suite.sm_cipher(run.ks_enc, run.ks_mac), 0)
        self.chip_key = group.encode(run.own_public)
        return _status(SW_OK, tlv.encode(0x7C, body)), session


class ChipAuthentication:
    """MSE:Set KAT (41A6), or MSE:Set AT (41A4) then GENERAL AUTHENTICATE, under secure messaging."""

    def __init__(self, protocol: CaProtocol | None, keys: ChipKeys) -> None:
        self.protocol = protocol  # None: the chip offers no Chip Authentication
        self.keys = keys
        self.selected: CaProtocol | None = None
        self.reader_key: bytes | None = None  # the reader's ephemeral key (Terminal Authentication signs it)

    def _key_reference_ok(self, objects: dict[int, bytes]) -> bool:
        if 0x84 not in objects:
            return True
        return self.keys.ca_key_id is not None and int.from_bytes(objects[0x84], "big") == self.keys.ca_key_id

    def _agree(self, suite: CipherSuite, reader_public: bytes) -> ChipSession:
        group = self.keys.ca_group
        secret = group.shared_secret(self.keys.ca_private, group.decode(reader_public))
        self.reader_key = reader_public
        return ChipSession(suite.sm_cipher(*suite.session_keys(secret)), 0)

    def set_key_agreement_template(self, data: bytes) -> tuple[ResponseApdu, ChipSession | None]:
        if self.protocol is None or self.protocol.suite.cipher != "3DES":
            return _status(SW_WRONG_DATA), None
        try:
            objects = {item.tag: item.value for item in tlv.decode(data)}
            if not self._key_reference_ok(objects):
                return _status(SW_NOT_FOUND_DATA), None
            return _status(SW_OK), self._agree(self.protocol.suite, objects[0x91])
        except (tlv.TlvError, KeyError, GroupError):
            return _status(SW_WRONG_DATA), None

    def set_authentication_template(self, data: bytes) -> ResponseApdu:
        self.selected = None
        try:
            objects = {item.tag: item.value for item in tlv.decode(data)}
        except tlv.TlvError:
            return _status(SW_WRONG_DATA)
        if self.protocol is None or _oid(objects.get(0x80)) != self.protocol.oid:
            return _status(SW_WRONG_DATA)
        if not self._key_reference_ok(objects):
            return _status(SW_NOT_FOUND_DATA)
        self.selected = self.protocol
        return _status(SW_OK)

    def general_authenticate(self, command: CommandApdu) -> tuple[ResponseApdu, ChipSession | None]:
        selected, self.selected = self.selected, None
        if selected is None:
            return _status(SW_CONDITIONS), None
        try:
            public = tlv.decode_one(command.data, 0x7C).find(0x80)
            if public is None:
                return _status(SW_WRONG_DATA), None
            return _status(SW_OK, tlv.encode(0x7C, b"")), self._agree(selected.suite, public.value)
        except (tlv.TlvError, GroupError):
            return _status(SW_WRONG_DATA), None


def active_authentication_signature(keys: ChipKeys, challenge: bytes, random: Callable[[int], bytes]) -> bytes:
    """INTERNAL AUTHENTICATE: RSA ISO/IEC 9796-2 (alternative production, sigma = min(s, n-s))
    or plain ECDSA over the challenge."""
    key = keys.aa_key
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        n = numbers.public_numbers.n
        size = (n.bit_length() + 7) // 8
        m1 = random(iso9796.capacity(size, keys.aa_hash))
        representative = int.from_bytes(iso9796.message_representative(m1, challenge, keys.aa_hash, size), "big")
        # CRT: s = F^d mod n from the two half-size exponentiations
        s_p = pow(representative, numbers.dmp1, numbers.p)
        s_q = pow(representative, numbers.dmq1, numbers.q)
        s = s_q + numbers.q * ((s_p - s_q) * numbers.iqmp % numbers.p)
        return min(s, n - s).to_bytes(size, "big")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(key.sign(challenge, ec.ECDSA(aa_hash_algorithm(keys.aa_hash))))
    half = (key.curve.key_size + 7) // 8
    return r.to_bytes(half, "big") + s.to_bytes(half, "big")


__all__ = ["ChipAuthentication", "ChipPace", "active_authentication_signature"]
