"""PACE (Password Authenticated Connection Establishment), generic mapping over
elliptic curves: the access control that replaces BAC on modern chips."""
from drivers.pace.curves import STANDARD_CURVES, Curve, CurveError
from drivers.pace.protocol import (
    ECDH_GM, PASSWORD_CAN, PASSWORD_MRZ, PaceError, PaceProtocol, PaceResult, can_password,
    map_generator, mrz_password, perform_pace, public_key_object, token,
)

__all__ = [
    "STANDARD_CURVES", "Curve", "CurveError", "ECDH_GM", "PASSWORD_CAN", "PASSWORD_MRZ", "PaceError",
    "PaceProtocol", "PaceResult", "can_password", "map_generator", "mrz_password", "perform_pace",
    "public_key_object", "token",
]
