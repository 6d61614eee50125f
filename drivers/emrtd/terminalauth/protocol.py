"""Terminal Authentication version 1, reader side (BSI TR-03110 Part 1 section 2.4 and Part 3 B.3/B.11).

An ePassport keeps DG3 (fingerprints) and DG4 (iris) for inspection systems that prove a right to them:

1. for each certificate of the terminal's chain, from the one the chip's CVCA signed down to the
   inspection system's: MSE:Set DST naming the key that signed it (its CAR), then PSO:Verify
   Certificate with its body and signature; the chip keeps each verified key for the next link;
2. MSE:Set AT naming the inspection system's certificate (its CHR);
3. GET CHALLENGE: eight random bytes from the chip;
4. EXTERNAL AUTHENTICATE with the terminal's signature of ID_PICC || challenge || Comp(ephemeral key),
   where the ephemeral key is the one the terminal used in Chip Authentication (which ran first, as in
   EAC version 1) and ID_PICC is the document number with its check digit after BAC, or Comp of the
   chip's ephemeral PACE key after PACE.

The chip then grants the rights every certificate of the chain allows (the AND of their CHATs).
Everything here talks to a Transceiver: pure and testable with the virtual chip in memory.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from drivers.emrtd import tlv
from drivers.emrtd.iso7816.apdu import CommandApdu, ResponseApdu, status_meaning
from drivers.emrtd.iso7816.transceiver import Transceiver, send
from drivers.emrtd.terminalauth.certificates import (
    AUTHORITY,
    CvcError,
    CvCertificate,
    parse_certificate,
    sign,
)

CHALLENGE_LENGTH = 8
EF_CVCA = 0x011C  # in the LDS application: the CARs of the CVCA keys the chip trusts
# A terminal's credentials on disk: its chain below the CVCA (DV, then IS), concatenated, and its key.
TERMINAL_CHAIN = "terminal.cvcerts"
TERMINAL_KEY = "terminal.key.pem"  # PKCS#8 PEM, unencrypted: keep the folder readable by the gate only


class TerminalAuthenticationError(Exception):
    """The chip refused a step (`step`, `sw`), or the terminal's credentials are unusable."""

    def __init__(self, step: str, reason: str, sw: int | None = None) -> None:
        self.step = step
        self.sw = sw
        super().__init__(f"{step}: {reason}")


