"""Verifying the CMS signer of an EF.SOD or master list with cryptography.

Doc 9303 Part 12 allows RSA PKCS#1 v1.5, RSASSA-PSS and ECDSA; ECDSA may
also appear with BSI TR-03111's plain (r || s) encoding, which some states
use, so that is accepted too.
"""
from __future__ import annotations

import hmac
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from drivers.emrtd.lds.cms import SignedContent
from drivers.emrtd.passiveauth.keys import public_key


class KeyHolder(Protocol):
    """A certificate of certificate.py (which imports this module): anything with public_key()."""

    def public_key(self) -> object: ...

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}

# ecdsa-plain-SHA* (BSI TR-03111): signature is r || s, not a DER SEQUENCE
_PLAIN_ECDSA = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1", "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256", "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}


def digest(name: str, data: bytes) -> bytes:
    h = hashes.Hash(HASHES[name]())
    h.update(data)
    return h.finalize()


def verify_signed_content(signed: SignedContent, certificate: x509.Certificate | KeyHolder) -> str | None:
    """None when the signer's signature and messageDigest hold; else the reason."""
    if signed.signed_attributes is None:
        return "signer has no signed attributes"
    if signed.digest_algorithm not in HASHES:
        return f"digest algorithm {signed.digest_algorithm} is not supported"
    if signed.message_digest is None:
        return "messageDigest signed attribute missing"
    if not hmac.compare_digest(digest(signed.digest_algorithm, signed.content), signed.message_digest):
        return "messageDigest does not match the signed content"
    if signed.signed_content_type is not None and signed.signed_content_type != signed.content_type:
        return f"contentType attribute {signed.signed_content_type} differs from {signed.content_type}"
    data = signed.signed_attributes
    try:
        key = public_key(certificate) if isinstance(certificate, x509.Certificate) else certificate.public_key()
        verify_signature(signed.signature_algorithm, data, signed.signature, key, signed.digest_algorithm)
    except InvalidSignature:
        return "signature does not verify with the signer certificate's key"
    except (ValueError, UnsupportedAlgorithm) as exc:
        return str(exc)
    return None


def _pss_padding(params) -> padding.PSS:
    """The RSASSA-PSS parameters as padding; ValueError when they are malformed or unsupported."""
    try:
        mask = params["mask_gen_algorithm"]
        mask_name, mgf_hash = mask["algorithm"].native, mask["parameters"]["algorithm"].native
        salt_length = params["salt_length"].native
    except (KeyError, TypeError, ValueError) as error:  # a damaged structure parses as something else
        raise ValueError(f"malformed RSASSA-PSS parameters: {error}") from error
    if mask_name != "mgf1":
        raise ValueError(f"PSS mask generation function {mask_name} is not supported")
    if mgf_hash not in HASHES:
        raise ValueError(f"PSS mask generation hash {mgf_hash} is not supported")
    return padding.PSS(mgf=padding.MGF1(HASHES[mgf_hash]()), salt_length=salt_length)


def verify_signature(algorithm, data: bytes, signature: bytes, key: object,
                     default_hash: str | None = None) -> None:
    """Verify signature over data with key, by the asn1crypto SignedDigestAlgorithm `algorithm`.
    InvalidSignature when it does not verify; ValueError when the algorithm is unknown, does not
    fit the key or its parameters are malformed. `default_hash` is the hash for a bare rsaEncryption
    or ecPublicKey (a CMS signer's digest algorithm); without it such an algorithm is refused."""
    oid = algorithm["algorithm"].dotted
    try:
        scheme = algorithm.signature_algo
    except ValueError:
        scheme = "ecdsa_plain" if oid in _PLAIN_ECDSA else None
    try:
        hash_name = algorithm.hash_algo
    except ValueError:  # bare 'rsaEncryption' or ecPublicKey: the digest algorithm applies
        hash_name = _PLAIN_ECDSA.get(oid, default_hash)
    if hash_name is None:
        raise ValueError(f"signature algorithm {oid} is not supported")
    if hash_name not in HASHES:
        raise ValueError(f"hash {hash_name} of signature algorithm {oid} is not supported")
    chosen = HASHES[hash_name]()

    if isinstance(key, rsa.RSAPublicKey):
        if scheme == "rsassa_pss":
            key.verify(signature, data, _pss_padding(algorithm["parameters"]), chosen)
        elif scheme in ("rsassa_pkcs1v15", None) and oid != "1.2.840.10045.2.1":
            key.verify(signature, data, padding.PKCS1v15(), chosen)
        else:
            raise ValueError(f"signature algorithm {oid} does not fit an RSA key")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if scheme == "ecdsa_plain":
            half = len(signature) // 2
            if len(signature) % 2:
                raise ValueError("plain ECDSA signature of odd length")
            signature = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                             int.from_bytes(signature[half:], "big"))
        elif scheme not in ("ecdsa", None):
            raise ValueError(f"signature algorithm {oid} does not fit an EC key")
        key.verify(signature, data, ec.ECDSA(chosen))
    else:
        raise ValueError(f"signer key type {type(key).__name__} is not supported")
