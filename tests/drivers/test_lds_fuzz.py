"""Hostile chip data: every LDS parser either parses or raises LdsError/TlvError."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.emrtd import tlv
from drivers.emrtd.lds import (
    LdsError,
    cardaccess,
    cardsecurity,
    dg1,
    dg2,
    dg11,
    dg12,
    dg14,
    dg15,
    efcom,
    parse_file,
    sod,
)
from drivers.emrtd.lds.dg11 import Dg11
from drivers.emrtd.lds.dg12 import Dg12
from drivers.emrtd.lds.publickey import encode_ec_public_key
from drivers.emrtd.pace import standard_group
from drivers.emrtd.passiveauth import masterlist
from drivers.emrtd.tlv import TlvError
from hardware_sim.pki import make_test_pki, sign_cms

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")

PARSERS = {
    "EF.COM": (efcom.parse, 0x60),
    "DG1": (dg1.parse, 0x61),
    "DG2": (dg2.parse, 0x75),
    "DG11": (dg11.parse, 0x6B),
    "DG12": (dg12.parse, 0x6C),
    "DG14": (dg14.parse, 0x6E),
    "DG15": (dg15.parse, 0x6F),
    "EF.SOD": (sod.parse, 0x77),
}


def _jpeg() -> bytes:
    ok, buffer = cv2.imencode(".jpg", np.full((24, 20, 3), 120, np.uint8))
    assert ok
    return buffer.tobytes()


def _security_infos() -> list[bytes]:
    group = standard_group(13)
    key = encode_ec_public_key(group.curve, group.power(group.generator, 12345))
    return [cardaccess.encode_pace_info("0.4.0.127.0.7.2.2.4.2.2", 13),
            cardaccess.encode_ca_info("0.4.0.127.0.7.2.2.3.2.2", 1),
            cardaccess.encode_ca_public_key_info(cardaccess.ID_PK_ECDH, key, 1),
            cardaccess.encode_aa_info("0.4.0.127.0.7.1.1.4.1.3")]


def _valid_files() -> dict[str, bytes]:
    pki = make_test_pki()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    lso = sod.encode_security_object("sha256", {1: b"\x01" * 32, 2: b"\x02" * 32}, "0108", "040000")
    return {
        "EF.COM": efcom.encode(efcom.EfCom("1.8", "4.0.0", (1, 2, 11, 12))),
        "DG1": dg1.encode(TD3),
        "DG2": dg2.encode([dg2.face_from_image(_jpeg(), feature_points=(dg2.FeaturePoint(1, 0x31, 3, 4),))]),
        "DG11": dg11.encode(Dg11(full_name="ERIKSSON<<ANNA", other_names=("A", "B"), full_date_of_birth="19740812")),
        "DG12": dg12.encode(Dg12(issuing_authority="UTO", date_of_issue="20120415", other_persons=("X",))),
        "DG14": dg14.encode(_security_infos()),
        "DG15": dg15.encode(rsa_key),
        "EF.CardSecurity": sign_cms(cardsecurity.SECURITY_OBJECT_OID,
                                    cardaccess.encode_security_infos(_security_infos()), pki.dsc),
        "EF.SOD": sod.wrap(sign_cms(sod.LDS_SECURITY_OBJECT_OID, lso, pki.dsc)),
        "master list": pki.master_list,
    }


VALID = _valid_files()
ALL = {**PARSERS, "master list": (masterlist.parse, None), "EF.CardSecurity": (cardsecurity.parse, None)}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_lds_error(parser, data: bytes) -> None:
    try:
        parser(data)
    except (LdsError, TlvError):
        pass


@pytest.mark.parametrize("name", sorted(ALL))
@FUZZ
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes(name, data):
    parse_or_lds_error(ALL[name][0], data)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(body=st.binary(max_size=300))
def test_arbitrary_content_under_the_right_tag(name, body):
    parser, tag = PARSERS[name]
    parse_or_lds_error(parser, tlv.encode(tag, body))


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
        elif data:
            del data[position:position + draw(st.integers(1, 8))]
    return bytes(data)


@pytest.mark.parametrize("name", sorted(ALL))
@FUZZ
@given(data=st.data())
def test_mutations_of_valid_files(name, data):
    parse_or_lds_error(ALL[name][0], data.draw(mutated(VALID[name])))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mutated_dg2_images_decode_or_raise_lds_error(data):
    try:
        faces = dg2.parse(data.draw(mutated(VALID["DG2"]))).faces
    except LdsError:
        return
    for face in faces:
        try:
            pixels = face.decode_image()
        except LdsError:
            continue
        assert pixels.ndim == 3 and pixels.shape[2] == 3


@settings(max_examples=100, deadline=None)
@given(file_id=st.integers(0, 0x0200), data=st.binary(max_size=100))
def test_parse_file_any_identifier(file_id, data):
    parse_or_lds_error(lambda d: parse_file(file_id, d), data)
