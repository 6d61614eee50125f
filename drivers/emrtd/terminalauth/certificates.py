"""Card verifiable certificates and certificate requests (BSI TR-03110 Part 3, appendix C and D).

    7F21 CV certificate
      7F4E certificate body
        5F29 profile identifier (00)
        42   certification authority reference (CAR)
        7F49 public key (06 algorithm OID; EC: 81 p 82 a 83 b 84 G 85 n 86 Y 87 h; RSA: 81 n 82 e)
        5F20 certificate holder reference (CHR)
        7F4C certificate holder authorization template (CHAT: 06 terminal type OID, 53 role and rights)
        5F25 effective date, 5F24 expiration date (YYMMDD, one unpacked BCD digit a byte)
        65   extensions (optional)
      5F37 signature (ECDSA: plain r || s; RSA: PKCS#1 v1.5 or PSS)

A request is a 7F21 whose body may lack the CAR, the CHAT and the dates and whose public key always
carries its domain parameters; it is signed with its own key and may be wrapped in an authentication
(67: the request, 42 the outer CAR, 5F37 the signature of the current certificate's key).

Certificates below the CVCA usually omit the EC domain parameters: they are those of the CVCA's key,
which `CvPublicKey.inherit` fills in along a chain. ECDSA is verified with `cryptography` on the curves it
implements; on others (brainpoolP224r1 of early ePassport CVCAs, curves given only as parameters) with
the plain public-key arithmetic of drivers.emrtd.pace.curves, which `cryptography` does not offer.
Parsing is strict and raises CvcError for anything malformed; it never raises another exception.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace

from asn1crypto import core
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from drivers.emrtd import tlv
from drivers.emrtd.pace.curves import Curve, CurveError
from drivers.emrtd.pace.groups import ec_group

CV_CERTIFICATE = 0x7F21
BODY = 0x7F4E
PROFILE = 0x5F29
AUTHORITY = 0x42
PUBLIC_KEY = 0x7F49
HOLDER = 0x5F20
CHAT_TAG = 0x7F4C
EFFECTIVE = 0x5F25
EXPIRY = 0x5F24
EXTENSIONS = 0x65
SIGNATURE = 0x5F37
AUTHENTICATION = 0x67

ID_TA = "0.4.0.127.0.7.2.2.2"
ID_IS = "0.4.0.127.0.7.3.1.2.1"  # the terminal type of inspection systems (ePassport EAC)
ID_AT = "0.4.0.127.0.7.3.1.2.2"
ID_ST = "0.4.0.127.0.7.3.1.2.3"
TERMINAL_TYPES = {ID_IS: "inspection system", ID_AT: "authentication terminal", ID_ST: "signature terminal"}

# id-TA-RSA-* and id-TA-ECDSA-*: (kind, padding, hash)
ALGORITHMS: dict[str, tuple[str, str, str]] = {
    f"{ID_TA}.1.1": ("RSA", "v1_5", "sha1"), f"{ID_TA}.1.2": ("RSA", "v1_5", "sha256"),
    f"{ID_TA}.1.3": ("RSA", "pss", "sha1"), f"{ID_TA}.1.4": ("RSA", "pss", "sha256"),
    f"{ID_TA}.1.5": ("RSA", "v1_5", "sha512"), f"{ID_TA}.1.6": ("RSA", "pss", "sha512"),
    f"{ID_TA}.2.1": ("EC", "", "sha1"), f"{ID_TA}.2.2": ("EC", "", "sha224"),
    f"{ID_TA}.2.3": ("EC", "", "sha256"), f"{ID_TA}.2.4": ("EC", "", "sha384"),
    f"{ID_TA}.2.5": ("EC", "", "sha512"),
}
ECDSA_SHA256 = f"{ID_TA}.2.3"
_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
           "sha512": hashes.SHA512}

# Roles of an inspection system's CHAT (the two high bits of its one byte), and its read rights.
ROLE_CVCA, ROLE_DV_DOMESTIC, ROLE_DV_FOREIGN, ROLE_TERMINAL = 3, 2, 1, 0
ROLE_NAMES = {ROLE_CVCA: "CVCA", ROLE_DV_DOMESTIC: "DV (official domestic)",
              ROLE_DV_FOREIGN: "DV (non-official / foreign)", ROLE_TERMINAL: "terminal"}
READ_DG3 = 0x01  # fingerprints
READ_DG4 = 0x02  # iris
MAX_REFERENCE = 16  # CAR and CHR: country (2), mnemonic (up to 9), sequence number (5)


class CvcError(ValueError):
    """A CV certificate or request that does not follow TR-03110, or a signature that cannot be checked."""


@dataclass(frozen=True)
class Chat:
    """Certificate holder authorization template: terminal type and the role and rights bit map."""

    terminal_type: str
    template: bytes

    @property
    def role(self) -> int:
        return self.template[0] >> 6

    @property
    def rights(self) -> int:
        """The template as one number, role bits cleared."""
        return int.from_bytes(self.template, "big") & ~(0xC0 << 8 * (len(self.template) - 1))

    def describe(self) -> str:
        kind = TERMINAL_TYPES.get(self.terminal_type, self.terminal_type)
        if self.terminal_type != ID_IS:
            return f"{kind} {self.template.hex().upper()}"
        rights = [name for bit, name in ((READ_DG3, "DG3"), (READ_DG4, "DG4")) if self.rights & bit]
        return f"{kind}, {ROLE_NAMES[self.role]}, reads {'+'.join(rights) or 'no sensitive data'}"

    def encode(self) -> bytes:
        terminal_type = tlv.encode(0x06, _oid_content(self.terminal_type))
        return tlv.encode(CHAT_TAG, terminal_type + tlv.encode(0x53, self.template))

    @classmethod
    def inspection_system(cls, role: int, rights: int) -> "Chat":
        return cls(ID_IS, bytes([role << 6 | rights & 0x3F]))


@dataclass(frozen=True)
class CvPublicKey:
    """A public key data object 7F49: RSA (modulus, exponent) or EC (point, curve when given)."""

    algorithm: str                 # the id-TA-* OID
    modulus: int | None = None
    exponent: int | None = None
    point: bytes | None = None     # 04 || x || y
    curve: Curve | None = field(default=None, compare=False)
    explicit: bool = False         # the object spelled the domain parameters out

    @property
    def kind(self) -> str:
        return ALGORITHMS[self.algorithm][0]

    def inherit(self, issuer: "CvPublicKey") -> "CvPublicKey":
        """This key with the issuer's domain parameters when it has none of its own."""
        if self.kind != "EC" or self.curve is not None:
            return self
        if issuer.curve is None:
            raise CvcError("EC key without domain parameters, and its issuer's key has none to give")
        return replace(self, curve=issuer.curve)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether signature is this key's signature of data under its algorithm."""
        kind, scheme, hash_name = ALGORITHMS[self.algorithm]
        if kind == "RSA":
            key = rsa.RSAPublicNumbers(self.exponent, self.modulus).public_key()
            pad = padding.PKCS1v15() if scheme == "v1_5" else padding.PSS(
                padding.MGF1(_HASHES[hash_name]()), padding.PSS.AUTO)
            try:
                key.verify(signature, data, pad, _HASHES[hash_name]())
            except InvalidSignature:
                return False
            return True
        if self.curve is None:
            raise CvcError("EC key without domain parameters: inherit them from the issuer first")
        return _verify_ecdsa(self.curve, self._point(), signature, data, hash_name)

    def _point(self) -> tuple[int, int]:
        try:
            return self.curve.decode(self.point)
        except CurveError as error:
            raise CvcError(f"public point: {error}") from error

    def encode(self, *, domain_parameters: bool | None = None) -> bytes:
        """The 7F49 object; domain_parameters None means 'as parsed' (always for a new CVCA)."""
        body = tlv.encode(0x06, _oid_content(self.algorithm))
        if self.kind == "RSA":
            body += tlv.encode(0x81, _unsigned(self.modulus)) + tlv.encode(0x82, _unsigned(self.exponent))
            return tlv.encode(PUBLIC_KEY, body)
        spell = self.explicit if domain_parameters is None else domain_parameters
        curve = self.curve
        if spell:
            size = curve.size
            body += (tlv.encode(0x81, curve.p.to_bytes(size, "big")) + tlv.encode(0x82, (curve.a % curve.p).to_bytes(
                size, "big")) + tlv.encode(0x83, curve.b.to_bytes(size, "big"))
                + tlv.encode(0x84, curve.encode(curve.generator)) + tlv.encode(0x85, _unsigned(curve.n)))
        body += tlv.encode(0x86, self.point)
        if spell:
            body += tlv.encode(0x87, _unsigned(curve.h))
        return tlv.encode(PUBLIC_KEY, body)

    @classmethod
    def from_key(cls, key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey, algorithm: str, curve: Curve | None = None,
                 *, explicit: bool = False) -> "CvPublicKey":
        """The CV form of a `cryptography` public key; EC keys need the drivers' Curve for their parameters."""
        if isinstance(key, rsa.RSAPublicKey):
            numbers = key.public_numbers()
            return cls(algorithm, modulus=numbers.n, exponent=numbers.e)
        numbers = key.public_numbers()
        size = (key.curve.key_size + 7) // 8
        point = b"\x04" + numbers.x.to_bytes(size, "big") + numbers.y.to_bytes(size, "big")
        return cls(algorithm, point=point, curve=curve, explicit=explicit)


