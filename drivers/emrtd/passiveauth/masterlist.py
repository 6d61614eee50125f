"""CSCA master lists (Doc 9303 Part 12 section 9): a CMS SignedData with
content type id-icao-cscaMasterList holding a CscaMasterList, signed by a
Master List Signer whose certificate is issued by a CSCA."""
from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from drivers.emrtd.lds.cms import SignedContent, parse_signed_data
from drivers.emrtd.lds.errors import LdsError

FILE = "master list"
MASTER_LIST_OID = "2.23.136.1.1.2"  # id-icao-cscaMasterList
MASTER_LIST_SIGNER_EKU = "2.23.136.1.1.3"  # id-icao-cscaMasterListSigningKey


class CscaCertificates(core.SetOf):
    _child_spec = asn1_x509.Certificate


class CscaMasterList(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("cert_list", CscaCertificates),
    ]


@dataclass(frozen=True)
class MasterList:
    certificates: tuple[bytes, ...]  # DER of every CSCA listed
    signed: SignedContent


def parse(data: bytes) -> MasterList:
    """Parse (without verifying) a master list file: DER ContentInfo."""
    signed = parse_signed_data(data, MASTER_LIST_OID, FILE)
    try:
        content = CscaMasterList.load(signed.content, strict=True)
        certificates = tuple(c.dump() for c in content["cert_list"])
    except Exception as exc:  # asn1crypto raises assorted types on bad DER
        raise LdsError(FILE, f"CscaMasterList does not decode: {exc}") from exc
    return MasterList(certificates, signed)


def encode_content(certificates: list[bytes]) -> bytes:
    """DER CscaMasterList for the given DER certificates."""
    return CscaMasterList({
        "version": 0,
        "cert_list": [asn1_x509.Certificate.load(c) for c in certificates],
    }).dump()
