"""Active Authentication (Doc 9303 Part 11 section 6.1): the chip signs an
8-byte challenge with the private key whose public half is DG15.

`internal_authenticate` is the exchange; `verify` checks the signature and
is pure, so it runs on what a read recorded. RSA signatures are ISO/IEC
9796-2 scheme 1 with message recovery (`iso9796`); ECDSA signatures are in
the plain r || s format of BSI TR-03111 and are checked with `cryptography`,
the hash named by DG14's ActiveAuthenticationInfo. On the curves `cryptography`
lacks (brainpoolP192r1, P224r1, P320r1, or a DG15 key's own explicit curve)
they are checked with the `ecdsa` package, built on the key's parameters.
"""
from __future__ import annotations

import hashlib

import ecdsa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from drivers.emrtd.chipauth.iso9796 import Iso9796Error, recover
from drivers.emrtd.iso7816.apdu import CommandApdu
from drivers.emrtd.iso7816.transceiver import Transceiver, send
from drivers.emrtd.lds.publickey import ChipPublicKey
from drivers.emrtd.pace.curves import Curve

CHALLENGE_LENGTH = 8
# ecdsa-plain-SHA* (TR-03111) and X9.62 ecdsa-with-SHA*; Doc 9303 forbids SHA-1 for ECDSA AA
ECDSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "0.4.0.127.0.7.1.1.4.1.2": hashes.SHA224, "0.4.0.127.0.7.1.1.4.1.3": hashes.SHA256,
    "0.4.0.127.0.7.1.1.4.1.4": hashes.SHA384, "0.4.0.127.0.7.1.1.4.1.5": hashes.SHA512,
    "1.2.840.10045.4.3.1": hashes.SHA224, "1.2.840.10045.4.3.2": hashes.SHA256,
    "1.2.840.10045.4.3.3": hashes.SHA384, "1.2.840.10045.4.3.4": hashes.SHA512,
}
ECDSA_PLAIN_SHA256 = "0.4.0.127.0.7.1.1.4.1.3"


def internal_authenticate(channel: Transceiver, challenge: bytes, *, extended_length: bool) -> bytes:
    """INTERNAL AUTHENTICATE with the challenge; the chip's signature. StatusError when refused."""
    if len(challenge) != CHALLENGE_LENGTH:
        raise ValueError("the Active Authentication challenge is 8 bytes")
    command = CommandApdu(0x00, 0x88, 0x00, 0x00, challenge, ne=0x10000 if extended_length else 0x100)
    return send(channel, command).check("INTERNAL AUTHENTICATE").data


def verify(key: ChipPublicKey, algorithm: str | None, challenge: bytes, signature: bytes) -> str:
    """Check the chip's signature over the challenge. Returns what was verified;
    raises ValueError (the reason) when it does not verify."""
    if key.algorithm == "rsa":
        try:
            recovered = recover(key.rsa_modulus, key.rsa_exponent, signature, challenge)
        except Iso9796Error as error:
            raise ValueError(str(error)) from error
        return f"RSA-{key.rsa_modulus.bit_length()} ISO/IEC 9796-2 signature with {recovered.hash_name.upper()}"
    if key.algorithm != "ec":
        raise ValueError(f"a {key.algorithm.upper()} key cannot sign")
    if algorithm is None:
        raise ValueError("DG15 holds an EC key but DG14 names no Active Authentication signature algorithm")
    if algorithm not in ECDSA_HASHES:
        raise ValueError(f"signature algorithm {algorithm} is not one Doc 9303 allows for Active Authentication")
    half = (key.group.order.bit_length() + 7) // 8
    if len(signature) != 2 * half:
        raise ValueError(f"plain ECDSA signature of {len(signature)} bytes, expected {2 * half}")
    hash_algorithm = ECDSA_HASHES[algorithm]()
    library_curve = key.group.library_curve
    if library_curve is None:
        verified = _verify_on_own_curve(key.group.curve, key.public, signature, challenge, hash_algorithm.name)
    else:
        der = encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
        public = ec.EllipticCurvePublicNumbers(key.public[0], key.public[1], library_curve).public_key()
        try:
            public.verify(der, challenge, ec.ECDSA(hash_algorithm))
            verified = True
        except InvalidSignature:
            verified = False
    if not verified:
        raise ValueError("ECDSA signature over the challenge does not verify with DG15's key")
    return f"ECDSA {key.group.name} signature with {hash_algorithm.name.upper()}"


def _verify_on_own_curve(curve: Curve, public: tuple[int, int], signature: bytes, challenge: bytes,
                         hash_name: str) -> bool:
    """Plain ECDSA verification with the `ecdsa` package over the curve's own parameters."""
    field = ecdsa.ellipticcurve.CurveFp(curve.p, curve.a, curve.b, curve.h)
    generator = ecdsa.ellipticcurve.PointJacobi(field, curve.gx, curve.gy, 1, curve.n, generator=True)
    point = ecdsa.ellipticcurve.Point(field, public[0], public[1], curve.n)
    hashfunc = getattr(hashlib, hash_name)
    key = ecdsa.VerifyingKey.from_public_point(
        point, curve=ecdsa.curves.Curve(curve.name, field, generator, None), hashfunc=hashfunc)
    try:
        return key.verify(signature, challenge, hashfunc=hashfunc, sigdecode=ecdsa.util.sigdecode_string)
    except ecdsa.BadSignatureError:
        return False