@dataclass(frozen=True)
class CvCertificate:
    profile: int
    authority: str | None          # CAR (None only in a request that names none)
    public_key: CvPublicKey
    holder: str                    # CHR
    chat: Chat | None              # None only in requests
    effective: dt.date | None
    expiry: dt.date | None
    extensions: bytes
    body: bytes = field(repr=False)       # the encoded 7F4E object: what the signature covers
    signature: bytes = field(repr=False)

    @property
    def self_signed(self) -> bool:
        return self.authority == self.holder

    def signed_by(self, key: CvPublicKey) -> bool:
        return key.verify(self.signature, self.body)

    def valid_on(self, day: dt.date) -> bool:
        return self.effective is not None and self.expiry is not None and self.effective <= day <= self.expiry

    def encode(self) -> bytes:
        return tlv.encode(CV_CERTIFICATE, self.body + tlv.encode(SIGNATURE, self.signature))

    def describe(self) -> str:
        chat = f", {self.chat.describe()}" if self.chat else ""
        dates = f", {self.effective} to {self.expiry}" if self.effective else ""
        return f"{self.holder} issued by {self.authority}{chat}{dates}"


@dataclass(frozen=True)
class AuthenticatedRequest:
    """A request inside its authentication: the outer signature is the requester's current key's."""

    request: CvCertificate
    authority: str
    signature: bytes = field(repr=False)
    signed_part: bytes = field(repr=False)  # the request followed by the outer CAR

    def signed_by(self, key: CvPublicKey) -> bool:
        return key.verify(self.signature, self.signed_part)


