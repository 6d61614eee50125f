"""SecurityInfos (ICAO Doc 9303 Part 11, section 9.2): the set of protocol
announcements found in EF.CardAccess (read before any access control) and
in DG14 (read after it, signed through the SOD).

Each SecurityInfo is a SEQUENCE of a protocol OID, required data and
optional data; the OID says what the data mean. Infos of unknown protocols
are kept as `OtherInfo` because Doc 9303 tells readers to ignore them.
"""
from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core, keys

from drivers.lds.errors import LdsError

ID_PACE = "0.4.0.127.0.7.2.2.4"
ID_CA = "0.4.0.127.0.7.2.2.3"
ID_PK = "0.4.0.127.0.7.2.2.1"
ID_AA = "2.23.136.1.1.5"
ID_PK_DH = ID_PK + ".1"
ID_PK_ECDH = ID_PK + ".2"
PACE_MAPPINGS = {"1": "DH-GM", "2": "ECDH-GM", "3": "DH-IM", "4": "ECDH-IM", "6": "ECDH-CAM"}
CIPHER_SUFFIXES = {"1": "3DES-CBC-CBC", "2": "AES-CBC-CMAC-128", "3": "AES-CBC-CMAC-192", "4": "AES-CBC-CMAC-256"}


class _SecurityInfo(core.Sequence):
    _fields = [("protocol", core.ObjectIdentifier), ("required", core.Any),
               ("optional", core.Any, {"optional": True})]


class _AlgorithmIdentifier(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _SecurityInfos(core.SetOf):
    _child_spec = _SecurityInfo


@dataclass(frozen=True)
class PaceInfo:
    protocol: str
    version: int
    parameter_id: int | None

    @property
    def mapping(self) -> str:
        return PACE_MAPPINGS.get(self.protocol.split(".")[-2], "unknown")


@dataclass(frozen=True)
class PaceDomainParameterInfo:
    protocol: str
    algorithm: str  # OID of the domain parameter algorithm (id-ecPublicKey, dhpublicnumber)
    parameter_id: int | None


@dataclass(frozen=True)
class ChipAuthenticationInfo:
    protocol: str
    version: int
    key_id: int | None


@dataclass(frozen=True)
class ChipAuthenticationPublicKeyInfo:
    protocol: str
    public_key: bytes  # DER SubjectPublicKeyInfo
    key_id: int | None


@dataclass(frozen=True)
class ActiveAuthenticationInfo:
    version: int
    signature_algorithm: str


@dataclass(frozen=True)
class OtherInfo:
    protocol: str


SecurityInfo = (PaceInfo | PaceDomainParameterInfo | ChipAuthenticationInfo
                | ChipAuthenticationPublicKeyInfo | ActiveAuthenticationInfo | OtherInfo)


def _integer(file: str, field: str, value: core.Any | None) -> int | None:
    if value is None:
        return None
    try:
        return value.parse(core.Integer).native
    except ValueError as error:
        raise LdsError(file, f"{field} is not an INTEGER") from error


def _required_integer(file: str, field: str, value: core.Any) -> int:
    number = _integer(file, field, value)
    if number is None:
        raise LdsError(file, f"{field} is missing")
    return number


def _interpret(file: str, info: _SecurityInfo) -> SecurityInfo:
    protocol = info["protocol"].dotted
    required = info["required"]
    optional = None if isinstance(info["optional"], core.Void) else info["optional"]
    if protocol.startswith(ID_PACE + "."):
        arcs = protocol[len(ID_PACE) + 1:].split(".")
        if len(arcs) == 2:
            return PaceInfo(protocol, _required_integer(file, "PACEInfo version", required),
                            _integer(file, "PACEInfo parameterId", optional))
        if len(arcs) == 1:
            algorithm = required.parse(_AlgorithmIdentifier)
            return PaceDomainParameterInfo(protocol, algorithm["algorithm"].dotted,
                                           _integer(file, "PACEDomainParameterInfo parameterId", optional))
    if protocol.startswith(ID_CA + ".") and len(protocol[len(ID_CA) + 1:].split(".")) == 2:
        return ChipAuthenticationInfo(protocol, _required_integer(file, "ChipAuthenticationInfo version", required),
                                      _integer(file, "ChipAuthenticationInfo keyId", optional))
    if protocol.startswith(ID_PK + "."):
        public_key = required.parse(keys.PublicKeyInfo)
        return ChipAuthenticationPublicKeyInfo(protocol, public_key.dump(),
                                               _integer(file, "ChipAuthenticationPublicKeyInfo keyId", optional))
    if protocol == ID_AA:
        if optional is None:
            raise LdsError(file, "ActiveAuthenticationInfo lacks its signature algorithm")
        algorithm = optional.parse(core.ObjectIdentifier)
        return ActiveAuthenticationInfo(_required_integer(file, "ActiveAuthenticationInfo version", required),
                                        algorithm.dotted)
    return OtherInfo(protocol)


def parse_security_infos(data: bytes, file: str = "EF.CardAccess") -> list[SecurityInfo]:
    """Parse a DER SecurityInfos SET; LdsError names the file and the reason."""
    if not data:
        raise LdsError(file, "file is empty")
    try:
        infos = _SecurityInfos.load(data, strict=True)
        result = [_interpret(file, info) for info in infos]
    except LdsError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        # asn1crypto reports malformed DER with these; say which file it was.
        raise LdsError(file, f"malformed SecurityInfos: {error}") from error
    if not result:
        raise LdsError(file, "SecurityInfos is empty")
    return result


def encode_pace_info(protocol: str, parameter_id: int, version: int = 2) -> bytes:
    """One PACEInfo as DER (for building test chips)."""
    return _SecurityInfo({"protocol": protocol, "required": core.Integer(version),
                          "optional": core.Integer(parameter_id)}).dump()


def encode_ca_info(protocol: str, key_id: int | None = None, version: int = 1) -> bytes:
    """One ChipAuthenticationInfo (id-CA-*) as DER."""
    fields = {"protocol": protocol, "required": core.Integer(version)}
    if key_id is not None:
        fields["optional"] = core.Integer(key_id)
    return _SecurityInfo(fields).dump()


def encode_ca_public_key_info(protocol: str, public_key: bytes, key_id: int | None = None) -> bytes:
    """One ChipAuthenticationPublicKeyInfo (id-PK-ECDH / id-PK-DH) around a DER SubjectPublicKeyInfo."""
    fields = {"protocol": protocol, "required": core.Any.load(public_key)}
    if key_id is not None:
        fields["optional"] = core.Integer(key_id)
    return _SecurityInfo(fields).dump()


def encode_aa_info(signature_algorithm: str, version: int = 1) -> bytes:
    """ActiveAuthenticationInfo naming the (ECDSA) signature algorithm of DG15's key."""
    return _SecurityInfo({"protocol": ID_AA, "required": core.Integer(version),
                          "optional": core.ObjectIdentifier(signature_algorithm)}).dump()


def encode_security_infos(infos: list[bytes]) -> bytes:
    """Wrap DER SecurityInfo values in the SET (DER orders SET OF members)."""
    return _SecurityInfos([_SecurityInfo.load(info) for info in infos]).dump(force=True)
