"""PACE ECDH generic mapping against the worked example of ICAO Doc 9303
Part 11 (brainpoolP256r1, id-PACE-ECDH-GM-AES-CBC-CMAC-128, MRZ password).

Every expected value below is copied from that example; the private keys and
the nonce are the example's inputs, the rest is recomputed here."""
from __future__ import annotations

import pytest

from drivers import bac
from drivers.pace import (
    STANDARD_CURVES, CurveError, PaceError, PaceProtocol, can_password, map_generator,
    mrz_password, public_key_object, token,
)

H = bytes.fromhex
CURVE = STANDARD_CURVES[13]
PROTOCOL = PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.2.2")
MRZ_INFO = "T22000129364081251010318"
K_PI = H("89DED1B26624EC1E634C1989302849DD")
ENCRYPTED_NONCE = H("95A3A016522EE98D01E76CB6B98B42C3")
NONCE = H("3F00C4D39D153F2B2A214A078D899B22")
SK_PCD_MAP = 0x7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99
PK_PCD_MAP = (0x7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E,
              0x544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D)
SK_PICC_MAP = 0x498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560
PK_PICC_MAP = (0x824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57,
               0x30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54)
SHARED_H = (0x60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5,
            0x0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181)
MAPPED_G = (0x8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2,
            0x8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522)
SK_PCD = 0xA73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595
PK_PCD = (0x2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C,
          0x3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462)
SK_PICC = 0x107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A
PK_PICC = (0x9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB,
           0x7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094)
SHARED_K = H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
KS_ENC = H("F5F0E35C0D7161EE6724EE513A0D9A7F")
KS_MAC = H("FE251C7858B356B24514B3BD5F4297D1")
T_PCD = H("C2B0BD78D94BA866")
T_PICC = H("3ABB9674BCE93C08")


def test_password_key_from_the_mrz():
    assert MRZ_INFO == bac.mrz_key("T22000129", "640812", "101031")
    assert PROTOCOL.kdf(mrz_password(MRZ_INFO), 3) == K_PI


def test_nonce_decryption():
    assert PROTOCOL.decrypt_nonce(K_PI, ENCRYPTED_NONCE) == NONCE


def test_mapping_keys_shared_point_and_generator():
    assert CURVE.multiply(SK_PCD_MAP, CURVE.generator) == PK_PCD_MAP
    assert CURVE.multiply(SK_PICC_MAP, CURVE.generator) == PK_PICC_MAP
    assert CURVE.multiply(SK_PCD_MAP, PK_PICC_MAP) == SHARED_H == CURVE.multiply(SK_PICC_MAP, PK_PCD_MAP)
    assert map_generator(CURVE, NONCE, SHARED_H) == MAPPED_G


def test_ephemeral_key_agreement_and_session_keys():
    assert CURVE.multiply(SK_PCD, MAPPED_G) == PK_PCD
    assert CURVE.multiply(SK_PICC, MAPPED_G) == PK_PICC
    shared = CURVE.multiply(SK_PCD, PK_PICC)
    assert shared[0].to_bytes(32, "big") == SHARED_K
    assert PROTOCOL.kdf(SHARED_K, 1) == KS_ENC
    assert PROTOCOL.kdf(SHARED_K, 2) == KS_MAC


def test_authentication_tokens():
    assert token(PROTOCOL, KS_MAC, CURVE, PK_PICC) == T_PCD
    assert token(PROTOCOL, KS_MAC, CURVE, PK_PCD) == T_PICC


def test_public_key_object_layout():
    data = public_key_object(PROTOCOL, CURVE, PK_PICC)
    assert data[:3] == H("7F494F") and data[3:15] == H("060A04007F00070202040202")
    assert data[15:18] == H("864104")


def test_protocol_table():
    assert PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.2.1").cipher == "3DES"
    assert PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.2.4").key_length == 32
    with pytest.raises(PaceError, match="not a supported"):
        PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.1.2")  # DH generic mapping
    assert len(PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.2.3").kdf(b"k", 1)) == 24


def test_every_standard_curve_is_consistent():
    assert sorted(STANDARD_CURVES) == list(range(8, 19))
    for curve in STANDARD_CURVES.values():
        assert curve.contains(curve.generator)
        assert curve.multiply(curve.n, curve.generator) is None


def test_bad_points_and_passwords_are_clear_errors():
    with pytest.raises(CurveError, match="04"):
        CURVE.decode(b"\x04" + bytes(10))
    with pytest.raises(CurveError, match="not on"):
        CURVE.decode(b"\x04" + bytes(64))
    with pytest.raises(ValueError, match="six digits"):
        can_password("12a456")
    with pytest.raises(PaceError, match="whole AES blocks"):
        PROTOCOL.decrypt_nonce(K_PI, bytes(15))