# -- parsing --------------------------------------------------------------------------------------------

def parse_certificate(data: bytes) -> CvCertificate:
    """A CV certificate: every field TR-03110 requires, in its order."""
    return _parse(data, request=False)


def parse_request(data: bytes) -> CvCertificate | AuthenticatedRequest:
    """A certificate request, bare (7F21) or authenticated (67)."""
    try:
        outer = tlv.decode_one(data)
        if outer.tag == CV_CERTIFICATE:
            return _parse(data, request=True)
        if outer.tag != AUTHENTICATION:
            raise CvcError(f"a request starts with 7F21 or 67, not {outer.tag:X}")
        children = outer.children()
    except tlv.TlvError as error:
        raise CvcError(f"bad TLV: {error}") from error
    if [child.tag for child in children] != [CV_CERTIFICATE, AUTHORITY, SIGNATURE]:
        raise CvcError("an authenticated request holds 7F21, 42 and 5F37, in that order")
    request = _parse(children[0].encode(), request=True)
    return AuthenticatedRequest(request, _reference(children[1].value, "outer CAR"), children[2].value,
                                children[0].encode() + children[1].encode())


def _parse(data: bytes, *, request: bool) -> CvCertificate:
    try:
        certificate = tlv.decode_one(data, CV_CERTIFICATE)
        parts = certificate.children()
        if [part.tag for part in parts] != [BODY, SIGNATURE]:
            raise CvcError("a CV certificate holds a body (7F4E) then a signature (5F37)")
        body, signature = parts
        fields = body.children()
    except tlv.TlvError as error:
        raise CvcError(f"bad TLV: {error}") from error
    tags = [item.tag for item in fields]
    expected = ([PROFILE, AUTHORITY, PUBLIC_KEY, HOLDER] if AUTHORITY in tags or not request
                else [PROFILE, PUBLIC_KEY, HOLDER])
    if not request or CHAT_TAG in tags:
        expected += [CHAT_TAG, EFFECTIVE, EXPIRY]
    if EXTENSIONS in tags:
        expected += [EXTENSIONS]
    if tags != expected:
        described = " ".join(f"{tag:X}" for tag in tags)
        raise CvcError(f"body fields {described} are not those of a CV {'request' if request else 'certificate'} "
                       f"({' '.join(f'{tag:X}' for tag in expected)})")
    values = {item.tag: item for item in fields}
    profile = values[PROFILE].value
    if profile != b"\x00":
        raise CvcError(f"certificate profile identifier {profile.hex()} is not 00 (version 1)")
    if not signature.value:
        raise CvcError("empty signature")
    authority = _reference(values[AUTHORITY].value, "CAR") if AUTHORITY in values else None
    effective = _date(values[EFFECTIVE].value, "effective date") if EFFECTIVE in values else None
    expiry = _date(values[EXPIRY].value, "expiration date") if EXPIRY in values else None
    if effective and expiry and expiry < effective:
        raise CvcError(f"expires ({expiry}) before it takes effect ({effective})")
    key = _public_key(values[PUBLIC_KEY])
    if request and key.kind == "EC" and key.curve is None:
        raise CvcError("a request's EC key must carry its domain parameters")
    return CvCertificate(
        profile=0, authority=authority, public_key=key, holder=_reference(values[HOLDER].value, "CHR"),
        chat=_chat(values[CHAT_TAG]) if CHAT_TAG in values else None, effective=effective, expiry=expiry,
        extensions=values[EXTENSIONS].value if EXTENSIONS in values else b"", body=body.encode(),
        signature=signature.value)


