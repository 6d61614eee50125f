"""EF.SOD: the document security object (Doc 9303 Part 10 and Part 11 5.1).

Tag 77 wraps a CMS ContentInfo whose SignedData encapsulates an
LDSSecurityObject: the hash of every data group, signed by the Document
Signer, whose certificate usually travels inside the SignedData.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from asn1crypto import algos, core

from drivers.emrtd import tlv
from drivers.emrtd.lds.cms import SignedContent, parse_signed_data
from drivers.emrtd.lds.errors import LdsError, parsing

FILE = "EF.SOD"
TAG = 0x77
LDS_SECURITY_OBJECT_OID = "2.23.136.1.1.1"  # id-icao-mrtd-security-ldsSecurityObject
# China's passports (tests/drivers/fixtures/foreign_sod) encapsulate the LDSSecurityObject as plain id-data
# (RFC 5652); the signature still covers it, so it is read and the deviation recorded on the Sod.
ID_DATA_OID = "1.2.840.113549.1.7.1"


class DataGroupHash(core.Sequence):
    _fields = [
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):
    _fields = [
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class LdsSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),  # v0, or v1 when ldsVersionInfo is present
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class Sod:
    version: int
    hash_algorithm: str  # 'sha256', ...
    dg_hashes: dict[int, bytes]
    lds_version: str | None
    unicode_version: str | None
    signed: SignedContent = field(repr=False)
    deviations: tuple[str, ...] = ()  # tolerated departures from Doc 9303 (see ID_DATA_OID)

    @property
    def dsc(self) -> bytes | None:
        """DER of the Document Signer certificate named by the signer, if embedded."""
        return self.signed.signer_certificate


def parse(data: bytes) -> Sod:
    with parsing(FILE):
        wrapped = tlv.decode_one(data, TAG).value
    signed = parse_signed_data(wrapped, LDS_SECURITY_OBJECT_OID, FILE, tolerated_types=(ID_DATA_OID,))
    deviations = () if signed.content_type == LDS_SECURITY_OBJECT_OID else (
        f"LDSSecurityObject encapsulated as id-data ({ID_DATA_OID}), not id-icao-mrtd-security-ldsSecurityObject",)
    try:
        lso = LdsSecurityObject.load(signed.content, strict=True)
        version = lso["version"].native
        hash_algorithm = lso["hash_algorithm"]["algorithm"].native
        hashes: dict[int, bytes] = {}
        for entry in lso["data_group_hash_values"]:
            number = entry["data_group_number"].native
            if not 1 <= number <= 16:
                raise LdsError(FILE, f"data group number {number} out of range 1..16")
            if number in hashes:
                raise LdsError(FILE, f"DG{number} hashed twice")
            hashes[number] = entry["data_group_hash_value"].native
        info = lso["lds_version_info"]
        lds_version = unicode_version = None
        if info.native is not None:
            lds_version = info["lds_version"].native
            unicode_version = info["unicode_version"].native
    except LdsError:
        raise
    except Exception as exc:  # asn1crypto raises assorted types on bad DER
        raise LdsError(FILE, f"LDSSecurityObject does not decode: {exc}") from exc
    if version not in (0, 1):
        raise LdsError(FILE, f"LDSSecurityObject version {version} is neither v0 nor v1")
    if not hashes:
        raise LdsError(FILE, "no data group hashes")
    return Sod(version, hash_algorithm, hashes, lds_version, unicode_version, signed, deviations)


def encode_security_object(hash_algorithm: str, dg_hashes: dict[int, bytes],
                           lds_version: str | None = None, unicode_version: str | None = None) -> bytes:
    """DER LDSSecurityObject; v1 with version info when lds_version is given."""
    values = {
        "version": 1 if lds_version else 0,
        "hash_algorithm": {"algorithm": hash_algorithm},
        "data_group_hash_values": [
            {"data_group_number": n, "data_group_hash_value": h} for n, h in sorted(dg_hashes.items())],
    }
    if lds_version:
        values["lds_version_info"] = {"lds_version": lds_version, "unicode_version": unicode_version or ""}
    return LdsSecurityObject(values).dump()


def wrap(content_info: bytes) -> bytes:
    """EF.SOD file bytes around a DER ContentInfo."""
    return tlv.encode(TAG, content_info)
