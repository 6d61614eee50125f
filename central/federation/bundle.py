"""Signed bundles: a list's delta for a partner with no link, as a JWS (RFC 7515) with JWT claims (RFC 7519).

Signed ES256 (ECDSA P-256, SHA-256) with joserfc, a typed implementation of the JOSE RFCs built on
`cryptography` alone (chosen over jwcrypto for its typed API and explicit algorithm allow-lists; over
PyJWT because a bundle is a JWS first). The claims:

    iss  the sender's name (trust configuration [self].name)   aud  the receiver's name
    jti  the bundle's UUID (a second bundle with it is a replay) iat, exp  signed at, valid until
    delta  the SharedDelta of one list (proto limes.v1.SharedDelta in its JSON form)

Reading checks, in this order, and refuses with the reason: size, JWS form and algorithm (ES256 only),
signature against the partner's key, expiry, issuer and audience, the delta's form (exchange.check_delta).
Whether the id was seen before is the store's question (store.take_bundle), in the transaction that
applies it.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from central.federation.exchange import DeltaRefused, check_delta
from proto.limes.v1 import federation_pb2 as fpb

ALGORITHM = "ES256"
MAX_BUNDLE_BYTES = 32 * 1024 * 1024
DEFAULT_VALIDITY = dt.timedelta(days=7)
# Clocks of two centrals differ a little: a bundle signed up to this far in the future is still taken.
CLOCK_SKEW_S = 300


class BundleRefused(ValueError):
    """A bundle that is not taken in; the message says why."""


@dataclass(frozen=True)
class Bundle:
    bundle_id: str
    issuer: str
    audience: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    delta: fpb.SharedDelta


def load_private_key(path: Path) -> ECKey:
    try:
        return ECKey.import_key(Path(path).read_bytes())
    except (OSError, ValueError, JoseError) as exc:
        raise BundleRefused(f"signing key {path}: not an EC private key in PEM: {exc}") from None


def load_public_key(path: Path) -> ECKey:
    try:
        key = ECKey.import_key(Path(path).read_bytes())
    except (OSError, ValueError, JoseError) as exc:
        raise BundleRefused(f"partner key {path}: not an EC public key in PEM: {exc}") from None
    return ECKey.import_key(key.as_dict(private=False))  # only the public half, whatever the file held


def sign(delta: fpb.SharedDelta, key: ECKey, issuer: str, audience: str, now: dt.datetime,
         validity: dt.timedelta = DEFAULT_VALIDITY) -> str:
    """The bundle of `delta` from `issuer` to `audience`, signed with `key`, valid from now for `validity`."""
    claims = {"iss": issuer, "aud": audience, "jti": str(uuid.uuid4()), "iat": int(now.timestamp()),
              "exp": int((now + validity).timestamp()),
              "delta": json_format.MessageToDict(delta, preserving_proto_field_name=True)}
    return jwt.encode({"alg": ALGORITHM, "typ": "limes-bundle+jwt"}, claims, key, algorithms=[ALGORITHM])


def verified_claims(token: str | bytes, key: ECKey) -> dict:
    """The claims of a compact JWS whose ES256 signature `key` verifies; BundleRefused otherwise."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise BundleRefused("not a compact JWS: the file holds bytes outside ASCII") from None
    token = token.strip()
    if token.count(".") != 2:
        raise BundleRefused("not a compact JWS: three dot-separated parts are required")
    try:
        decoded = jwt.decode(token, key, algorithms=[ALGORITHM])
    except JoseError as exc:
        raise BundleRefused(f"signature or form refused: {exc.__class__.__name__}: {exc}") from None
    except (ValueError, TypeError) as exc:  # malformed base64 or JSON inside the parts
        raise BundleRefused(f"not a compact JWS: {exc.__class__.__name__}") from None
    if decoded.header.get("alg") != ALGORITHM:
        raise BundleRefused(f"algorithm {decoded.header.get('alg')!r}: only {ALGORITHM} is accepted")
    if not isinstance(decoded.claims, dict):
        raise BundleRefused("the payload is not a JSON object")
    return decoded.claims


def _instant(claims: dict, name: str) -> dt.datetime:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**37:
        raise BundleRefused(f"claim {name}: a time in seconds is required")
    return dt.datetime.fromtimestamp(value, dt.timezone.utc)


def read(token: str | bytes, key: ECKey, *, issuer: str, audience: str, now: dt.datetime,
         max_alerts: int) -> Bundle:
    """The bundle in `token` when it is well formed, signed by `key`, from `issuer` to `audience` and in force."""
    if len(token) > MAX_BUNDLE_BYTES:
        raise BundleRefused(f"oversized: {len(token)} bytes, at most {MAX_BUNDLE_BYTES}")
    claims = verified_claims(token, key)
    expires = _instant(claims, "exp")
    if expires <= now:
        raise BundleRefused(f"expired at {expires.isoformat()} (now {now.replace(microsecond=0).isoformat()})")
    if claims.get("iss") != issuer:
        raise BundleRefused(f"issuer {str(claims.get('iss'))[:64]!r} is not the partner {issuer!r}")
    if claims.get("aud") != audience:
        raise BundleRefused(f"audience {str(claims.get('aud'))[:64]!r} is not us ({audience!r})")
    issued = _instant(claims, "iat")
    if issued > now + dt.timedelta(seconds=CLOCK_SKEW_S):
        raise BundleRefused(f"signed in the future ({issued.isoformat()})")
    bundle_id = claims.get("jti")
    try:
        bundle_id = str(uuid.UUID(bundle_id)) if isinstance(bundle_id, str) else None
    except ValueError:
        bundle_id = None
    if bundle_id is None:
        raise BundleRefused("claim jti: a UUID is required (it is how a replay is known)")
    payload = claims.get("delta")
    if not isinstance(payload, dict):
        raise BundleRefused("claim delta: a JSON object is required")
    try:
        delta = json_format.ParseDict(payload, fpb.SharedDelta())
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise BundleRefused(f"claim delta: not a SharedDelta: {str(exc)[:200]}") from None
    try:
        check_delta(delta, delta.list, max_alerts)
    except DeltaRefused as exc:
        raise BundleRefused(f"delta refused: {exc}") from None
    return Bundle(bundle_id, issuer, audience, issued, expires, delta)


def describe(bundle: Bundle) -> dict:
    return {"bundle_id": bundle.bundle_id, "issuer": bundle.issuer, "audience": bundle.audience,
            "issued_at": bundle.issued_at.isoformat(), "expires_at": bundle.expires_at.isoformat(),
            "list": bundle.delta.list, "since_version": bundle.delta.since_version,
            "current_version": bundle.delta.current_version, "alerts": len(bundle.delta.alerts)}