def _reference(value: bytes, what: str) -> str:
    if not 1 <= len(value) <= MAX_REFERENCE:
        raise CvcError(f"{what} of {len(value)} characters (1-{MAX_REFERENCE})")
    if not all(0x20 <= byte < 0x7F for byte in value):
        raise CvcError(f"{what} is not printable ISO 8859-1 text")
    return value.decode("latin-1")


def _date(value: bytes, what: str) -> dt.date:
    if len(value) != 6 or any(digit > 9 for digit in value):
        raise CvcError(f"{what} is not six unpacked BCD digits")
    year, month, day = (value[0] * 10 + value[1], value[2] * 10 + value[3], value[4] * 10 + value[5])
    try:
        return dt.date(2000 + year, month, day)
    except ValueError as error:
        raise CvcError(f"{what}: {error}") from error


def encode_date(day: dt.date) -> bytes:
    if not 2000 <= day.year <= 2099:
        raise CvcError(f"CV dates cover 2000-2099, not {day.year}")
    return bytes(int(digit) for digit in day.strftime("%y%m%d"))


def _oid(value: bytes, what: str) -> str:
    try:
        return core.ObjectIdentifier.load(tlv.encode(0x06, value), strict=True).dotted
    except ValueError as error:
        raise CvcError(f"{what} is not an object identifier") from error


