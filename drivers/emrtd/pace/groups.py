"""The groups PACE and Chip Authentication run Diffie-Hellman in: elliptic
curves (ECDH) and prime-field subgroups (DH), behind one small interface so
that the mappings and the protocols are written once.

`standard_group(parameter_id)` gives the standardized domain parameters of
Doc 9303 Part 11 (table 12): ids 0-2 are the RFC 5114 MODP groups, 8-18 the
curves of `drivers.emrtd.pace.curves`.

ECDH uses `cryptography` where it does the job: a key pair over the curve's
own generator and the x-coordinate of a shared point, on the curves it knows.
Everything over another generator (PACE's mapped one) uses the arithmetic of
`drivers.emrtd.pace.curves`. DH is Python's modular exponentiation: `cryptography`
has deprecated finite-field DH, and it cannot take a generator of our own.
"""
from __future__ import annotations

from typing import Callable, Union

from cryptography.hazmat.primitives.asymmetric import ec

from drivers.emrtd.pace.curves import STANDARD_CURVES, Curve, CurveError, GroupError, Point

Element = Union[Point, int]
Random = Callable[[int], bytes]

# Curves `cryptography` (OpenSSL) implements; the others are computed here.
_CRYPTOGRAPHY_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp192r1": ec.SECP192R1, "secp224r1": ec.SECP224R1, "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1, "secp521r1": ec.SECP521R1, "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1, "brainpoolP512r1": ec.BrainpoolP512R1,
}


