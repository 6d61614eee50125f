"""Personalisation: the files of a test ePassport chip, signed by a test PKI.

Builds EF.COM, DG1, DG2, optional DG3 (fingers, readable only after Terminal
Authentication against the CVCA given, whose reference EF.CVCA lists), DG11/DG12, and, for a chip whose profile
offers PACE, Chip or Active Authentication, DG14, DG15, EF.CardAccess and
EF.CardSecurity with the chip's keys (hardware_sim.chip.security); then the
EF.SOD signed by the Document Signer over every data group. Files are keyed
by file identifier as the virtual chip serves them. Faults make documents
that passive authentication must reject, each for one reason only.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from drivers.emrtd import tlv
from drivers.emrtd.lds import dg1, dg2, dg3, efcom, sod
from drivers.emrtd.lds.dg11 import Dg11
from drivers.emrtd.lds.dg11 import encode as encode_dg11
from drivers.emrtd.lds.dg12 import Dg12
from drivers.emrtd.lds.dg12 import encode as encode_dg12
from drivers.emrtd.lds.files import EF_COM, EF_SOD, fid
from drivers.emrtd.terminalauth.certificates import CvCertificate
from drivers.emrtd.terminalauth.protocol import EF_CVCA
from drivers.fingerprint import iso19794_4
from hardware_sim.chip.security import PROFILES, ChipKeys, ChipProfile, make_keys, security_files
from hardware_sim.pki import PrivateKey, TestPki, new_key, sign_cms

FAULTS = frozenset({"altered_dg", "wrong_signer", "expired_dsc", "revoked_dsc"})
LDS_VERSION = "1.8"
UNICODE_VERSION = "4.0.0"


@dataclass(frozen=True)
class PersonalisedChip:
    files: dict[int, bytes] = field(repr=False)  # the LDS application's files
    master_files: dict[int, bytes] = field(repr=False)  # EF.CardAccess, EF.CardSecurity
    keys: ChipKeys
    profile: ChipProfile
    terminal_trust: tuple[CvCertificate, ...] = ()  # the CVCA(s) Terminal Authentication must chain to


def personalise(mrz: str, photo_jpeg: bytes, pki: TestPki, **options) -> dict[int, bytes]:
    """The LDS files of a document (see personalise_chip for the options)."""
    return personalise_chip(mrz, photo_jpeg, pki, **options).files


def personalise_chip(mrz: str, photo_jpeg: bytes, pki: TestPki, *, profile: ChipProfile = PROFILES["bac"],
                     dg11: Dg11 | dict | None = None, dg12: Dg12 | dict | None = None, hash_alg: str = "sha256",
                     faults: Iterable[str] = (), signing_time: dt.datetime | None = None,
                     fingers: Iterable[tuple[int, np.ndarray]] = (), cvca: CvCertificate | None = None
                     ) -> PersonalisedChip:
    """A chip for a document: its files and its private keys.

    photo_jpeg is the encoded face (JPEG or JPEG 2000); DG2 gets its size
    from the image. profile says what the chip offers beyond BAC (PACE, Chip
    and Active Authentication: DG14, DG15, EF.CardAccess, EF.CardSecurity and
    the keys; hardware_sim.chip.security). fingers, (ISO finger position, 500 ppi
    grey image) pairs, go into DG3 as WSQ finger image records; the chip serves
    them only after Terminal Authentication chaining to cvca. Faults:
      altered_dg    DG2 changed after signing (its hash no longer matches)
      wrong_signer  SOD signed by a key that is not the DSC's
      expired_dsc   SOD signed by a DSC whose validity has ended
      revoked_dsc   SOD signed by a DSC listed on the PKI's CRL
    """
    faults = frozenset(faults)
    if faults - FAULTS:
        raise ValueError(f"unknown faults {sorted(faults - FAULTS)}; known: {sorted(FAULTS)}")
    if hash_alg not in hashlib.algorithms_guaranteed:
        raise ValueError(f"unknown hash algorithm {hash_alg!r}")

    groups: dict[int, bytes] = {
        1: dg1.encode(mrz),
        2: dg2.encode([dg2.face_from_image(photo_jpeg)]),
    }
    fingers = list(fingers)
    if fingers:
        groups[3] = dg3.encode([dg3.FingerRecord(dg3.FORMAT_TYPE_FINGER_IMAGE, position, iso19794_4.encode(
            [iso19794_4.FingerView(position, image)])) for position, image in fingers])
    if dg11 is not None:
        groups[11] = encode_dg11(dg11 if isinstance(dg11, Dg11) else Dg11(**dg11))
    if dg12 is not None:
        groups[12] = encode_dg12(dg12 if isinstance(dg12, Dg12) else Dg12(**dg12))

    signer = pki.dsc
    if "expired_dsc" in faults:
        signer = pki.expired_dsc
    if "revoked_dsc" in faults:
        signer = pki.revoked_dsc
    forged_key: PrivateKey | None = new_key(pki.key_kind) if "wrong_signer" in faults else None

    keys = make_keys(profile)
    chip_groups, master_files = security_files(profile, keys, lambda content_type, content: sign_cms(
        content_type, content, signer, hash_alg, signing_key=forged_key, signing_time=signing_time))
    groups.update(chip_groups)

    hashes = {n: hashlib.new(hash_alg, data).digest() for n, data in groups.items()}
    security_object = sod.encode_security_object(hash_alg, hashes, "0108", "040000")
    content_info = sign_cms(sod.LDS_SECURITY_OBJECT_OID, security_object, signer, hash_alg,
                            signing_key=forged_key, signing_time=signing_time)

    if "altered_dg" in faults:
        groups[2] = _alter(groups[2])

    files = {fid(n): data for n, data in groups.items()}
    files[EF_COM] = efcom.encode(efcom.EfCom(LDS_VERSION, UNICODE_VERSION, tuple(sorted(groups))))
    files[EF_SOD] = sod.wrap(content_info)
    if cvca is not None:
        # EF.CVCA: the trusted CVCA's reference, zero-padded to the file's fixed 36 bytes
        files[EF_CVCA] = tlv.encode(0x42, cvca.holder.encode("latin-1")).ljust(36, b"\x00")
    return PersonalisedChip(files, master_files, keys, profile, (cvca,) if cvca is not None else ())


def _alter(dg2_file: bytes) -> bytes:
    """Flip one bit in the middle of the face image: a substituted photo in
    miniature, leaving the DG2 structure intact so only the hash betrays it."""
    image_size = len(dg2.parse(dg2_file).faces[0].image)
    position = len(dg2_file) - image_size // 2
    data = bytearray(dg2_file)
    # never create 0xFF, which would start a JPEG marker
    data[position] ^= 0x02 if data[position] ^ 0x01 == 0xFF else 0x01
    return bytes(data)
