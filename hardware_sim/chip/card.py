"""A virtual eMRTD chip: EF.CardAccess and EF.CardSecurity in the Master File,
the LDS application, BAC and PACE (every mapping and cipher), secure
messaging with 3DES or AES, Chip Authentication, Active Authentication and
Terminal Authentication (which alone opens DG3 and DG4).

`VirtualChip.process(apdu) -> response` answers command APDUs the way an
ICAO 9303 chip does; what it offers is its `ChipProfile`, with the private
keys personalisation gave it. `ChipFaults` makes it misbehave on demand the
way worn cards, hasty travellers and forgers do.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Callable

from drivers.emrtd import bac, tlv
from drivers.emrtd.iso7816.apdu import ApduError, CommandApdu, ResponseApdu
from drivers.emrtd.iso7816.secure_messaging import DesSmCipher, des3_cbc_decrypt, des3_cbc_encrypt, retail_mac
from drivers.emrtd.iso7816.transceiver import TransportError
from drivers.emrtd.pace import can_password, mrz_password
from drivers.emrtd.terminalauth.certificates import CvCertificate
from drivers.emrtd.terminalauth.protocol import chip_identifier_after_bac, chip_identifier_after_pace
from hardware_sim.chip.personalise import PersonalisedChip
from hardware_sim.chip.protocols import ChipAuthentication, ChipPace, active_authentication_signature
from hardware_sim.chip.secure_messaging import ChipSession, SmViolation
from hardware_sim.chip.security import PROFILES, ChipKeys, ChipProfile, ca_protocol
from hardware_sim.chip.terminalauth import ChipTerminalAuthentication

EMRTD_AID = bytes.fromhex("A0000002471001")
# Master File files readable without access control (EF.CardSecurity needs a PACE session).
UNPROTECTED_FILES = frozenset({0x011C, 0x2F01})  # EF.CardAccess, EF.ATR/INFO

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282
SW_AUTH_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_SECURITY = 0x6982
SW_CONDITIONS = 0x6985
SW_NO_CURRENT_EF = 0x6986
SW_WRONG_DATA = 0x6A80
SW_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_WRONG_OFFSET = 0x6B00
SW_INS_UNKNOWN = 0x6D00
SW_CLA_UNKNOWN = 0x6E00


class CardRemoved(TransportError):
    """The virtual card left the reader's field."""


@dataclass(frozen=True)
class ChipFaults:
    """Misbehaviour: after a number of READ BINARY commands, or from the start."""

    remove_after_reads: int | None = None     # card leaves the field
    corrupt_after_reads: int | None = None    # one bit flipped in each protected response
    wrong_mac_after_reads: int | None = None  # responses MACed under the wrong key
    clone: bool = False                       # a copy: the data groups, not the private keys (fails CA and AA)
    wrong_pace_token: bool = False            # the chip's PACE authentication token is wrong


def build_atr(extended_length: bool) -> bytes:
    """T=1 ATR whose historical bytes announce the card capabilities."""
    history = bytes([0x80, 0x73, 0x80, 0x01, 0x40 if extended_length else 0x00])
    body = bytes([0x80 | len(history), 0x80, 0x01]) + history  # T0, TD1 (T=0 follows), TD2 (T=1)
    check = 0
    for byte in body:
        check ^= byte
    return b"\x3B" + body + bytes([check])


