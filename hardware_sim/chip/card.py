"""A virtual eMRTD chip: the LDS application with BAC and 3DES secure messaging.

`VirtualChip.process(apdu) -> response` answers command APDUs the way an
ICAO 9303 chip does, and `ChipFaults` makes it misbehave on demand the way
worn cards and hasty travellers do.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from drivers import bac, tlv
from drivers.iso7816.apdu import ApduError, CommandApdu, ResponseApdu
from drivers.iso7816.secure_messaging import DesSmCipher, des3_cbc_decrypt, des3_cbc_encrypt, retail_mac
from drivers.iso7816.transceiver import TransportError
from hardware_sim.chip.secure_messaging import ChipSession, SmViolation

EMRTD_AID = bytes.fromhex("A0000002471001")
# Files readable outside the eMRTD application and without BAC.
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
    """Misbehaviour switched on after a number of READ BINARY commands."""

    remove_after_reads: int | None = None     # card leaves the field
    corrupt_after_reads: int | None = None    # one bit flipped in each protected response
    wrong_mac_after_reads: int | None = None  # responses MACed under the wrong key


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
                 extended_length: bool = True, random: Callable[[int], bytes] = os.urandom) -> None:
        self.files = dict(files)
        self.keys = bac.BacKeys.from_mrz(mrz_key)
        self.faults = faults
        self.extended_length = extended_length
        self.atr = build_atr(extended_length)
        self._random = random
        self.present = True
        self.reads = 0
        self.log: list[tuple[bytes, bytes]] = []  # (command, response) as seen on the wire
        self.reset()

    def reset(self) -> None:
        """Power cycle: everything but the files and the fault counters is forgotten."""
        self.application_selected = False
        self.current_file: int | None = None
        self.challenge: bytes | None = None
        self.session: ChipSession | None = None

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
        return wrapped

    def _execute(self, command: CommandApdu, *, protected: bool) -> ResponseApdu:
        if command.cla & 0xF0:
            return ResponseApdu.status(SW_CLA_UNKNOWN)
        handlers = {0xA4: self._select, 0x84: self._get_challenge, 0x82: self._mutual_authenticate,
                    0xB0: self._read_binary, 0xB1: self._read_binary_odd}
        handler = handlers.get(command.ins)
        if handler is None:
            return ResponseApdu.status(SW_INS_UNKNOWN)
        return handler(command, protected)

    def _select(self, command: CommandApdu, protected: bool) -> ResponseApdu:
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
            visible = self.application_selected or file_id in UNPROTECTED_FILES
            if file_id not in self.files or not visible:
                return ResponseApdu.status(SW_NOT_FOUND)
            self.current_file = file_id
            return ResponseApdu.status(SW_OK)
        return ResponseApdu.status(SW_WRONG_P1P2)

    def _get_challenge(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if command.ne != 8:
            return ResponseApdu.status(SW_WRONG_LENGTH)
        self.challenge = self._random(8)
        return ResponseApdu.status(SW_OK, self.challenge)

    def _mutual_authenticate(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        challenge, self.challenge = self.challenge, None  # a challenge is good for one try
        if challenge is None:
            return ResponseApdu.status(SW_CONDITIONS)
        if len(command.data) != 40:
            return ResponseApdu.status(SW_WRONG_LENGTH)
        cryptogram, mac = command.data[:32], command.data[32:]
        if retail_mac(self.keys.k_mac, cryptogram) != mac:
            return ResponseApdu.status(SW_AUTH_FAILED)
        plain = des3_cbc_decrypt(self.keys.k_enc, cryptogram)
        rnd_ifd, echoed, k_ifd = plain[:8], plain[8:16], plain[16:]
        if echoed != challenge:
            return ResponseApdu.status(SW_AUTH_FAILED)
        k_ic = self._random(16)
        answer = des3_cbc_encrypt(self.keys.k_enc, challenge + rnd_ifd + k_ic)
        keys = bac.session_keys(k_ifd, k_ic, challenge, rnd_ifd)
        self.session = ChipSession(DesSmCipher(keys.ks_enc, keys.ks_mac), keys.ssc)
        return ResponseApdu.status(SW_OK, answer + retail_mac(self.keys.k_mac, answer))

    def _read_binary(self, command: CommandApdu, protected: bool) -> ResponseApdu:
        if command.p1 & 0x80:  # short EF identifier in P1, offset in P2
            file_id = 0x0100 | (command.p1 & 0x1F)
            if file_id not in self.files or not self.application_selected:
                return ResponseApdu.status(SW_NOT_FOUND)
            self.current_file, offset = file_id, command.p2
        else:
            offset = command.p1 << 8 | command.p2
        refusal = self._refuse_read(offset, protected)
        if refusal is not None:
            return refusal
        self.reads += 1
        wanted = command.ne or 0x100
        chunk = self.files[self.current_file][offset:offset + wanted]
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
        chunk = self.files[self.current_file][offset:offset + max(room, 0)]
        return ResponseApdu.status(SW_OK, tlv.encode(0x53, chunk))

    def _refuse_read(self, offset: int, protected: bool) -> ResponseApdu | None:
        if self.current_file is None:
            return ResponseApdu.status(SW_NO_CURRENT_EF)
        if not protected and self.current_file not in UNPROTECTED_FILES:
            return ResponseApdu.status(SW_SECURITY)
        if offset >= len(self.files[self.current_file]):
            return ResponseApdu.status(SW_WRONG_OFFSET)
        return None
