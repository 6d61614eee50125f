"""A throw-away Extended Access Control PKI for test ePassports (BSI TR-03110): a Country Verifying CA,
a Document Verifier under it and inspection systems under that, all card verifiable certificates with
ECDSA on brainpoolP256r1, the way hardware_sim.pki makes the document-signing PKI.

The chip trusts the CVCA (`cvca`); a gate holds a `Terminal` (the DV and IS certificates and the IS key).
`wrong_terminals` makes the terminals a chip must refuse, each for one reason only.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from cryptography.hazmat.primitives.asymmetric import ec

from drivers.emrtd.pace import standard_group
from drivers.emrtd.passiveauth.countries import iso2
from drivers.emrtd.terminalauth.certificates import (
    ECDSA_SHA256,
    READ_DG3,
    READ_DG4,
    ROLE_CVCA,
    ROLE_DV_DOMESTIC,
    ROLE_TERMINAL,
    Chat,
    CvCertificate,
    CvPublicKey,
    issue,
)
from drivers.emrtd.terminalauth.protocol import TerminalCredentials

BRAINPOOL_P256R1 = 13  # Doc 9303's id for the curve: its parameters go into the CVCA certificate
WRONG_TERMINALS = ("unknown-cvca", "impostor-cvca", "expired", "no-fingerprint-right", "wrong-key",
                   "forged-certificate", "skips-dv")


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.BrainpoolP256R1())


def _code(country: str) -> str:
    """The two letters certificate references start with (ISO 3166-1, as in the CSCA's C=)."""
    return iso2(country) or country[:2].upper()


def _public(key: ec.EllipticCurvePrivateKey, *, explicit: bool = False) -> CvPublicKey:
    return CvPublicKey.from_key(key.public_key(), ECDSA_SHA256, standard_group(BRAINPOOL_P256R1).curve,
                                explicit=explicit)


@dataclass(frozen=True)
class Terminal:
    """What an inspection system holds: its chain below the CVCA and its private key."""

    certificates: tuple[CvCertificate, ...]
    key: ec.EllipticCurvePrivateKey = field(repr=False)

    def credentials(self) -> TerminalCredentials:
        return TerminalCredentials(self.certificates, self.key)


@dataclass(frozen=True)
class TestEacPki:
    __test__ = False  # not a pytest test class, despite the name

    country: str  # ICAO code, as hardware_sim.pki
    cvca: CvCertificate
    cvca_key: ec.EllipticCurvePrivateKey = field(repr=False)
    dv: CvCertificate = field(repr=False)
    dv_key: ec.EllipticCurvePrivateKey = field(repr=False)
    terminal: Terminal = field(repr=False)
    today: dt.date = field(default_factory=dt.date.today)

    def issue_terminal(self, *, rights: int = READ_DG3 | READ_DG4, effective: dt.date | None = None,
                       expiry: dt.date | None = None, sequence: int = 2) -> Terminal:
        """Another inspection system under this PKI's DV (valid from yesterday for a month unless told)."""
        key = _new_key()
        effective = effective or self.today - dt.timedelta(days=1)
        certificate = issue(authority=self.dv.holder, public_key=_public(key),
                            holder=f"{_code(self.country)}ISGATE{sequence:05d}",
                            chat=Chat.inspection_system(ROLE_TERMINAL, rights), effective=effective,
                            expiry=expiry or effective + dt.timedelta(days=30), signer=self.dv_key,
                            signer_algorithm=ECDSA_SHA256)
        return Terminal((self.dv, certificate), key)

    def wrong_terminals(self) -> dict[str, Terminal]:
        """Terminals this PKI's chips must refuse, by the one thing wrong with each."""
        stranger = make_test_eac_pki(self.country, today=self.today, cvca_sequence=2)
        impostor = make_test_eac_pki(self.country, today=self.today)  # same names, other keys
        key = _new_key()
        under_cvca = issue(authority=self.cvca.holder, public_key=_public(key),
                           holder=f"{_code(self.country)}ISGATE00005",
                           chat=Chat.inspection_system(ROLE_TERMINAL, READ_DG3 | READ_DG4),
                           effective=self.today - dt.timedelta(days=1), expiry=self.today + dt.timedelta(days=30),
                           signer=self.cvca_key, signer_algorithm=ECDSA_SHA256)
        forged_dv = replace(self.dv, signature=bytes([self.dv.signature[0] ^ 0x01]) + self.dv.signature[1:])
        return {
            "unknown-cvca": stranger.terminal,
            "impostor-cvca": impostor.terminal,
            "expired": self.issue_terminal(effective=self.today - dt.timedelta(days=60),
                                           expiry=self.today - dt.timedelta(days=1), sequence=3),
            "no-fingerprint-right": self.issue_terminal(rights=READ_DG4, sequence=4),
            "wrong-key": replace(self.terminal, key=_new_key()),
            "forged-certificate": Terminal((forged_dv, self.terminal.certificates[1]), self.terminal.key),
            "skips-dv": Terminal((under_cvca,), key),  # an inspection system the CVCA signed itself
        }


def make_test_eac_pki(country: str = "UTO", *, today: dt.date | None = None, cvca_sequence: int = 1) -> TestEacPki:
    """CVCA (three years), DV (a year), one inspection system reading DG3 and DG4 (a month)."""
    today = today or dt.date.today()
    code = _code(country)
    cvca_key, dv_key = _new_key(), _new_key()
    cvca_name = f"{code}CVCA{cvca_sequence:05d}"
    cvca = issue(authority=cvca_name, public_key=_public(cvca_key, explicit=True), holder=cvca_name,
                 chat=Chat.inspection_system(ROLE_CVCA, READ_DG3 | READ_DG4), effective=today - dt.timedelta(days=30),
                 expiry=today + dt.timedelta(days=3 * 365), signer=cvca_key, signer_algorithm=ECDSA_SHA256)
    dv = issue(authority=cvca_name, public_key=_public(dv_key), holder=f"{code}DVIS{cvca_sequence:05d}",
               chat=Chat.inspection_system(ROLE_DV_DOMESTIC, READ_DG3 | READ_DG4),
               effective=today - dt.timedelta(days=7), expiry=today + dt.timedelta(days=365), signer=cvca_key,
               signer_algorithm=ECDSA_SHA256)
    pki = TestEacPki(country, cvca, cvca_key, dv, dv_key, Terminal((), cvca_key), today)
    return replace(pki, terminal=pki.issue_terminal(sequence=1))
