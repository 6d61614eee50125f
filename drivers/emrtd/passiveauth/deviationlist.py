"""Deviation lists (Doc 9303 Part 12 section 10): a state's signed notice that some of its documents or
certificates deviate from Doc 9303, so that inspection systems elsewhere know a fault is a known one.

A CMS SignedData with content type id-icao-DeviationList, signed by a Deviation List Signer whose
certificate carries the id-icao-DeviationListSigningKey extended key usage and is issued by a CSCA.
Each deviation names what it concerns (a Document Signer or CSCA certificate, by issuer and serial,
subject key identifier or digest; and/or a document type, an issuance period, document numbers) and
one or more descriptions, each a deviation type (an OID below id-icao-DeviationList) with optional text.

Limes records listed deviations beside the certificates they name and shows them in a check's reason
and in `limes pki list`; it never turns a failed check into a passed one because of them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509

from drivers.emrtd.lds.cms import SignedContent, parse_signed_data
from drivers.emrtd.lds.errors import LdsError

FILE = "deviation list"
DEVIATION_LIST_OID = "2.23.136.1.1.7"  # id-icao-DeviationList
DEVIATION_LIST_SIGNER_EKU = "2.23.136.1.1.8"  # id-icao-DeviationListSigningKey
MAX_DEVIATIONS = 100_000  # a state lists a handful; many more is a hostile file

# the deviation types Doc 9303 Part 12 defines, by OID, as printed to officers
TYPES = {
    f"{DEVIATION_LIST_OID}.1": "certificate or key",
    f"{DEVIATION_LIST_OID}.1.1": "Document Signer signature wrong",
    f"{DEVIATION_LIST_OID}.1.2": "Document Signer certificate encoding",
    f"{DEVIATION_LIST_OID}.1.3": "CSCA certificate encoding",
    f"{DEVIATION_LIST_OID}.1.4": "Active Authentication key compromised",
    f"{DEVIATION_LIST_OID}.2": "LDS",
    f"{DEVIATION_LIST_OID}.2.1": "data group malformed",
    f"{DEVIATION_LIST_OID}.2.2": "data group hash wrong",
    f"{DEVIATION_LIST_OID}.2.3": "EF.SOD signature wrong",
    f"{DEVIATION_LIST_OID}.2.4": "EF.COM inconsistent",
    f"{DEVIATION_LIST_OID}.3": "MRZ",
    f"{DEVIATION_LIST_OID}.3.1": "MRZ data wrong",
    f"{DEVIATION_LIST_OID}.3.2": "MRZ check digit wrong",
    f"{DEVIATION_LIST_OID}.4": "chip",
    f"{DEVIATION_LIST_OID}.5": "national use",
}


class _IssuancePeriod(core.Sequence):
    _fields = [("first_issued", core.GeneralizedTime), ("last_issued", core.GeneralizedTime)]


class _SignerIdentifier(core.Choice):  # DocumentSignerIdentifier; the module's tags are IMPLICIT
    _alternatives = [
        ("issuer_and_serial_number", cms.IssuerAndSerialNumber, {"implicit": 1}),
        ("subject_key_identifier", core.OctetString, {"implicit": 2}),
        ("certificate_digest", core.OctetString, {"implicit": 3}),
    ]


class _DocumentNumbers(core.SetOf):
    _child_spec = core.PrintableString


class _Documents(core.Sequence):
    _fields = [
        ("document_type", core.PrintableString, {"implicit": 0, "optional": True}),
        ("dsc_identifier", _SignerIdentifier, {"optional": True}),
        ("issuing_date", _IssuancePeriod, {"implicit": 4, "optional": True}),
        ("document_numbers", _DocumentNumbers, {"implicit": 5, "optional": True}),
    ]


class _Description(core.Sequence):
    _fields = [
        ("description", core.PrintableString, {"optional": True}),
        ("deviation_type", core.ObjectIdentifier),
        ("parameters", core.Any, {"explicit": 0, "optional": True}),
        ("national_use", core.Any, {"explicit": 1, "optional": True}),
    ]


class _Descriptions(core.SetOf):
    _child_spec = _Description


class _Deviation(core.Sequence):
    _fields = [("documents", _Documents), ("descriptions", _Descriptions)]


class _Deviations(core.SetOf):
    _child_spec = _Deviation


class _DeviationList(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("digest_algorithm", algos.DigestAlgorithm, {"optional": True}),
        ("deviations", _Deviations),
    ]


@dataclass(frozen=True)
class Deviation:
    """One listed deviation: what it concerns and what is wrong."""
    descriptions: tuple[str, ...]  # "data group hash wrong: DG2 of 2019 issues", one per description
    issuer_and_serial: tuple[bytes, int] | None = None  # the certificate it names: issuer Name DER, serial
    key_identifier: bytes | None = None
    certificate_digest: bytes | None = None
    document_type: str | None = None
    issued: tuple[dt.date, dt.date] | None = None
    document_numbers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"descriptions": list(self.descriptions), "document_type": self.document_type,
                "issued": [d.isoformat() for d in self.issued] if self.issued else None,
                "document_numbers": list(self.document_numbers),
                "names_certificate": any((self.issuer_and_serial, self.key_identifier, self.certificate_digest))}


@dataclass(frozen=True)
class DeviationList:
    deviations: tuple[Deviation, ...]
    digest_algorithm: str | None  # for certificate digests
    signed: SignedContent


def parse(data: bytes) -> DeviationList:
    """Parse (without verifying) a deviation list file: DER ContentInfo. LdsError when it does not decode."""
    signed = parse_signed_data(data, DEVIATION_LIST_OID, FILE)
    try:
        content = _DeviationList.load(signed.content, strict=True)
        listed = content["deviations"]
        if len(listed) > MAX_DEVIATIONS:
            raise LdsError(FILE, f"{len(listed)} deviations, more than {MAX_DEVIATIONS}")
        algorithm = content["digest_algorithm"]
        digest = algorithm["algorithm"].native if algorithm.native is not None else None
        return DeviationList(tuple(_deviation(d) for d in listed), digest, signed)
    except LdsError:
        raise
    except Exception as exc:  # noqa: BLE001 - asn1crypto raises assorted types on bad DER
        raise LdsError(FILE, f"DeviationList does not decode: {exc}") from exc


def _deviation(deviation: _Deviation) -> Deviation:
    documents = deviation["documents"]
    descriptions = tuple(_describe(d) for d in deviation["descriptions"])
    signer = documents["dsc_identifier"]
    name = signer.name if isinstance(signer, _SignerIdentifier) else None  # absent: a Void
    fields: dict[str, object] = {}
    if name == "issuer_and_serial_number":
        chosen = signer.chosen
        fields["issuer_and_serial"] = (chosen["issuer"].dump(), chosen["serial_number"].native)
    elif name == "subject_key_identifier":
        fields["key_identifier"] = signer.chosen.native
    elif name == "certificate_digest":
        fields["certificate_digest"] = signer.chosen.native
    if documents["document_type"].native is not None:
        fields["document_type"] = documents["document_type"].native
    if documents["issuing_date"].native is not None:
        period = documents["issuing_date"]
        fields["issued"] = (period["first_issued"].native.date(), period["last_issued"].native.date())
    if documents["document_numbers"].native is not None:
        fields["document_numbers"] = tuple(documents["document_numbers"].native)
    return Deviation(descriptions, **fields)


def _describe(description: _Description) -> str:
    oid = description["deviation_type"].dotted
    kind = TYPES.get(oid, oid)
    text = description["description"].native
    return f"{kind}: {text}" if text else kind


def encode_content(deviations: list[tuple[dict, list[tuple[str, str | None]]]],
                   digest_algorithm: str | None = None) -> bytes:
    """DER DeviationList (the test PKI signs it): each deviation as (documents, descriptions), documents
    with any of issuer_and_serial (issuer Name DER, serial), key_identifier, certificate_digest,
    document_type, issued (first, last date), document_numbers; descriptions as (type OID, text or None)."""
    listed = []
    for documents, descriptions in deviations:
        fields: dict[str, object] = {}
        if "issuer_and_serial" in documents:
            issuer, serial = documents["issuer_and_serial"]
            named = cms.IssuerAndSerialNumber({"issuer": asn1_x509.Name.load(issuer), "serial_number": serial})
            fields["dsc_identifier"] = _SignerIdentifier(name="issuer_and_serial_number", value=named)
        elif "key_identifier" in documents:
            fields["dsc_identifier"] = _SignerIdentifier(name="subject_key_identifier",
                                                         value=documents["key_identifier"])
        elif "certificate_digest" in documents:
            fields["dsc_identifier"] = _SignerIdentifier(name="certificate_digest",
                                                         value=documents["certificate_digest"])
        if "document_type" in documents:
            fields["document_type"] = documents["document_type"]
        if "issued" in documents:
            first, last = (dt.datetime.combine(d, dt.time(), dt.timezone.utc) for d in documents["issued"])
            fields["issuing_date"] = {"first_issued": first, "last_issued": last}
        if "document_numbers" in documents:
            fields["document_numbers"] = list(documents["document_numbers"])
        listed.append({"documents": fields, "descriptions": [
            {"deviation_type": oid, **({"description": text} if text else {})} for oid, text in descriptions]})
    content = {"version": 0, "deviations": listed}
    if digest_algorithm:
        content["digest_algorithm"] = {"algorithm": digest_algorithm}
    return _DeviationList(content).dump()
