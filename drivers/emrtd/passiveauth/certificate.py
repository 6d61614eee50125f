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
from dataclasses import dataclass
from functools import cached_property, lru_cache

from asn1crypto import algos as asn1_algos
from asn1crypto import core, parser
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

    def __init__(self, der: bytes) -> None:
        self.der = der

    @cached_property
    def asn1(self) -> asn1_x509.Name:
        return asn1_x509.Name.load(self.der)

    @cached_property
    def _key(self) -> object:
        """The prepared form RFC 5280 compares, made when first compared: string preparation is most of
        the cost of loading a certificate, and a DSC's subject is seldom compared."""
        return _prepared(self.der)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DistinguishedName) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"DistinguishedName({self.rfc4514_string()!r})"

    def rfc4514_string(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:
        """Made when first printed, and never raising: a Name whose structure does not decode prints as
        its DER in hex, so that a certificate loaded with defer can still be named in a check's reason."""
        try:
            return self._render()
        except Exception:  # noqa: BLE001 - asn1crypto raises assorted types on a damaged structure
            return "#" + self.der.hex()

    def _render(self) -> str:
        parts = []
        for rdn in reversed(list(self.asn1.chosen)):
            parts.append("+".join(f"{_SHORT_NAMES.get(a['type'].dotted, a['type'].dotted)}={_value(a)}" for a in rdn))
        return ",".join(parts)

    def problem(self) -> str | None:
        """Why the Name's structure does not decode, or None."""
        try:
            self._render()
        except Exception as exc:  # noqa: BLE001 - as in _text
            return f"name does not decode: {exc}"
        return None

    def attribute(self, dotted: str) -> str | None:
        """The first value of one attribute type (by OID), as text."""
        try:
            for rdn in self.asn1.chosen:
                for attribute in rdn:
                    if attribute["type"].dotted == dotted:
                        value = attribute["value"].native
                        return value if isinstance(value, str) else None
        except Exception:  # noqa: BLE001 - as in _text: a damaged Name has no attribute to give
            return None
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
    subject: DistinguishedName
    issuer: DistinguishedName
    serial_number: int
    validity_der: bytes  # decoded when first used (see _validity)
    signature: bytes
    encoding_deviations: tuple[str, ...]

    @classmethod
    def load(cls, der: bytes, *, defer: bool = False) -> "Certificate":
        """Decode one DER certificate; data after it is tolerated and recorded. CertificateError when
        it does not decode. With defer its names and extensions are decoded when first used and
        `decode_problem` tells then whether they do (a store folder's thousands of certificates, checked
        when they were imported, of which a document uses one or two)."""
        try:
            certificate = cls._load(der)
        except CertificateError:
            raise
        except Exception as exc:  # noqa: BLE001 - asn1crypto parses lazily and raises assorted types
            raise CertificateError(f"certificate does not decode: {exc}") from exc
        if not defer and certificate.decode_problem:
            raise CertificateError(certificate.decode_problem)
        return certificate

    @cached_property
    def decode_problem(self) -> str | None:
        """Why its validity, names or its keyUsage and basicConstraints extensions do not decode, or None."""
        for name in (self.subject, self.issuer):
            if problem := name.problem():
                return problem
        try:
            _ = (self._validity, self.key_usage, self._extension("basic_constraints"))
        except ValueError as exc:
            return str(exc)
        return None

    @classmethod
    def _load(cls, data: bytes) -> "Certificate":
        # The fields a store indexes by are cut out of the encoding with asn1crypto's parser and decoded
        # one by one; the rest (names' text, extensions, the key) when first used. A large store loads
        # thousands of DSCs of which few are ever used, so decoding all of each was most of its load time.
        deviations = []
        _class, _method, _tag, header, contents, _trailer = parser.parse(data)
        der = header + contents
        if len(der) < len(data):
            deviations.append(f"{len(data) - len(der)} bytes of data after the certificate")
        outer = _elements(contents)
        if len(outer) != 3:
            raise CertificateError(f"a certificate has 3 parts, this one {len(outer)}")
        tbs_der, outer_algorithm, signature_der = (encoded for _c, _t, encoded in outer)
        tbs = _elements(parser.parse(tbs_der)[4])
        first = 1 if tbs and tbs[0][:2] == (_CONTEXT, 0) else 0  # [0] version, absent in a v1 certificate
        fields = first + 6  # serial, signature, issuer, validity, subject, subjectPublicKeyInfo
        if len(tbs) < fields:
            raise CertificateError(f"TBSCertificate has {len(tbs)} elements, fewer than {fields}")
        known = fields
        while known < len(tbs) and tbs[known][:2] in ((_CONTEXT, 1), (_CONTEXT, 2), (_CONTEXT, 3)):
            known += 1
        if len(tbs) > known:
            deviations.append(f"TBSCertificate carries {len(tbs) - known} element(s) after its extensions")
        serial_der, inner_algorithm, issuer_der, validity_der, subject_der = (e[2] for e in tbs[first:first + 5])
        serial = core.Integer.load(serial_der).native
        if serial <= 0:
            deviations.append(f"serial number {serial} is not positive")
        if _first_element(inner_algorithm) != _first_element(outer_algorithm):  # the OIDs, as DER: canonical
            inner, outer_oid = (asn1_algos.SignedDigestAlgorithm.load(a)["algorithm"].dotted
                                for a in (inner_algorithm, outer_algorithm))
            raise CertificateError(f"signature algorithm {outer_oid} differs from the signed one, {inner}")
        # Neither names nor extensions ever raise mid-check: a damaged name prints as hex, and a damaged
        # extension list is an error every reader of an extension handles (see _extensions).
        return cls(der, tbs_der, DistinguishedName(subject_der), DistinguishedName(issuer_der), serial,
                   validity_der, core.OctetBitString.load(signature_der).native, tuple(deviations))

    @cached_property
    def _validity(self) -> tuple[dt.datetime, dt.datetime]:
        """notBefore and notAfter in UTC; CertificateError when they do not decode."""
        try:
            validity = asn1_x509.Validity.load(self.validity_der)
            not_before, not_after = validity["not_before"].native, validity["not_after"].native
        except Exception as exc:  # noqa: BLE001 - asn1crypto raises assorted types
            raise CertificateError(f"validity does not decode: {exc}") from exc
        if not isinstance(not_before, dt.datetime) or not isinstance(not_after, dt.datetime):
            raise CertificateError("validity does not decode")
        return not_before.astimezone(dt.timezone.utc), not_after.astimezone(dt.timezone.utc)

    @property
    def not_valid_before_utc(self) -> dt.datetime:
        return self._validity[0]

    @property
    def not_valid_after_utc(self) -> dt.datetime:
        return self._validity[1]

    @cached_property
    def asn1(self) -> asn1_x509.Certificate:
        """The whole certificate as asn1crypto decodes it (lazily, part by part as it is read)."""
        return asn1_x509.Certificate.load(self.der)

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

    @cached_property
    def _extensions(self) -> dict[str, list] | CertificateError:
        """The extensions by asn1crypto name (dotted OID when unknown), read once; the error when the
        list itself does not decode."""
        try:
            table: dict[str, list] = {}
            for extension in self.asn1["tbs_certificate"]["extensions"]:
                table.setdefault(extension["extn_id"].native, []).append(extension)
            return table
        except Exception as exc:  # noqa: BLE001 - asn1crypto decodes lazily and raises assorted types
            return CertificateError(f"extensions do not decode: {exc}")

    def _extension(self, name: str):
        """The decoded value of one extension, None when absent; ValueError when it appears twice
        or does not decode."""
        table = self._extensions
        if isinstance(table, CertificateError):
            raise table
        found = table.get(name, ())
        if len(found) > 1:
            raise CertificateError(f"extension {name} appears {len(found)} times")
        if not found:
            return None
        try:
            value = found[0]["extn_value"].parsed
            _ = value.native  # asn1crypto parses lazily: make a damaged value fail here, not in the caller
            return value
        except Exception as exc:  # noqa: BLE001 - as above: a damaged value is a ValueError to every caller
            raise ValueError(f"extension {name} does not decode: {exc}") from exc

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


_CONTEXT = 2  # the context-specific tag class


def _first_element(encoded: bytes) -> bytes:
    _class, _method, _tag, _header, body, _trailer = parser.parse(encoded)
    _class, _method, _tag, header, first, _trailer = parser.parse(body)
    return header + first


def _elements(contents: bytes) -> list[tuple[int, int, bytes]]:
    """The values encoded one after another in a constructed value's contents: (class, tag, encoding)."""
    elements, pointer = [], 0
    while pointer < len(contents):
        class_, _method, tag, header, body, _trailer = parser.parse(contents[pointer:])
        elements.append((class_, tag, header + body))
        pointer += len(header) + len(body)
    return elements


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
