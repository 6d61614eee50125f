"""The chip's side of Terminal Authentication version 1 (BSI TR-03110), written from the chip's point of
view: it shares with the reader only the certificate codec and the signature mathematics
(drivers.emrtd.terminalauth.certificates, proven on certificates Limes did not make), while the flow and
every check are its own, so a mistake on one side shows as a refused exchange.

What it checks: MSE:Set DST must name its CVCA or a key it verified in this session; a certificate must
be issued by that key (CAR), be an inspection system's, sit one level below its issuer (CVCA -> DV ->
inspection system), be valid on the chip's date and carry a signature that key made; MSE:Set AT must
name the last verified certificate, an inspection system's; EXTERNAL AUTHENTICATE must be that key's
signature of ID_PICC || its challenge || Comp(the reader's Chip Authentication key). Only then are the
chain's rights (the AND of its CHATs) granted, and with them DG3 and DG4.

A real chip has no clock and approximates the date from certificates it verified; the simulator takes
the date from `today` (the host's clock unless a test gives one).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from drivers.emrtd import tlv
from drivers.emrtd.iso7816.apdu import ResponseApdu
from drivers.emrtd.terminalauth.certificates import (
    CV_CERTIFICATE,
    ID_IS,
    READ_DG3,
    READ_DG4,
    ROLE_CVCA,
    ROLE_DV_DOMESTIC,
    ROLE_DV_FOREIGN,
    ROLE_TERMINAL,
    CvcError,
    CvCertificate,
    CvPublicKey,
    parse_certificate,
)
from drivers.emrtd.terminalauth.protocol import compressed

SW_OK = 0x9000
SW_VERIFICATION_FAILED = 0x6300
SW_SECURITY = 0x6982
SW_CONDITIONS = 0x6985
SW_WRONG_DATA = 0x6A80
SW_REFERENCE_NOT_FOUND = 0x6A88
DG3, DG4 = 0x0103, 0x0104
# Who may be certified by whom: a CVCA certifies Document Verifiers, a DV inspection systems.
_SUBJECT_ROLES = {ROLE_CVCA: {ROLE_DV_DOMESTIC, ROLE_DV_FOREIGN}, ROLE_DV_DOMESTIC: {ROLE_TERMINAL},
                  ROLE_DV_FOREIGN: {ROLE_TERMINAL}, ROLE_TERMINAL: set()}
PROTECTED_FILES = {DG3: READ_DG3, DG4: READ_DG4}


@dataclass(frozen=True)
class _VerifiedKey:
    holder: str
    key: CvPublicKey
    role: int
    rights: int


class ChipTerminalAuthentication:
    def __init__(self, trust_anchors: tuple[CvCertificate, ...], today: Callable[[], dt.date] = dt.date.today
                 ) -> None:
        self.trust_anchors = trust_anchors
        self.today = today
        self.reset()

    def reset(self) -> None:
        self.verified: dict[str, _VerifiedKey] = {}
        self.current: _VerifiedKey | None = None   # the key MSE:Set DST chose
        self.last: _VerifiedKey | None = None      # the certificate PSO:Verify accepted last
        self.terminal: _VerifiedKey | None = None  # chosen by MSE:Set AT
        self.granted = 0
        self.refusals: list[str] = []              # why, for tests and the simulator's log

    def _refuse(self, sw: int, why: str) -> ResponseApdu:
        self.refusals.append(why)
        return ResponseApdu.status(sw)

    def allows(self, file_id: int) -> bool:
        needed = PROTECTED_FILES.get(file_id)
        return needed is None or bool(self.granted & needed)

    def _anchor(self, reference: str) -> _VerifiedKey | None:
        for anchor in self.trust_anchors:
            if anchor.holder == reference and anchor.chat is not None and anchor.chat.terminal_type == ID_IS:
                return _VerifiedKey(anchor.holder, anchor.public_key, anchor.chat.role, anchor.chat.rights)
        return None

    def set_digital_signature_template(self, data: bytes) -> ResponseApdu:
        try:
            reference = tlv.decode_one(data, 0x83).value.decode("latin-1")
        except tlv.TlvError:
            return self._refuse(SW_WRONG_DATA, "MSE:Set DST without a key reference (83)")
        self.current = self.verified.get(reference) or self._anchor(reference)
        if self.current is None:
            return self._refuse(SW_REFERENCE_NOT_FOUND, f"no CVCA or verified key {reference}")
        return ResponseApdu.status(SW_OK)

    def verify_certificate(self, data: bytes) -> ResponseApdu:
        issuer, self.current = self.current, None  # a chosen key serves one certificate
        if issuer is None:
            return self._refuse(SW_CONDITIONS, "PSO:Verify Certificate without MSE:Set DST")
        try:
            certificate = parse_certificate(tlv.encode(CV_CERTIFICATE, data))
        except CvcError as error:
            return self._refuse(SW_WRONG_DATA, f"certificate: {error}")
        chat = certificate.chat
        if certificate.authority != issuer.holder:
            return self._refuse(SW_WRONG_DATA, f"{certificate.holder} names {certificate.authority}, "
                                               f"not the key {issuer.holder} set")
        if chat.terminal_type != ID_IS or chat.role not in _SUBJECT_ROLES[issuer.role]:
            return self._refuse(SW_WRONG_DATA, f"{certificate.holder} is not an inspection system's certificate "
                                               f"one level below {issuer.holder}")
        today = self.today()
        if not certificate.valid_on(today):
            return self._refuse(SW_VERIFICATION_FAILED, f"{certificate.holder} is not valid on {today}")
        try:
            key = certificate.public_key.inherit(issuer.key)
            genuine = certificate.signed_by(issuer.key)
        except CvcError as error:
            return self._refuse(SW_WRONG_DATA, f"{certificate.holder}: {error}")
        if not genuine:
            return self._refuse(SW_VERIFICATION_FAILED, f"{certificate.holder}: signature is not {issuer.holder}'s")
        self.last = _VerifiedKey(certificate.holder, key, chat.role, chat.rights & issuer.rights)
        if chat.role != ROLE_TERMINAL:
            self.verified[certificate.holder] = self.last  # a DV key may verify the next certificate
        return ResponseApdu.status(SW_OK)

    def set_authentication_template(self, data: bytes) -> ResponseApdu:
        self.terminal = None
        try:
            reference = tlv.decode_one(data, 0x83).value.decode("latin-1")
        except tlv.TlvError:
            return self._refuse(SW_WRONG_DATA, "MSE:Set AT without the terminal's reference (83)")
        if self.last is None or self.last.holder != reference or self.last.role != ROLE_TERMINAL:
            return self._refuse(SW_REFERENCE_NOT_FOUND, f"{reference} is not the inspection system just verified")
        self.terminal = self.last
        return ResponseApdu.status(SW_OK)

    def external_authenticate(self, signature: bytes, challenge: bytes | None, chip_identifier: bytes | None,
                              terminal_ephemeral_key: bytes | None) -> ResponseApdu:
        terminal, self.terminal = self.terminal, None  # one try per MSE:Set AT
        if terminal is None or challenge is None:
            return self._refuse(SW_CONDITIONS, "EXTERNAL AUTHENTICATE without MSE:Set AT and GET CHALLENGE")
        if chip_identifier is None or terminal_ephemeral_key is None:
            return self._refuse(SW_CONDITIONS, "Terminal Authentication before Chip Authentication")
        signed = chip_identifier + challenge + compressed(terminal_ephemeral_key)
        if not terminal.key.verify(signature, signed):
            return self._refuse(SW_VERIFICATION_FAILED, f"the signature is not {terminal.holder}'s")
        self.granted = terminal.rights
        return ResponseApdu.status(SW_OK)


__all__ = ["ChipTerminalAuthentication", "DG3", "DG4", "PROTECTED_FILES", "SW_SECURITY"]
