"""PACE (Password Authenticated Connection Establishment, Doc 9303 Part 11
section 4.4): the access control that replaces BAC on modern chips, with the
generic, integrated and chip authentication mappings over ECDH and DH.

Modules: `curves` (elliptic curves and their arithmetic), `groups` (ECDH and
DH behind one interface, the standardized domain parameters), `suite`
(cipher, KDF, secure messaging), `mapping` (the nonce mappings), `protocol`
(the APDU exchange, reader side).
"""
from drivers.emrtd.pace.curves import STANDARD_CURVES, Curve, CurveError, GroupError
from drivers.emrtd.pace.groups import EcGroup, ModpGroup, standard_group
from drivers.emrtd.pace.protocol import (
    ECDH_GM,
    ID_PACE,
    PASSWORD_CAN,
    PASSWORD_MRZ,
    PaceError,
    PaceProtocol,
    PaceRefused,
    PaceResult,
    PaceUnsupported,
    all_protocols,
    can_password,
    mrz_password,
    perform_pace,
    public_key_object,
    token,
)
from drivers.emrtd.pace.suite import SUITES, CipherSuite

__all__ = [
    "STANDARD_CURVES", "Curve", "CurveError", "GroupError", "EcGroup", "ModpGroup", "standard_group",
    "ECDH_GM", "ID_PACE", "PASSWORD_CAN", "PASSWORD_MRZ", "PaceError", "PaceProtocol", "PaceRefused", "PaceResult",
    "PaceUnsupported", "all_protocols", "can_password", "mrz_password", "perform_pace", "public_key_object",
    "token", "SUITES", "CipherSuite",
]
