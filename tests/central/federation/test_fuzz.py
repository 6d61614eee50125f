"""Hypothesis against the parsers a partner's bytes reach: the bundle reader (unsigned garbage, and well-signed
claims of any shape) and the delta check. Each either returns a checked value or refuses with its reason."""
from __future__ import annotations

import datetime as dt
import string

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import ECKey

from central.federation import bundle
from central.federation.exchange import DeltaRefused, check_delta
from proto.limes.v1 import federation_pb2 as fpb

KEY = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)
IN_FORCE = int((NOW + dt.timedelta(days=1)).timestamp())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)

alert_fields = st.fixed_dictionaries({}, optional={
    "alert_id": st.text(max_size=40), "version": st.integers(-5, 50), "withdrawn": st.booleans(),
    "handling_code": st.sampled_from(["P", "C", "", "X", "p"]), "handling_instruction": st.text(max_size=50),
    "reason": st.text(max_size=20), "document_number": st.text(string.ascii_uppercase + string.digits, max_size=12),
    "surname": st.text(max_size=20), "birth_date": st.text(max_size=12) | st.dates().map(dt.date.isoformat),
    "valid_from": st.text(max_size=12), "valid_to": st.dates().map(dt.date.isoformat)})


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_unsigned_garbage_is_refused(data):
    try:
        bundle.read(data, KEY, issuer="LIMES-B", audience="LIMES-A", now=NOW, max_alerts=50)
    except bundle.BundleRefused as refused:
        assert str(refused)
    else:
        raise AssertionError("garbage was taken for a signed bundle")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["iss", "aud", "jti", "iat", "exp", "delta", "other"]), json_values,
                       max_size=7),
       st.booleans())
def test_signed_claims_of_any_shape_are_refused_or_read_checked(claims, well_formed_envelope):
    if well_formed_envelope:  # get past the envelope so that the delta's own parsing is reached
        claims = {**claims, "iss": "LIMES-B", "aud": "LIMES-A", "iat": IN_FORCE - 100, "exp": IN_FORCE,
                  "jti": "0f8fad5b-d9cb-469f-a165-70867728950e"}
    token = jwt.encode({"alg": "ES256"}, claims, KEY, algorithms=["ES256"])
    try:
        taken = bundle.read(token, KEY, issuer="LIMES-B", audience="LIMES-A", now=NOW, max_alerts=50)
    except bundle.BundleRefused as refused:
        assert str(refused)
    else:
        assert taken.delta.list in ("documents", "persons") and len(taken.delta.alerts) <= 50


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["documents", "persons", "", "x"]), st.integers(-3, 20), st.integers(-3, 60),
       st.lists(alert_fields, max_size=8))
def test_the_delta_check_refuses_or_passes_only_a_sound_delta(list_name, since, current, alerts):
    try:
        delta = fpb.SharedDelta(list=list_name, since_version=since, current_version=current,
                                alerts=[fpb.SharedAlert(**fields) for fields in alerts])
    except ValueError:  # a string protobuf will not hold (lone surrogates): never reaches the check
        return
    try:
        checked = check_delta(delta, "documents", 5)
    except DeltaRefused as refused:
        assert str(refused)
        return
    assert checked.list == "documents" and 0 <= since <= current and len(checked.alerts) <= 5
    ids = [a.alert_id for a in checked.alerts]
    assert len(set(ids)) == len(ids)
    for alert in checked.alerts:
        assert since < alert.version <= current
        assert alert.withdrawn or (alert.handling_code in ("P", "C") and alert.document_number.strip())
