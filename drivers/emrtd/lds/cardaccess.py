"""SecurityInfos (ICAO Doc 9303 Part 11, section 9.2): the set of protocol
announcements found in EF.CardAccess (read before any access control) and
in DG14 (read after it, signed through the SOD).

Each SecurityInfo is a SEQUENCE of a protocol OID, required data and
optional data; the OID says what the data mean. Infos of unknown protocols
are kept as `OtherInfo` because Doc 9303 tells readers to ignore them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from asn1crypto import core, keys

from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.lds.publickey import parse_domain_parameters
from drivers.emrtd.pace.groups import Group
from drivers.emrtd.pace.protocol import FIRST_PROPRIETARY_PARAMETER_ID

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
    # DER AlgorithmIdentifier; parsed only when a PACEInfo needs it, so that odd parameters a reader
    # never uses cannot make the whole file (or DG14, and Chip Authentication with it) unreadable
    algorithm_identifier: bytes = field(default=b"", repr=False)

    def group(self, file: str = "EF.CardAccess") -> Group:
        """The domain parameters; LdsError when they are malformed or not of a supported kind."""
        parsed = _parsed_domain_parameters(self.algorithm_identifier, file)
        if isinstance(parsed, LdsError):
            raise parsed
        return parsed


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
                                           _integer(file, "PACEDomainParameterInfo parameterId", optional),
                                           algorithm.dump())
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


@functools.lru_cache(maxsize=64)
def _parsed_domain_parameters(algorithm_identifier: bytes, file: str) -> Group | LdsError:
    """Each set of parameters is checked once (a curve not standardized costs a scalar multiplication):
    a hostile EF.CardAccess may point thousands of PACEInfos at the same parameters."""
    try:
        return parse_domain_parameters(algorithm_identifier, file)
    except LdsError as error:
        return error


def explicit_domain_parameters(info: PaceInfo, infos: list[SecurityInfo], file: str = "EF.CardAccess"
                               ) -> Group | None:
    """The domain parameters a PACEInfo gives explicitly: None when its parameterId is one of Doc
    9303's (below 32); else the group of its PACEDomainParameterInfo, the one with the same
    parameterId or, for a PACEInfo without one, the only one. LdsError when there is none, more
    than one, or its parameters are malformed."""
    if info.parameter_id is not None and info.parameter_id < FIRST_PROPRIETARY_PARAMETER_ID:
        return None
    domains = [other for other in infos if isinstance(other, PaceDomainParameterInfo)]
    if info.parameter_id is not None:
        domains = [other for other in domains if other.parameter_id == info.parameter_id]
    named = "without a parameterId" if info.parameter_id is None else f"with parameterId {info.parameter_id}"
    if len(domains) != 1:
        raise LdsError(file, f"a PACEInfo {named} needs exactly one PACEDomainParameterInfo to go with it, "
                       f"there are {len(domains)}")
    return domains[0].group(file)


def encode_pace_info(protocol: str, parameter_id: int | None, version: int = 2) -> bytes:
    """One PACEInfo as DER (for building test chips); parameter_id None leaves it out."""
    return _encode_info(protocol, core.Integer(version), parameter_id)


def encode_pace_domain_parameter_info(protocol: str, algorithm_identifier: bytes,
                                     parameter_id: int | None = None) -> bytes:
    """One PACEDomainParameterInfo (protocol id-PACE-DH-GM, id-PACE-ECDH-GM, ...) around a DER
    AlgorithmIdentifier of explicit domain parameters (drivers.emrtd.lds.publickey.encode_domain_parameters)."""
    return _encode_info(protocol, core.Any.load(algorithm_identifier), parameter_id)


def encode_ca_info(protocol: str, key_id: int | None = None, version: int = 1) -> bytes:
    """One ChipAuthenticationInfo (id-CA-*) as DER."""
    return _encode_info(protocol, core.Integer(version), key_id)


def encode_ca_public_key_info(protocol: str, public_key: bytes, key_id: int | None = None) -> bytes:
    """One ChipAuthenticationPublicKeyInfo (id-PK-ECDH / id-PK-DH) around a DER SubjectPublicKeyInfo."""
    return _encode_info(protocol, core.Any.load(public_key), key_id)


def _encode_info(protocol: str, required: core.Asn1Value, identifier: int | None) -> bytes:
    """A SecurityInfo whose optional data is an id (parameterId, keyId), left out when None."""
    fields = {"protocol": protocol, "required": required}
    if identifier is not None:
        fields["optional"] = core.Integer(identifier)
    return _SecurityInfo(fields).dump()


def encode_aa_info(signature_algorithm: str, version: int = 1) -> bytes:
    """ActiveAuthenticationInfo naming the (ECDSA) signature algorithm of DG15's key."""
    return _SecurityInfo({"protocol": ID_AA, "required": core.Integer(version),
                          "optional": core.ObjectIdentifier(signature_algorithm)}).dump()


def encode_security_infos(infos: list[bytes]) -> bytes:
    """Wrap DER SecurityInfo values in the SET (DER orders SET OF members)."""
    return _SecurityInfos([_SecurityInfo.load(info) for info in infos]).dump(force=True)