def _oid_content(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()[2:]


def _unsigned(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _chat(item: tlv.Tlv) -> Chat:
    try:
        children = item.children()
    except tlv.TlvError as error:
        raise CvcError(f"CHAT: bad TLV: {error}") from error
    if [child.tag for child in children] != [0x06, 0x53] or not children[1].value:
        raise CvcError("a CHAT holds a terminal type (06) and a non-empty template (53)")
    return Chat(_oid(children[0].value, "CHAT terminal type"), children[1].value)


def _public_key(item: tlv.Tlv) -> CvPublicKey:
    try:
        children = item.children()
    except tlv.TlvError as error:
        raise CvcError(f"public key: bad TLV: {error}") from error
    if not children or children[0].tag != 0x06:
        raise CvcError("public key without its algorithm OID (06) first")
    algorithm = _oid(children[0].value, "public key algorithm")
    if algorithm not in ALGORITHMS:
        raise CvcError(f"public key algorithm {algorithm} is not one of TR-03110's id-TA-*")
    objects: dict[int, bytes] = {}
    for child in children[1:]:
        if child.tag in objects or not 0x81 <= child.tag <= 0x87:
            raise CvcError(f"public key: unexpected or repeated object {child.tag:X}")
        objects[child.tag] = child.value
    if ALGORITHMS[algorithm][0] == "RSA":
        if set(objects) != {0x81, 0x82}:
            raise CvcError("an RSA public key holds modulus (81) and exponent (82), nothing else")
        modulus, exponent = (int.from_bytes(objects[tag], "big") for tag in (0x81, 0x82))
        if modulus.bit_length() < 1024 or exponent < 3 or exponent % 2 == 0 or modulus % 2 == 0:
            raise CvcError("RSA public key with an implausible modulus or exponent")
        return CvPublicKey(algorithm, modulus=modulus, exponent=exponent)
    if 0x86 not in objects:
        raise CvcError("an EC public key needs its point (86)")
    parameters = {0x81, 0x82, 0x83, 0x84, 0x85}
    given = set(objects) - {0x86}
    if not given:
        return CvPublicKey(algorithm, point=objects[0x86])
    if not parameters <= given:
        raise CvcError("EC domain parameters incomplete (81 to 85 go together)")
    try:
        p, a, b, n = (int.from_bytes(objects[tag], "big") for tag in (0x81, 0x82, 0x83, 0x85))
        h = int.from_bytes(objects.get(0x87, b"\x01"), "big")
        size = (p.bit_length() + 7) // 8
        generator = objects[0x84]
        if len(generator) != 1 + 2 * size or generator[0] != 0x04:
            raise CvcError("EC base point (84) is not an uncompressed point of the field's size")
        curve = Curve.explicit(p, a, b, (int.from_bytes(generator[1:1 + size], "big"),
                                         int.from_bytes(generator[1 + size:], "big")), n, h)
        curve.decode(objects[0x86])
    except CurveError as error:
        raise CvcError(f"EC public key: {error}") from error
    return CvPublicKey(algorithm, point=objects[0x86], curve=curve, explicit=True)


# -- signatures --------------------------------------------------------------------------------------

def _verify_ecdsa(curve: Curve, point: tuple[int, int], signature: bytes, data: bytes, hash_name: str) -> bool:
    size = (curve.n.bit_length() + 7) // 8
    if len(signature) != 2 * size:
        return False
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    if not (0 < r < curve.n and 0 < s < curve.n):
        return False
    library_curve = ec_group(curve).library_curve
    if library_curve is not None:
        key = ec.EllipticCurvePublicNumbers(point[0], point[1], library_curve).public_key()
        try:
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_HASHES[hash_name]()))
        except InvalidSignature:
            return False
        return True
    # ECDSA verification (SEC 1, 4.1.4) for curves the library lacks: public values only, so plain
    # arithmetic is safe here.
    digest = int.from_bytes(hashlib.new(hash_name, data).digest(), "big")
    excess = hashlib.new(hash_name).digest_size * 8 - curve.n.bit_length()
    e = digest >> excess if excess > 0 else digest
    w = pow(s, -1, curve.n)
    total = curve.add(curve.multiply(e * w, curve.generator), curve.multiply(r * w, point))
    return total is not None and total[0] % curve.n == r


def sign(private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, algorithm: str, data: bytes) -> bytes:
    """A TR-03110 signature of data: plain r || s for ECDSA."""
    kind, scheme, hash_name = ALGORITHMS[algorithm]
    digest = _HASHES[hash_name]()
    if kind == "RSA":
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise CvcError(f"{algorithm} needs an RSA key")
        pad = padding.PKCS1v15() if scheme == "v1_5" else padding.PSS(padding.MGF1(digest), digest.digest_size)
        return private_key.sign(data, pad, digest)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise CvcError(f"{algorithm} needs an EC key")
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(digest)))
    size = (private_key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def issue(*, authority: str, public_key: CvPublicKey, holder: str, chat: Chat, effective: dt.date,
          expiry: dt.date, signer: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, signer_algorithm: str,
          extensions: bytes = b"") -> CvCertificate:
    """A CV certificate signed by signer (the issuer's private key, under the issuer key's algorithm)."""
    for reference in (authority, holder):
        _reference(reference.encode("latin-1"), "reference")
    body = tlv.encode(BODY, tlv.encode(PROFILE, b"\x00") + tlv.encode(AUTHORITY, authority.encode("latin-1"))
                      + public_key.encode() + tlv.encode(HOLDER, holder.encode("latin-1")) + chat.encode()
                      + tlv.encode(EFFECTIVE, encode_date(effective)) + tlv.encode(EXPIRY, encode_date(expiry))
                      + (tlv.encode(EXTENSIONS, extensions) if extensions else b""))
    return CvCertificate(0, authority, public_key, holder, chat, effective, expiry, extensions, body,
                         sign(signer, signer_algorithm, body))