def unsigned(value: int) -> bytes:
    """Doc 9303 Part 11 section 9.4.1: big-endian, the fewest octets, no leading zero."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


class EcGroup:
    """Points of a prime curve; elements are affine (x, y) tuples."""

    kind = "ECDH"
    public_key_tag = 0x86  # in a public key data object 7F49

    def __init__(self, curve: Curve) -> None:
        self.curve = curve
        self.name = curve.name
        self.order = curve.n
        self.generator: Point = curve.generator
        self.size = curve.size
        self.prime = curve.p
        self._library_curve = _CRYPTOGRAPHY_CURVES.get(curve.name) if curve.parameter_id is not None else None

    def __repr__(self) -> str:
        return f"EcGroup({self.name})"

    @property
    def library_curve(self) -> ec.EllipticCurve | None:
        """The `cryptography` curve object, when the library implements this curve."""
        return self._library_curve() if self._library_curve else None

    def private_key(self, random: Random) -> int:
        return 1 + int.from_bytes(random(self.size + 8), "big") % (self.order - 1)

    def power(self, base: Point, scalar: int) -> Point:
        """scalar * base."""
        if base == self.generator and self._library_curve is not None:
            numbers = ec.derive_private_key(scalar % self.order, self._library_curve()).public_key().public_numbers()
            return (numbers.x, numbers.y)
        point = self.curve.multiply(scalar, base)
        if point is None:
            raise GroupError("scalar multiplication gave the point at infinity")
        return point

    def combine(self, first: Point, second: Point) -> Point:
        point = self.curve.add(first, second)
        if point is None:
            raise GroupError("point addition gave the point at infinity")
        return point

    def agree(self, private: int, public: Point) -> Point:
        """The shared point (cofactor multiplication as ECKA does)."""
        return self.power(public, private * self.curve.h)

    def shared_secret(self, private: int, public: Point) -> bytes:
        """The x-coordinate of the shared point, as the KDF takes it."""
        if self._library_curve is not None and self.curve.h == 1:
            key = ec.derive_private_key(private % self.order, self._library_curve())
            peer = ec.EllipticCurvePublicNumbers(public[0], public[1], self._library_curve()).public_key()
            return key.exchange(ec.ECDH(), peer)
        return self.agree(private, public)[0].to_bytes(self.size, "big")

    def encode(self, element: Point) -> bytes:
        return self.curve.encode(element)

    def decode(self, data: bytes) -> Point:
        return self.curve.decode(data)

    def is_identity(self, element: Point | None) -> bool:
        return element is None


class ModpGroup:
    """The order-q subgroup of Z_p*; elements are integers. q may be unknown
    (PKCS#3 parameters), in which case public values are only range-checked."""

    kind = "DH"
    public_key_tag = 0x84

    def __init__(self, name: str, p: int, g: int, q: int | None) -> None:
        if p < 7 or not 1 < g < p - 1:
            raise GroupError("DH parameters out of range")
        self.name = name
        self.prime = p
        self.generator = g
        self.order = q
        self.size = (p.bit_length() + 7) // 8

    def __repr__(self) -> str:
        return f"ModpGroup({self.name})"

    def private_key(self, random: Random) -> int:
        if self.order is not None:
            return 1 + int.from_bytes(random((self.order.bit_length() + 7) // 8 + 8), "big") % (self.order - 1)
        return int.from_bytes(random(32), "big") | 1 << 255  # 256-bit exponent when the order is unknown

    def power(self, base: int, exponent: int) -> int:
        return pow(base, exponent, self.prime)

    def combine(self, first: int, second: int) -> int:
        return first * second % self.prime

    def agree(self, private: int, public: int) -> int:
        shared = pow(public, private, self.prime)
        if shared in (0, 1):
            raise GroupError("DH key agreement gave a trivial value")
        return shared

    def shared_secret(self, private: int, public: int) -> bytes:
        """PKCS#3: the shared value as an octet string of the length of p."""
        return self.agree(private, public).to_bytes(self.size, "big")

    def encode(self, element: int) -> bytes:
        return unsigned(element)

    def decode(self, data: bytes) -> int:
        """A public value, validated as RFC 2631 asks: 1 < y < p-1 and y^q = 1."""
        if not data or len(data) > self.size:
            raise GroupError(f"DH public value of {len(data)} bytes does not fit the {self.size}-byte prime")
        value = int.from_bytes(data, "big")
        if not 1 < value < self.prime - 1:
            raise GroupError("DH public value out of range")
        if self.order is not None and pow(value, self.order, self.prime) != 1:
            raise GroupError("DH public value is not in the prime-order subgroup")
        return value

    def is_identity(self, element: int) -> bool:
        return element == 1


Group = Union[EcGroup, ModpGroup]

# RFC 5114 sections 2.1-2.3: p, g, q (the ids 0-2 of Doc 9303 Part 11 table 12).
_RFC5114 = {
    0: ("1024-bit MODP group with 160-bit subgroup",
        "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D189838EF1E2EE652C0"
        "13ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0"
        "A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
        "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B777E690F5504F213"
        "160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28A"
        "D662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
        "F518AA8781A8DF278ABA4E7D64B7CB9D49462353"),
    1: ("2048-bit MODP group with 224-bit subgroup",
        "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75E6FA141DF95A56DBAF9A3C407BA1DF15"
        "EB3D688A309C180E1DE6B85A1274A0A66D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B7AD5B7D0B6C12207"
        "C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A317091883681286130BC8985DB1602E714415D9330"
        "278273C7DE31EFDC7310F7121FD5A07415987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8"
        "BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29E3FB73C16B8E75B97EF363E2FFA31F71"
        "CF9DE5384E71B81C0AC4DFFE0C10E64F",
        "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3A6824A4E10B9A6F0DD921F01A70C4AFA"
        "AB739D7700C29F52C57DB17C620A8652BE5E9001A8D66AD7C17669101999024AF4D027275AC1348BB8A762D0521BC98A"
        "E247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D119529A45D6F834566E3025E316A330EF"
        "BB77A86F0C1AB15B051AE3D428C8F8ACB70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381"
        "B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD7B5A0F1C71CFFF4C19C418E1F6EC0179"
        "81BC087F2A7065B384B890D3191F2BFA",
        "801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB"),
    2: ("2048-bit MODP group with 256-bit subgroup",
        "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4FAF7DF4561B2AA30"
        "16C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B"
        "6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76B63ACAE1CAA6B7902D52526735488A0E"
        "F13C6D9A51BFA4AB3AD8347796524D8EF6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026"
        "C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103A4B54330C198AF126116D2276E11715F"
        "693877FAD7EF09CADB094AE91E1A1597",
        "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463FFF4FED4AAC0BB555"
        "BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B"
        "777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193B5045AF2767164E1DFC967C1FB3F2E55"
        "A4BD1BFFE83B9C80D052B985D182EA0ADB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915"
        "B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C32F63078490F00EF8D647D148D4795451"
        "5E2327CFEF98C582664B4C0F6CC41659",
        "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3"),
}
STANDARD_DH_GROUPS: dict[int, ModpGroup] = {
    number: ModpGroup(name, int(p, 16), int(g, 16), int(q, 16)) for number, (name, p, g, q) in _RFC5114.items()}
_STANDARD_EC_GROUPS = {number: EcGroup(curve) for number, curve in STANDARD_CURVES.items()}


def standard_group(parameter_id: int) -> Group:
    """The standardized domain parameters with this id; GroupError for an unknown id."""
    group = STANDARD_DH_GROUPS.get(parameter_id) or _STANDARD_EC_GROUPS.get(parameter_id)
    if group is None:
        raise GroupError(f"domain parameter id {parameter_id} is not a standardized one (0-2, 8-18)")
    return group


def standard_parameter_id(group: Group) -> int | None:
    """The id of the standardized domain parameters this group is, or None for any other group."""
    if isinstance(group, EcGroup):
        return group.curve.parameter_id  # Curve.explicit gives the standardized curve for its parameters
    parameters = (group.prime, group.generator, group.order)
    return next((number for number, standard in STANDARD_DH_GROUPS.items()
                 if (standard.prime, standard.generator, standard.order) == parameters), None)


def ec_group(curve: Curve) -> EcGroup:
    """The group of a curve (the shared instance for a standardized curve)."""
    if curve.parameter_id is not None:
        return _STANDARD_EC_GROUPS[curve.parameter_id]
    return EcGroup(curve)


__all__ = ["CurveError", "EcGroup", "Element", "Group", "GroupError", "ModpGroup", "STANDARD_DH_GROUPS",
           "ec_group", "standard_group", "standard_parameter_id", "unsigned"]
