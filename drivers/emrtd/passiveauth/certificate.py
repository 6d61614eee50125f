"""CSCA and Document Signer certificates as passive authentication reads them.

Decoded with asn1crypto, which keeps the TBSCertificate exactly as it was
signed, and checked with cryptography's signature primitives over those bytes.
`cryptography`'s own X.509 loader is not used for trust decisions: real national
certificates that it refuses or will refuse (a TBSCertificate with data after its
last field, serial numbers of zero or below) still verify here, and what is odd
about them is recorded as a deviation instead of losing the certificate.

What stays refused, with a reason (CertificateError): DER that does not decode,
a field of the wrong type, a validity that does not parse, duplicate extensions,
a signature algorithm in the TBS differing from the outer one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from asn1crypto import parser
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from drivers.emrtd.passiveauth.keys import public_key_from_info
from drivers.emrtd.passiveauth.signatures import verify_signature

# deviations from the Doc 9303 Part 12 CSCA profile that real master lists carry
NO_BASIC_CONSTRAINTS = "no basicConstraints extension"
NOT_CA = "basicConstraints says cA=FALSE"
BAD_BASIC_CONSTRAINTS = "basicConstraints does not decode"
NO_KEY_USAGE = "no keyUsage extension"
NO_KEY_CERT_SIGN = "keyUsage lacks keyCertSign"
BAD_KEY_USAGE = "keyUsage does not decode"

# RFC 4514 short names (the ones cryptography's rfc4514_string uses; the rest print as dotted OIDs)
_SHORT_NAMES = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "STREET",
    "2.5.4.10": "O", "2.5.4.11": "OU", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}


class CertificateError(ValueError):
    """A certificate that does not decode well enough to be checked; says why."""


class DistinguishedName:
    """An X.501 Name: compared as RFC 5280 section 7.1 says (case and white space folded, whatever
    string type each side uses), printed as RFC 4514 text."""

    def __init__(self, name: asn1_x509.Name) -> None:
        self.asn1 = name

    @cached_property
    def _key(self) -> object:
        """The prepared form RFC 5280 compares, made when first compared: string preparation is most of
        the cost of loading a certificate, and a DSC's subject is seldom compared."""
        return _prepared(self.asn1.dump())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DistinguishedName) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"DistinguishedName({self.rfc4514_string()!r})"

    def rfc4514_string(self) -> str:
        parts = []
        for rdn in reversed(list(self.asn1.chosen)):
            parts.append("+".join(f"{_SHORT_NAMES.get(a['type'].dotted, a['type'].dotted)}={_value(a)}"
                                  for a in rdn))
        return ",".join(parts)

    def attribute(self, dotted: str) -> str | None:
        """The first value of one attribute type (by OID), as text."""
        for rdn in self.asn1.chosen:
            for attribute in rdn:
                if attribute["type"].dotted == dotted:
                    value = attribute["value"].native
                    return value if isinstance(value, str) else None
        return None


@lru_cache(maxsize=65536)  # a store's names repeat: every DSC of a CSCA names it as its issuer
def _prepared(der: bytes) -> object:
    try:
        return asn1_x509.Name.load(der).hashable
    except Exception:  # noqa: BLE001 - asn1crypto raises assorted types on odd strings
        return der


def _value(attribute) -> str:
    try:
        value = attribute["value"].native
    except Exception:  # noqa: BLE001 - an undecodable string prints as its DER, as RFC 4514 says
        value = None
    if not isinstance(value, str):
        return "#" + attribute["value"].dump().hex()
    escaped = "".join("\\" + c if c in ',+"\\<>;=' else c for c in value)
    if escaped[:1] in ("#", " "):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped


