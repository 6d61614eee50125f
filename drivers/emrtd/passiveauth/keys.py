"""A certificate's public key, also when its EC parameters are spelt out.

Several states' CSCA and Document Signer certificates carry EC keys with
explicit domain parameters (the prime, coefficients, generator and order of
brainpoolP256r1, say) instead of the curve's name, as BSI TR-03111 allows.
`cryptography` loads such keys only for three NIST curves and refuses the rest,
which would fail passive authentication of every document those states issue.
Explicit parameters that are exactly a standardized curve are that curve: the
key is rebuilt on it by name. Parameters of no known curve stay refused.
"""
from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes, PublicKeyTypes

from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.lds.publickey import parse_public_key


def public_key(certificate: x509.Certificate) -> CertificatePublicKeyTypes:
    """The certificate's key; UnsupportedAlgorithm when it is of no kind or curve known here."""
    try:
        return certificate.public_key()
    except UnsupportedAlgorithm as refusal:
        named = _named_ec_key(lambda: asn1_x509.TbsCertificate.load(
            certificate.tbs_certificate_bytes)["subject_public_key_info"].dump())
        if named is None:
            raise refusal
        return named


def public_key_from_info(subject_public_key_info: bytes) -> PublicKeyTypes:
    """The key of a DER SubjectPublicKeyInfo (as a certificate carries it); UnsupportedAlgorithm
    when it is of no kind or curve known here, ValueError when it does not decode."""
    try:
        return serialization.load_der_public_key(subject_public_key_info)
    except UnsupportedAlgorithm as refusal:
        named = _named_ec_key(lambda: subject_public_key_info)
        if named is None:
            raise refusal
        return named


def _named_ec_key(info) -> ec.EllipticCurvePublicKey | None:
    """The key on its named curve, when its explicit parameters are a standardized curve's."""
    try:
        key = parse_public_key(info(), "certificate")
    except (LdsError, ValueError, TypeError, KeyError):  # asn1crypto parses lazily: damage shows on access
        return None
    curve = key.group.library_curve if key.algorithm == "ec" else None
    if curve is None:
        return None
    x, y = key.public
    return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
