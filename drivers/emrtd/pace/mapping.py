"""The PACE mappings (Doc 9303 Part 11 section 4.4.3.3): how the nonce s
becomes the generator of the session's Diffie-Hellman.

* Generic mapping (GM, and CAM, whose mapping is the same): the parties run
  an anonymous DH first; with its result H the generator is s*G + H (EC) or
  g^s * h (DH).
* Integrated mapping (IM): the reader sends a second nonce t; a block-cipher
  based pseudo-random function R_p(s, t) gives a field element, which a
  point encoding (EC, Appendix B) or the cofactor exponent (DH) maps into
  the group.
* Chip Authentication Mapping: the chip also proves its static key by
  sending CA = SK_IC^-1 * SK_Map,IC (section 4.4.3.5).
"""
from __future__ import annotations

from drivers.emrtd.pace.curves import Curve, GroupError, Point
from drivers.emrtd.pace.groups import EcGroup, Element, Group
from drivers.emrtd.pace.suite import CipherSuite

# Constants of the pseudo-random function for 128-bit and 256-bit nonces.
_C0 = {16: bytes.fromhex("a668892a7c41e3ca739f40b057d85904"),
       32: bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676")}
_C1 = {16: bytes.fromhex("a4e136ac725f738b01c1f60217c188ad"),
       32: bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517")}


def generic_map(group: Group, nonce: bytes, shared: Element) -> Element:
    """G' = s*G + H, or g' = g^s * h."""
    mapped = group.combine(group.power(group.generator, int.from_bytes(nonce, "big")), shared)
    if group.is_identity(mapped):
        raise GroupError("mapped generator is the identity")
    return mapped


def pseudo_random_octets(suite: CipherSuite, s: bytes, t: bytes, prime: int) -> bytes:
    """R(s, t): blocks E(k_i, c1) with k_0 = E(t, s), k_{i+1} = E(k_i, c0), each key cut to
    the cipher's key length, until n*l >= log2(p) + 64."""
    length = len(s)
    if length not in _C0 or len(t) != suite.key_length:
        raise GroupError(f"integrated mapping needs a 16- or 32-byte nonce s and a {suite.key_length}-byte t, "
                         f"got {len(s)} and {len(t)}")
    blocks = -(-(prime.bit_length() + 64) // (8 * length))
    key = suite.encrypt(t, s)
    output = b""
    for _ in range(blocks):
        key = key[:suite.key_length]
        output += suite.encrypt(key, _C1[length])
        key = suite.encrypt(key, _C0[length])
    return output


def pseudo_random(suite: CipherSuite, s: bytes, t: bytes, prime: int) -> int:
    """R_p(s, t): R(s, t) as an integer, mod p."""
    return int.from_bytes(pseudo_random_octets(suite, s, t, prime), "big") % prime


def point_encoding(curve: Curve, t: int) -> Point:
    """f_G of Brier et al. (Doc 9303 Part 11 Appendix B.2): a field element to a point of the
    prime-order subgroup. Needs p = 3 mod 4 (which excludes NIST P-224)."""
    p, a, b = curve.p, curve.a, curve.b
    if p % 4 != 3:
        raise GroupError(f"{curve.name} has p != 3 mod 4: the integrated mapping cannot be used with it")
    if not 0 < t < p:
        raise GroupError("point encoding input out of range")
    alpha = -t * t % p
    alpha_sum = (alpha + alpha * alpha) % p
    if alpha_sum == 0:  # t = +-1: the one input the encoding has no image for
        raise GroupError("point encoding input is an exceptional value (t = +-1)")
    x2 = -b * (1 + alpha_sum) * pow(a * alpha_sum % p, p - 2, p) % p
    x3 = alpha * x2 % p
    h2 = (x2 * x2 * x2 + a * x2 + b) % p
    u = t * t * t * h2 % p
    root = pow(h2, p - 1 - (p + 1) // 4, p)
    point = (x2, root * h2 % p) if root * root * h2 % p == 1 else (x3, root * u % p)
    if not curve.contains(point):
        raise GroupError("point encoding did not give a point on the curve")
    if curve.h != 1:
        multiplied = curve.multiply(curve.h, point)
        if multiplied is None:
            raise GroupError("point encoding gave the point at infinity")
        point = multiplied
    return point


def integrated_map(group: Group, suite: CipherSuite, s: bytes, t: bytes) -> Element:
    """G' = f_G(R_p(s, t)) or g' = R_p(s, t)^((p-1)/q) mod p."""
    value = pseudo_random(suite, s, t, group.prime)
    if isinstance(group, EcGroup):
        return point_encoding(group.curve, value)
    if group.order is None:
        raise GroupError("integrated mapping over DH needs the subgroup order q")
    mapped = pow(value, (group.prime - 1) // group.order, group.prime)
    if mapped == 1:
        raise GroupError("mapped generator is 1")
    return mapped


def chip_authentication_data(group: EcGroup, static_private: int, mapping_private: int) -> bytes:
    """CA_IC = SK_IC^-1 * SK_Map,IC mod n, as FE2OS (the byte length of the order). Chip side."""
    value = pow(static_private, -1, group.order) * mapping_private % group.order
    return value.to_bytes((group.order.bit_length() + 7) // 8, "big")


def verify_chip_authentication_data(group: EcGroup, ca_data: bytes, static_public: Point,
                                    mapping_public: Point) -> bool:
    """PK_Map,IC = KA(CA_IC, PK_IC): the chip knows the private key of PK_IC."""
    value = int.from_bytes(ca_data, "big")
    if not 0 < value < group.order:
        return False
    return group.curve.multiply(value, static_public) == mapping_public


__all__ = ["chip_authentication_data", "generic_map", "integrated_map", "point_encoding",
           "pseudo_random", "pseudo_random_octets", "verify_chip_authentication_data"]