@dataclass(frozen=True, eq=False)
class Certificate:
    """A decoded certificate. `encoding_deviations` lists what is tolerated about its encoding;
    `csca_deviations()` what is missing or wrong for a CSCA."""

    der: bytes
    tbs_der: bytes  # the TBSCertificate exactly as encoded: what the signature covers
    asn1: asn1_x509.Certificate = field(repr=False)
    subject: DistinguishedName
    issuer: DistinguishedName
    serial_number: int
    not_valid_before_utc: dt.datetime
    not_valid_after_utc: dt.datetime
    signature: bytes
    encoding_deviations: tuple[str, ...]

    @classmethod
    def load(cls, der: bytes) -> "Certificate":
        """Decode one DER certificate; data after it is tolerated and recorded. CertificateError when
        it does not decode."""
        try:
            return cls._load(der)
        except CertificateError:
            raise
        except Exception as exc:  # noqa: BLE001 - asn1crypto parses lazily and raises assorted types
            raise CertificateError(f"certificate does not decode: {exc}") from exc

    @classmethod
    def _load(cls, data: bytes) -> "Certificate":
        deviations = []
        _class, _method, _tag, header, contents, _trailer = parser.parse(data)
        der = header + contents
        if len(der) < len(data):
            deviations.append(f"{len(data) - len(der)} bytes of data after the certificate")
        certificate = asn1_x509.Certificate.load(der)
        _c, _m, _t, tbs_header, tbs_contents, _ = parser.parse(certificate.contents)
        tbs_der = tbs_header + tbs_contents
        tbs = certificate["tbs_certificate"]
        extra = len(tbs) - len(asn1_x509.TbsCertificate._fields)
        if extra > 0:
            deviations.append(f"TBSCertificate carries {extra} element(s) after its extensions")
        serial = tbs["serial_number"].native
        if serial <= 0:
            deviations.append(f"serial number {serial} is not positive")
        inner, outer = tbs["signature"]["algorithm"].dotted, certificate["signature_algorithm"]["algorithm"].dotted
        if inner != outer:
            raise CertificateError(f"signature algorithm {outer} differs from the signed one, {inner}")
        validity = tbs["validity"]
        not_before, not_after = validity["not_before"].native, validity["not_after"].native
        if not isinstance(not_before, dt.datetime) or not isinstance(not_after, dt.datetime):
            raise CertificateError("validity does not decode")
        self = cls(der, tbs_der, certificate, DistinguishedName(tbs["subject"]), DistinguishedName(tbs["issuer"]),
                   serial, not_before.astimezone(dt.timezone.utc), not_after.astimezone(dt.timezone.utc),
                   certificate["signature_value"].native, tuple(deviations))
        _ = (self.subject.rfc4514_string(), self.issuer.rfc4514_string(), self.key_usage,
             self._extension("basic_constraints"))  # decode names and extensions now, not mid-check
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return f"Certificate({self.subject.rfc4514_string()!r}, serial={self.serial_number})"

    # -- fields ------------------------------------------------------------------------------

    @property
    def country(self) -> str | None:
        """The subject's C= (ISO 3166 alpha-2 in a real CSCA or DSC), upper case."""
        country = self.subject.attribute("2.5.4.6")
        return country.upper() if country else None

    @cached_property
    def fingerprint_sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @property
    def self_issued(self) -> bool:
        return self.subject == self.issuer

    @cached_property
    def self_signed(self) -> bool:
        """Its own key verifies its signature (a root CSCA; a link certificate is not, even under the same name)."""
        return self.signature_problem(self) is None

    @property
    def signature_algorithm(self) -> asn1_x509.SignedDigestAlgorithm:
        return self.asn1["tbs_certificate"]["signature"]

    def public_key(self) -> PublicKeyTypes:
        """The subject's key (explicit EC parameters of a standardized curve read as that curve);
        UnsupportedAlgorithm or ValueError when it is of no kind known here."""
        return public_key_from_info(self.asn1["tbs_certificate"]["subject_public_key_info"].dump())

    def _extension(self, name: str):
        """The decoded value of one extension, None when absent; ValueError when it appears twice
        or does not decode."""
        found = [e for e in self.asn1["tbs_certificate"]["extensions"] if e["extn_id"].native == name]
        if len(found) > 1:
            raise CertificateError(f"extension {name} appears {len(found)} times")
        return found[0]["extn_value"].parsed if found else None

    @cached_property
    def key_identifier(self) -> bytes | None:
        """The subjectKeyIdentifier, None when absent or not decodable (a CMS signer may name it)."""
        try:
            value = self._extension("key_identifier")
        except ValueError:
            return None
        return None if value is None else value.native

    @property
    def is_ca(self) -> bool:
        """basicConstraints present, decodable and cA=TRUE."""
        try:  # asn1crypto decodes the extension's value lazily: a damaged one raises here
            constraints = self._extension("basic_constraints")
            return constraints is not None and bool(constraints["ca"].native)
        except ValueError:
            return False

    @cached_property
    def key_usage(self) -> frozenset[str] | None:
        """The keyUsage bits set (asn1crypto names: 'digital_signature', 'key_cert_sign', ...), None
        when absent; an undecodable extension gives the empty set, which allows nothing."""
        try:
            usage = self._extension("key_usage")
        except CertificateError:
            raise
        except ValueError:
            return frozenset()
        return None if usage is None else frozenset(usage.native)

    @property
    def extended_key_usage(self) -> tuple[str, ...]:
        """Dotted OIDs of the extendedKeyUsage; empty when absent or undecodable."""
        try:
            usage = self._extension("extended_key_usage")
        except ValueError:
            return ()
        return () if usage is None else tuple(purpose.dotted for purpose in usage)

    def csca_deviations(self) -> tuple[str, ...]:
        """What a CSCA certificate lacks for Doc 9303 Part 12's profile (basicConstraints cA, keyUsage
        keyCertSign)."""
        deviations = []
        try:
            constraints = self._extension("basic_constraints")
            if constraints is None:
                deviations.append(NO_BASIC_CONSTRAINTS)
            elif not constraints["ca"].native:
                deviations.append(NOT_CA)
        except ValueError:
            deviations.append(BAD_BASIC_CONSTRAINTS)
        usage = self.key_usage
        if usage is None:
            deviations.append(NO_KEY_USAGE)
        elif not usage:
            deviations.append(BAD_KEY_USAGE)
        elif "key_cert_sign" not in usage:
            deviations.append(NO_KEY_CERT_SIGN)
        return tuple(deviations)

    def valid_at(self, at: dt.datetime) -> bool:
        return self.not_valid_before_utc <= at <= self.not_valid_after_utc

    # -- signatures ----------------------------------------------------------------------------

    def signature_problem(self, issuer: "Certificate") -> str | None:
        """None when issuer's name is this certificate's issuer and its key verifies the signature
        over the TBSCertificate as encoded; else why not."""
        if self.issuer != issuer.subject:
            return f"issuer {self.issuer.rfc4514_string()} is not {issuer.subject.rfc4514_string()}"
        try:
            key = issuer.public_key()
        except (UnsupportedAlgorithm, ValueError) as exc:
            return f"issuer key unusable: {exc}"
        try:
            verify_signature(self.signature_algorithm, self.tbs_der, self.signature, key)
        except InvalidSignature:
            return "signature does not verify with the issuer's key"
        except (ValueError, TypeError, KeyError) as exc:  # unknown algorithm, or one not fitting the key
            return str(exc) or type(exc).__name__
        return None

    def is_issued_by(self, issuer: "Certificate") -> bool:
        return self.signature_problem(issuer) is None


def as_certificate(certificate: object) -> Certificate:
    """A Certificate from one, from DER, or from a `cryptography` certificate (test PKIs make those)."""
    if isinstance(certificate, Certificate):
        return certificate
    if isinstance(certificate, bytes):
        return Certificate.load(certificate)
    public_bytes = getattr(certificate, "public_bytes", None)
    if public_bytes is None:
        raise TypeError(f"not a certificate: {type(certificate).__name__}")
    from cryptography.hazmat.primitives.serialization import Encoding

    return Certificate.load(public_bytes(Encoding.DER))