class VirtualChip:
    def __init__(self, files: dict[int, bytes], mrz_key: str, *, faults: ChipFaults = ChipFaults(),
                 extended_length: bool = True, random: Callable[[int], bytes] = os.urandom,
                 master_files: dict[int, bytes] | None = None, keys: ChipKeys | None = None,
                 profile: ChipProfile = PROFILES["bac"], terminal_trust: tuple[CvCertificate, ...] = (),
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        self.files = dict(files)
        self.master_files = dict(master_files or {})
        self.bac_keys = bac.BacKeys.from_mrz(mrz_key)
        self.profile = profile
        self.faults = faults
        # A clone copied the files but not the private keys: it has keys of its own.
        self.keys = (keys or ChipKeys()).counterfeit(random) if faults.clone else (keys or ChipKeys())
        passwords = {1: mrz_password(mrz_key)} | ({2: can_password(profile.can)} if profile.can else {})
        self._pace = ChipPace(profile.pace, passwords, self.keys, random, wrong_token=faults.wrong_pace_token)
        self._chip_authentication = ChipAuthentication(ca_protocol(profile), self.keys)
        self.terminal_authentication = ChipTerminalAuthentication(terminal_trust, today)
        self.bac_identifier = chip_identifier_after_bac(mrz_key)
        self.extended_length = extended_length
        self.atr = build_atr(extended_length)
        self._random = random
        self.present = True
        self.reads = 0
        self.log: list[tuple[bytes, bytes]] = []  # (command, response) as seen on the wire
        self.reset()

    @classmethod
    def personalised(cls, chip: PersonalisedChip, mrz_key: str, **options) -> "VirtualChip":
        """The chip a personalisation made: its files, keys and profile."""
        return cls(chip.files, mrz_key, master_files=chip.master_files, keys=chip.keys, profile=chip.profile,
                   terminal_trust=chip.terminal_trust, **options)

    def reset(self) -> None:
        """Power cycle: everything but the files and the fault counters is forgotten."""
        self.application_selected = False
        self.current_file: int | None = None
        self.current_master_file = False
        self.challenge: bytes | None = None
        self.session: ChipSession | None = None
        self.next_session: ChipSession | None = None  # keys that take over after the current answer
        self._pace.run = None
        self._chip_authentication.selected = None
        self._chip_authentication.reader_key = None
        self.terminal_authentication.reset()
        self.chip_identifier: bytes | None = None  # ID_PICC, once BAC or PACE has opened the chip

    def transmit(self, apdu: bytes) -> bytes:
        """The chip is its own in-memory Transceiver."""
        return self.process(apdu)

    def process(self, raw: bytes) -> bytes:
        if not self.present:
            raise CardRemoved("card is not in the reader")
        if self.faults.remove_after_reads is not None and self.reads >= self.faults.remove_after_reads:
            self.present = False
            raise CardRemoved(f"card removed after {self.reads} reads")
        response = self._respond(raw).encode()
        self.log.append((raw, response))
        return response

    def _respond(self, raw: bytes) -> ResponseApdu:
        try:
            command = CommandApdu.parse(raw)
        except ApduError:
            return ResponseApdu.status(SW_WRONG_LENGTH)
        if command.uses_extended and not self.extended_length:
            return ResponseApdu.status(SW_WRONG_LENGTH)
        if command.cla & 0x0C == 0x0C:
            return self._respond_protected(command)
        # A plain command ends any secure messaging session, as on real chips.
        self.session = None
        return self._execute(command, protected=False)

    def _respond_protected(self, command: CommandApdu) -> ResponseApdu:
        session = self.session
        if session is None:
            return ResponseApdu.status(SW_CONDITIONS)
        try:
            plain = session.unwrap(command)
        except SmViolation as violation:
            self.session = None
            return ResponseApdu.status(violation.sw)
        answer = self._execute(plain, protected=True)
        odd_ins = bool(command.ins & 1)
        if session.wrapped_size(len(answer.data), odd_ins) > (command.ne or 0x100):
            # The protected answer would not fit the Le the reader allowed.
            answer = ResponseApdu.status(SW_WRONG_LENGTH)
        fault_reads = self.faults.wrong_mac_after_reads
        wrong_key = fault_reads is not None and self.reads > fault_reads
        wrapped = session.wrap(answer, odd_ins=odd_ins,
                               mac_cipher=DesSmCipher(bytes(16), bytes(16)) if wrong_key else None)
        if self.faults.corrupt_after_reads is not None and self.reads > self.faults.corrupt_after_reads:
            corrupted = bytearray(wrapped.data)
            corrupted[len(corrupted) // 2] ^= 0x10
            wrapped = ResponseApdu(bytes(corrupted), wrapped.sw1, wrapped.sw2)
        if self.next_session is not None:  # Chip Authentication: the answer went under the old keys
            self.session, self.next_session = self.next_session, None
        return wrapped

    def _execute(self, command: CommandApdu, *, protected: bool) -> ResponseApdu:
        if command.cla & 0xF0 and not (command.cla == 0x10 and command.ins == 0x86):  # 10: PACE's chaining
            return ResponseApdu.status(SW_CLA_UNKNOWN)
        handlers = {0xA4: self._select, 0x84: self._get_challenge, 0x82: self._authenticate,
                    0x2A: self._verify_certificate, 0xB0: self._read_binary, 0xB1: self._read_binary_odd,
                    0x22: self._manage_security_environment, 0x86: self._general_authenticate,
                    0x88: self._internal_authenticate}
        handler = handlers.get(command.ins)
        if handler is None:
            return ResponseApdu.status(SW_INS_UNKNOWN)
        if command.ins != 0x86:
            self._pace.run = None  # anything else breaks a PACE chain
        return handler(command, protected)

    def _select(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if command.p1 == 0x00:  # the Master File
            if command.data not in (b"", b"\x3f\x00"):
                return ResponseApdu.status(SW_NOT_FOUND)
            self.application_selected = False
            self.current_file = None
            return ResponseApdu.status(SW_OK)
        if command.p1 == 0x04:  # by DF name
            if command.data != EMRTD_AID:
                return ResponseApdu.status(SW_NOT_FOUND)
            self.application_selected = True
            self.current_file = None
            return ResponseApdu.status(SW_OK)
        if command.p1 == 0x02 and command.p2 in (0x0C, 0x00):  # EF under the current DF
            if len(command.data) != 2:
                return ResponseApdu.status(SW_WRONG_DATA)
            file_id = int.from_bytes(command.data, "big")
            directory = self.files if self.application_selected else self.master_files
            if file_id not in directory:
                return ResponseApdu.status(SW_NOT_FOUND)
            if self.application_selected and not self.terminal_authentication.allows(file_id):
                return ResponseApdu.status(SW_SECURITY)  # DG3/DG4: Terminal Authentication first
            self.current_file, self.current_master_file = file_id, not self.application_selected
            return ResponseApdu.status(SW_OK)
        return ResponseApdu.status(SW_WRONG_P1P2)

    def _get_challenge(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if command.ne != 8:
            return ResponseApdu.status(SW_WRONG_LENGTH)
        self.challenge = self._random(8)
        return ResponseApdu.status(SW_OK, self.challenge)

    def _authenticate(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        """INS 82: BAC's MUTUAL AUTHENTICATE in the clear, Terminal Authentication's EXTERNAL
        AUTHENTICATE under secure messaging."""
        if not protected:
            return self._mutual_authenticate(command)
        challenge, self.challenge = self.challenge, None
        return self.terminal_authentication.external_authenticate(
            command.data, challenge, self.chip_identifier, self._chip_authentication.reader_key)

    def _verify_certificate(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        """PSO:Verify Certificate (2A, P1-P2 00BE) for Terminal Authentication."""
        if not protected:
            return ResponseApdu.status(SW_SECURITY)
        if (command.p1, command.p2) != (0x00, 0xBE):
            return ResponseApdu.status(SW_WRONG_P1P2)
        return self.terminal_authentication.verify_certificate(command.data)

    def _mutual_authenticate(self, command: CommandApdu) -> ResponseApdu:
        challenge, self.challenge = self.challenge, None  # a challenge is good for one try
        if challenge is None or not self.profile.bac:  # a PACE-only chip has no BAC
            return ResponseApdu.status(SW_CONDITIONS)
        if len(command.data) != 40:
            return ResponseApdu.status(SW_WRONG_LENGTH)
        cryptogram, mac = command.data[:32], command.data[32:]
        if retail_mac(self.bac_keys.k_mac, cryptogram) != mac:
            return ResponseApdu.status(SW_AUTH_FAILED)
        plain = des3_cbc_decrypt(self.bac_keys.k_enc, cryptogram)
        rnd_ifd, echoed, k_ifd = plain[:8], plain[8:16], plain[16:]
        if echoed != challenge:
            return ResponseApdu.status(SW_AUTH_FAILED)
        k_ic = self._random(16)
        answer = des3_cbc_encrypt(self.bac_keys.k_enc, challenge + rnd_ifd + k_ic)
        keys = bac.session_keys(k_ifd, k_ic, challenge, rnd_ifd)
        self.session = ChipSession(DesSmCipher(keys.ks_enc, keys.ks_mac), keys.ssc)
        self.chip_identifier = self.bac_identifier
        return ResponseApdu.status(SW_OK, answer + retail_mac(self.bac_keys.k_mac, answer))

    def _manage_security_environment(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        reference = command.p1 << 8 | command.p2
        if reference == 0xC1A4 and not protected:  # PACE
            return self._pace.set_authentication_template(command.data)
        if reference == 0x81B6 and protected:  # Terminal Authentication: the key for the next certificate
            return self.terminal_authentication.set_digital_signature_template(command.data)
        if reference == 0x81A4 and protected:  # Terminal Authentication: the terminal's key
            return self.terminal_authentication.set_authentication_template(command.data)
        if reference in (0x41A4, 0x41A6) and protected:  # Chip Authentication
            if reference == 0x41A4:
                return self._chip_authentication.set_authentication_template(command.data)
            answer, self.next_session = self._chip_authentication.set_key_agreement_template(command.data)
            return answer
        return ResponseApdu.status(SW_WRONG_P1P2 if reference not in (0xC1A4, 0x41A4, 0x41A6) else SW_CONDITIONS)

    def _general_authenticate(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if protected:
            answer, self.next_session = self._chip_authentication.general_authenticate(command)
            return answer
        answer, session = self._pace.general_authenticate(command)
        if session is not None:  # PACE done: secure messaging in the Master File
            self.session = session
            self.chip_identifier = chip_identifier_after_pace(self._pace.chip_key)
            self.application_selected = False
            self.current_file = None
        return answer

    def _internal_authenticate(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if not protected:
            return ResponseApdu.status(SW_SECURITY)
        if self.keys.aa_key is None:
            return ResponseApdu.status(SW_INS_UNKNOWN)
        if len(command.data) != 8:
            return ResponseApdu.status(SW_WRONG_DATA)
        return ResponseApdu.status(SW_OK, active_authentication_signature(self.keys, command.data, self._random))

    def _read_binary(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if command.p1 & 0x80:  # short EF identifier in P1, offset in P2
            file_id = 0x0100 | (command.p1 & 0x1F)
            if file_id not in self.files or not self.application_selected:
                return ResponseApdu.status(SW_NOT_FOUND)
            if not self.terminal_authentication.allows(file_id):
                return ResponseApdu.status(SW_SECURITY)
            self.current_file, self.current_master_file, offset = file_id, False, command.p2
        else:
            offset = command.p1 << 8 | command.p2
        refusal = self._refuse_read(offset, protected)
        if refusal is not None:
            return refusal
        self.reads += 1
        wanted = command.ne or 0x100
        chunk = self._current()[offset:offset + wanted]
        wildcard = wanted in (0x100, 0x10000)
        status = SW_END_OF_FILE if len(chunk) < wanted and not wildcard else SW_OK
        return ResponseApdu.status(status, chunk)

    def _read_binary_odd(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        """READ BINARY B1 of the current EF (P1-P2 = 0000): offset in DO'54', content in DO'53'."""
        if command.p1 or command.p2:
            return ResponseApdu.status(SW_WRONG_P1P2)
        try:
            offset_object = tlv.decode_one(command.data, 0x54)
        except tlv.TlvError:
            return ResponseApdu.status(SW_WRONG_DATA)
        offset = int.from_bytes(offset_object.value, "big")
        refusal = self._refuse_read(offset, protected)
        if refusal is not None:
            return refusal
        self.reads += 1
        wanted = command.ne or 0x100
        room = wanted - 2
        while room > 0 and len(tlv.encode(0x53, bytes(room))) > wanted:
            room -= 1
        chunk = self._current()[offset:offset + max(room, 0)]
        return ResponseApdu.status(SW_OK, tlv.encode(0x53, chunk))

    def _current(self) -> bytes:
        return (self.master_files if self.current_master_file else self.files)[self.current_file]

    def _refuse_read(self, offset: int, protected: bool) -> ResponseApdu | None:
        if self.current_file is None:
            return ResponseApdu.status(SW_NO_CURRENT_EF)
        if not protected and not (self.current_master_file and self.current_file in UNPROTECTED_FILES):
            return ResponseApdu.status(SW_SECURITY)
        if offset >= len(self._current()):
            return ResponseApdu.status(SW_WRONG_OFFSET)
        return None
