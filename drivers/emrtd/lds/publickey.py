"""Chip public keys as DG14, DG15 and EF.CardSecurity carry them: a
SubjectPublicKeyInfo holding an EC key (usually with explicit curve
parameters, as Doc 9303 Part 11 section 9.5.2 asks), a DH key (X9.42
dhpublicnumber or PKCS#3 dhKeyAgreement parameters) or an RSA key; and the
same AlgorithmIdentifier alone, as a PACEDomainParameterInfo gives PACE's
explicit domain parameters (`parse_domain_parameters`).

`cryptography` cannot load EC keys with explicit parameters nor DH keys
for our use, so the structure is read with asn1crypto and the curve matched
to the standardized one it names (or kept as an explicit curve).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from asn1crypto import core, keys

from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.pace.curves import STANDARD_CURVES, Curve, GroupError, Point
from drivers.emrtd.pace.groups import STANDARD_DH_GROUPS, Group, ModpGroup, ec_group, unsigned

EC_PUBLIC_KEY = "1.2.840.10045.2.1"
DH_PUBLIC_NUMBER = "1.2.840.10046.2.1"  # X9.42
DH_KEY_AGREEMENT = "1.2.840.113549.1.3.1"  # PKCS#3
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
PRIME_FIELD = "1.2.840.10045.1.1"
# Far above Doc 9303's largest (521-bit curves, 2048-bit MODP groups): checking a curve or a DH value of
# a hostile size would take minutes, so larger fields are refused before any arithmetic.
MAX_EC_FIELD_BITS = 1024
MAX_DH_PRIME_BITS = 4096
_CURVE_BY_NAME = {curve.name.lower(): curve for curve in STANDARD_CURVES.values()}


class _AlgorithmIdentifier(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _SubjectPublicKeyInfo(core.Sequence):
    _fields = [("algorithm", _AlgorithmIdentifier), ("public_key", core.BitString)]


class _DhParameter(core.Sequence):  # PKCS#3
    _fields = [("p", core.Integer), ("g", core.Integer), ("private_value_length", core.Integer, {"optional": True})]


class _FieldId(core.Sequence):
    _fields = [("field_type", core.ObjectIdentifier), ("parameters", core.Any)]


class _CurveCoefficients(core.Sequence):
    _fields = [("a", core.OctetString), ("b", core.OctetString), ("seed", core.BitString, {"optional": True})]


class _SpecifiedDomain(core.Sequence):
    _fields = [("version", core.Integer), ("field_id", _FieldId), ("curve", _CurveCoefficients),
               ("base", core.OctetString), ("order", core.Integer), ("cofactor", core.Integer, {"optional": True})]


@dataclass(frozen=True)
class ChipPublicKey:
    algorithm: str  # "ec", "dh" or "rsa"
    der: bytes = field(repr=False)  # the SubjectPublicKeyInfo as stored
    group: Group | None = field(default=None, repr=False)  # EC and DH
    public: Point | int | None = field(default=None, repr=False)  # EC point or DH value
    rsa_modulus: int | None = field(default=None, repr=False)
    rsa_exponent: int | None = field(default=None, repr=False)

    def describe(self) -> str:
        if self.algorithm == "rsa":
            return f"RSA-{self.rsa_modulus.bit_length()}"
        return f"{'EC' if self.algorithm == 'ec' else 'DH'} on {self.group.name}"


def parse_public_key(data: bytes, file: str) -> ChipPublicKey:
    """Parse a SubjectPublicKeyInfo; LdsError names the file and what is wrong."""
    with _malformed(file, "SubjectPublicKeyInfo"):
        info = _SubjectPublicKeyInfo.load(data, strict=True)
        oid = info["algorithm"]["algorithm"].dotted
        contents = info["public_key"].contents
        if not contents or contents[0] != 0:
            raise LdsError(file, "public key bits are not whole bytes")
        key_bytes = bytes(contents[1:])
        if oid in (EC_PUBLIC_KEY, DH_PUBLIC_NUMBER, DH_KEY_AGREEMENT):
            group = _group(file, info["algorithm"])
            if oid == EC_PUBLIC_KEY:
                return ChipPublicKey("ec", bytes(data), group, group.decode(key_bytes))
            value = core.Integer.load(key_bytes, strict=True).native
            if value < 0:
                raise LdsError(file, "negative DH public value")
            return ChipPublicKey("dh", bytes(data), group, group.decode(unsigned(value)))
        if oid == RSA_ENCRYPTION:
            rsa = keys.RSAPublicKey.load(key_bytes, strict=True)
            modulus, exponent = rsa["modulus"].native, rsa["public_exponent"].native
            if modulus < 3 or exponent < 3 or modulus.bit_length() < 512:
                raise LdsError(file, "RSA public key out of range")
            return ChipPublicKey("rsa", bytes(data), rsa_modulus=modulus, rsa_exponent=exponent)
        raise LdsError(file, f"public key algorithm {oid} is not supported")


def parse_domain_parameters(algorithm_identifier: bytes, file: str) -> Group:
    """The group an AlgorithmIdentifier's domain parameters give (id-ecPublicKey with ECParameters,
    dhpublicnumber or dhKeyAgreement): the standardized group itself when they are its parameters."""
    with _malformed(file, "domain parameters"):
        return _group(file, _AlgorithmIdentifier.load(algorithm_identifier, strict=True))


@contextmanager
def _malformed(file: str, what: str) -> Iterator[None]:
    """asn1crypto and the group checks report bad input with these; say which file and structure."""
    try:
        yield
    except LdsError:
        raise
    except GroupError as error:
        raise LdsError(file, f"{what}: {error}") from error
    except (ValueError, TypeError, KeyError, OverflowError, AttributeError) as error:
        raise LdsError(file, f"malformed {what}: {error}") from error


def _group(file: str, algorithm: _AlgorithmIdentifier) -> Group:
    oid = algorithm["algorithm"].dotted
    parameters = algorithm["parameters"]
    parameters = None if isinstance(parameters, core.Void) else parameters
    if oid == EC_PUBLIC_KEY:
        return ec_group(_curve(file, parameters))
    if oid in (DH_PUBLIC_NUMBER, DH_KEY_AGREEMENT):
        return _dh_group(file, oid, parameters)
    raise LdsError(file, f"domain parameters of algorithm {oid} are not supported")


def _curve(file: str, parameters: core.Any | None) -> Curve:
    if parameters is None:
        raise LdsError(file, "EC domain parameters missing")
    domain = parameters.parse(keys.ECDomainParameters)
    if domain.name == "named":
        name = domain.chosen.native
        curve = _CURVE_BY_NAME.get(str(name).lower())
        if curve is None:
            raise LdsError(file, f"curve {name} is not one Doc 9303 uses")
        return curve
    if domain.name != "specified":
        raise LdsError(file, "implicit EC domain parameters")
    specified = domain.chosen.untag().dump()
    explicit = _SpecifiedDomain.load(specified, strict=True)
    if explicit["field_id"]["field_type"].dotted != PRIME_FIELD:
        raise LdsError(file, "only prime-field curves are supported")
    p = explicit["field_id"]["parameters"].parse(core.Integer).native
    if p.bit_length() > MAX_EC_FIELD_BITS:
        raise LdsError(file, f"a curve over a {p.bit_length()}-bit field is larger than any Doc 9303 uses")
    a = int.from_bytes(explicit["curve"]["a"].native, "big")
    b = int.from_bytes(explicit["curve"]["b"].native, "big")
    base = explicit["base"].native
    size = (p.bit_length() + 7) // 8
    if len(base) != 1 + 2 * size or base[0] != 0x04:
        raise LdsError(file, "curve base point is not an uncompressed point")
    generator = (int.from_bytes(base[1:1 + size], "big"), int.from_bytes(base[1 + size:], "big"))
    cofactor = explicit["cofactor"].native if explicit["cofactor"].native is not None else 1
    return Curve.explicit(p, a, b, generator, explicit["order"].native, cofactor)


def _dh_group(file: str, oid: str, parameters: core.Any | None) -> ModpGroup:
    if parameters is None:
        raise LdsError(file, "DH domain parameters missing")
    if oid == DH_PUBLIC_NUMBER:
        domain = parameters.parse(keys.DomainParameters)
        p, g, q = domain["p"].native, domain["g"].native, domain["q"].native
    else:
        domain = parameters.parse(_DhParameter)
        p, g, q = domain["p"].native, domain["g"].native, None
    if p.bit_length() > MAX_DH_PRIME_BITS:
        raise LdsError(file, f"a {p.bit_length()}-bit DH prime is larger than any Doc 9303 uses")
    for group in STANDARD_DH_GROUPS.values():
        if (group.prime, group.generator) == (p, g) and q in (None, group.order):
            return group
    return ModpGroup("explicit DH group", p, g, q)


# -- encoders (for test chips) ------------------------------------------------------------------

def encode_domain_parameters(group: Group, *, named: bool = False) -> bytes:
    """The AlgorithmIdentifier of a group's domain parameters: id-ecPublicKey with the curve (explicit
    unless named; Doc 9303 wants explicit) or dhpublicnumber with X9.42 parameters (p, g, q)."""
    return _algorithm(group, named).dump()


def encode_ec_public_key(curve: Curve, point: Point, *, named: bool = False) -> bytes:
    """SubjectPublicKeyInfo of an EC key; explicit parameters unless named (Doc 9303 wants explicit)."""
    return _public_key_info(_algorithm(ec_group(curve), named), curve.encode(point))


def encode_dh_public_key(group: ModpGroup, value: int) -> bytes:
    """SubjectPublicKeyInfo of a DH key with X9.42 parameters (p, g, q)."""
    return _public_key_info(_algorithm(group, False), core.Integer(value).dump())


def _algorithm(group: Group, named: bool) -> _AlgorithmIdentifier:
    if isinstance(group, ModpGroup):
        parameters = keys.DomainParameters({"p": group.prime, "g": group.generator, "q": group.order})
        return _AlgorithmIdentifier({"algorithm": DH_PUBLIC_NUMBER, "parameters": core.Any.load(parameters.dump())})
    curve = group.curve
    if named:
        parameters = keys.ECDomainParameters(name="named", value=curve.name.lower())
    else:
        size = curve.size
        specified = keys.SpecifiedECDomain({
            "version": 1,
            "field_id": {"field_type": "prime_field", "parameters": curve.p},
            "curve": {"a": curve.a.to_bytes(size, "big"), "b": curve.b.to_bytes(size, "big")},
            "base": curve.encode(curve.generator),
            "order": curve.n,
            "cofactor": curve.h,
        })
        parameters = keys.ECDomainParameters(name="specified", value=specified)
    return _AlgorithmIdentifier({"algorithm": EC_PUBLIC_KEY, "parameters": core.Any.load(parameters.dump())})


def _public_key_info(algorithm: _AlgorithmIdentifier, key: bytes) -> bytes:
    return _SubjectPublicKeyInfo({
        "algorithm": algorithm,
        "public_key": core.BitString.load(b"\x03" + _length(len(key) + 1) + b"\x00" + key),
    }).dump()


def _length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body
