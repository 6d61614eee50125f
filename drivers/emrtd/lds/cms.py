"""The CMS SignedData shell shared by EF.SOD and CSCA master lists.

Only what Doc 9303 uses is kept: one encapsulated content of a given type,
the embedded certificates and the single signer. asn1crypto decodes lazily
and raises assorted exception types on hostile input, so every access to it
happens here, inside one guard that turns any of them into an LdsError.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from asn1crypto import algos, cms

from drivers.emrtd.lds.errors import LdsError


@dataclass(frozen=True)
class SignedContent:
    content_type: str  # dotted OID of the encapsulated content
    content: bytes = field(repr=False)  # the encapsulated content, exactly as signed
    certificates: tuple[bytes, ...] = field(repr=False)  # DER of every embedded certificate
    signer_certificate: bytes | None = field(repr=False)  # DER of the certificate the signer identifier names
    digest_algorithm: str  # 'sha256', ...
    signature_algorithm: algos.SignedDigestAlgorithm = field(compare=False)
    signature: bytes = field(repr=False)
    signed_attributes: bytes | None = field(repr=False)  # DER with the SET OF tag, as the signature covers it
    message_digest: bytes | None  # the messageDigest signed attribute
    signed_content_type: str | None  # the contentType signed attribute (dotted OID)
    # who the signer says it is, to find a certificate that was not embedded: (issuer Name DER, serial)
    # or the subjectKeyIdentifier bytes
    signer_id: tuple[bytes, int] | bytes | None = None


def parse_signed_data(data: bytes, expected_type: str, file: str, *,
                      tolerated_types: tuple[str, ...] = ()) -> SignedContent:
    """Parse a DER ContentInfo holding SignedData with content type expected_type (or one of
    tolerated_types, which real documents use; the caller records that as a deviation)."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise LdsError(file, f"content type {info['content_type'].dotted} is not signedData")
        signed = info["content"]
        encap = signed["encap_content_info"]
        content_type = encap["content_type"].dotted
        if content_type != expected_type and content_type not in tolerated_types:
            raise LdsError(file, f"encapsulated content type {content_type}, expected {expected_type}")
        content = encap["content"].native  # an OCTET STRING for the ICAO content types
        if not isinstance(content, bytes):
            raise LdsError(file, "encapsulated content is absent (detached signature)")
        certificates = [c.chosen for c in signed["certificates"] or []
                        if c.name == "certificate"]
        signers = signed["signer_infos"]
        if len(signers) != 1:
            raise LdsError(file, f"{len(signers)} signers; exactly one expected")
        signer = signers[0]
        signature_algorithm = signer["signature_algorithm"]
        signature_algorithm.native  # decode now, not later in the verifier
        attributes = signer["signed_attrs"]
        signed_attributes = message_digest = signed_content_type = None
        if attributes.native is not None and len(attributes):
            # the signature covers the attributes re-tagged as a SET OF (RFC 5652 5.4)
            signed_attributes = b"\x31" + attributes.dump()[1:]
            for attribute in attributes:
                kind = attribute["type"].native
                if kind == "message_digest":
                    message_digest = attribute["values"][0].native
                elif kind == "content_type":
                    signed_content_type = attribute["values"][0].dotted
        return SignedContent(
            content_type=content_type,
            content=content,
            certificates=tuple(c.dump() for c in certificates),
            signer_certificate=_signer_certificate(signer["sid"], certificates),
            digest_algorithm=signer["digest_algorithm"]["algorithm"].native,
            signature_algorithm=signature_algorithm,
            signature=signer["signature"].native,
            signed_attributes=signed_attributes,
            message_digest=message_digest,
            signed_content_type=signed_content_type,
            signer_id=_signer_id(signer["sid"]),
        )
    except LdsError:
        raise
    except Exception as exc:  # asn1crypto: ValueError, TypeError, KeyError, ... on bad DER
        raise LdsError(file, f"CMS SignedData does not decode: {exc}") from exc


def _signer_certificate(sid: cms.SignerIdentifier, certificates: list) -> bytes | None:
    for certificate in certificates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (certificate.issuer == wanted["issuer"]
                    and certificate.serial_number == wanted["serial_number"].native):
                return certificate.dump()
        elif certificate.key_identifier == sid.chosen.native:
            return certificate.dump()
    return None


def _signer_id(sid: cms.SignerIdentifier) -> tuple[bytes, int] | bytes:
    if sid.name == "issuer_and_serial_number":
        return sid.chosen["issuer"].dump(), sid.chosen["serial_number"].native
    return sid.chosen.native