@dataclass(frozen=True)
class TerminalCredentials:
    """An inspection system's certificate chain, in the order the chip verifies it (DV, then IS; a CVCA
    link certificate may come first), and the inspection system's private key."""

    certificates: tuple[CvCertificate, ...]
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def from_encoded(cls, chain: list[bytes], private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
                     ) -> "TerminalCredentials":
        try:
            certificates = tuple(parse_certificate(item) for item in chain)
        except CvcError as error:
            raise TerminalAuthenticationError("terminal certificates", str(error)) from error
        if not certificates:
            raise TerminalAuthenticationError("terminal certificates", "the chain is empty")
        for issuer, subject in zip(certificates, certificates[1:]):
            if subject.authority != issuer.holder:
                raise TerminalAuthenticationError("terminal certificates", f"{subject.holder} is issued by "
                                                  f"{subject.authority}, not by {issuer.holder} before it")
        return cls(certificates, private_key)

    @classmethod
    def load(cls, folder: Path) -> "TerminalCredentials":
        """TERMINAL_CHAIN and TERMINAL_KEY from a folder; TerminalAuthenticationError (or OSError) says
        what is wrong."""
        try:
            chain = [item.encode() for item in tlv.decode((folder / TERMINAL_CHAIN).read_bytes())]
            key = load_pem_private_key((folder / TERMINAL_KEY).read_bytes(), password=None)
        except (tlv.TlvError, ValueError, TypeError) as error:
            raise TerminalAuthenticationError("EAC credentials", f"{folder}: {error}") from error
        if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise TerminalAuthenticationError("EAC credentials", f"{folder}: the key is neither EC nor RSA")
        return cls.from_encoded(chain, key)

    def save(self, folder: Path) -> None:
        """The files `load` reads (the key readable by its owner only)."""
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

        folder.mkdir(parents=True, exist_ok=True)
        (folder / TERMINAL_CHAIN).write_bytes(b"".join(c.encode() for c in self.certificates))
        key = folder / TERMINAL_KEY
        key.write_bytes(self.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        key.chmod(0o600)

    @property
    def terminal(self) -> CvCertificate:
        return self.certificates[-1]

    @property
    def trust_anchor(self) -> str:
        """The CAR the chain starts from: the CVCA key the chip must know."""
        return self.certificates[0].authority or ""


@dataclass(frozen=True)
class TerminalAuthenticationResult:
    terminal: str           # the inspection system's CHR
    chain: tuple[str, ...]  # every CHR the chip verified, in order
    rights: str             # what the chain's CHATs allow, as the certificates say


def compressed(public_key: bytes) -> bytes:
    """Comp() of TR-03110: the x coordinate of an uncompressed EC point, SHA-1 of a DH value."""
    if public_key[:1] == b"\x04" and len(public_key) % 2 == 1:
        return public_key[1:1 + len(public_key) // 2]
    return hashlib.sha1(public_key).digest()


def chip_identifier_after_bac(mrz_information: str) -> bytes:
    """ID_PICC after BAC: the document number with its check digit, as in the MRZ information
    (which ends with the two dates and their check digits, fourteen characters)."""
    return mrz_information[:-14].encode("ascii")


def chip_identifier_after_pace(chip_ephemeral_key: bytes) -> bytes:
    return compressed(chip_ephemeral_key)


def parse_ef_cvca(data: bytes) -> list[str]:
    """The CARs EF.CVCA lists (one or two, padded with zero bytes to its fixed size)."""
    content = data.rstrip(b"\x00")
    try:
        items = tlv.decode(content)
    except tlv.TlvError as error:
        raise TerminalAuthenticationError("EF.CVCA", f"bad TLV: {error}") from error
    if not items or any(item.tag != AUTHORITY for item in items):
        raise TerminalAuthenticationError("EF.CVCA", "holds something other than CVCA references (42)")
    return [item.value.decode("latin-1") for item in items]


def _expect_ok(response: ResponseApdu, step: str) -> ResponseApdu:
    if not response.ok:
        raise TerminalAuthenticationError(step, f"the chip answered {response.sw:04X} ({status_meaning(response.sw)})",
                                          response.sw)
    return response


def perform_ta(channel: Transceiver, credentials: TerminalCredentials, chip_identifier: bytes,
               terminal_ephemeral_key: bytes) -> TerminalAuthenticationResult:
    """Run Terminal Authentication over the open secure channel. TerminalAuthenticationError when the chip
    refuses a certificate or the signature; the secure channel itself stays usable either way."""
    for certificate in credentials.certificates:
        authority = tlv.encode(0x83, (certificate.authority or "").encode("latin-1"))
        _expect_ok(send(channel, CommandApdu(0x00, 0x22, 0x81, 0xB6, authority)),
                   f"MSE:Set DST {certificate.authority}")
        signature = tlv.encode(0x5F37, certificate.signature)
        _expect_ok(send(channel, CommandApdu(0x00, 0x2A, 0x00, 0xBE, certificate.body + signature)),
                   f"PSO:Verify Certificate {certificate.holder}")
    terminal = credentials.terminal
    _expect_ok(send(channel, CommandApdu(0x00, 0x22, 0x81, 0xA4, tlv.encode(0x83, terminal.holder.encode("latin-1")))),
               "MSE:Set AT for Terminal Authentication")
    challenge = _expect_ok(send(channel, CommandApdu(0x00, 0x84, 0x00, 0x00, ne=CHALLENGE_LENGTH)),
                           "GET CHALLENGE").data
    if len(challenge) != CHALLENGE_LENGTH:
        raise TerminalAuthenticationError("GET CHALLENGE", f"{len(challenge)} bytes instead of {CHALLENGE_LENGTH}")
    signed = chip_identifier + challenge + compressed(terminal_ephemeral_key)
    try:
        signature = sign(credentials.private_key, terminal.public_key.algorithm, signed)
    except CvcError as error:
        raise TerminalAuthenticationError("EXTERNAL AUTHENTICATE", str(error)) from error
    _expect_ok(send(channel, CommandApdu(0x00, 0x82, 0x00, 0x00, signature)), "EXTERNAL AUTHENTICATE")
    rights = terminal.chat.describe() if terminal.chat else "no CHAT"
    return TerminalAuthenticationResult(terminal.holder, tuple(c.holder for c in credentials.certificates), rights)
