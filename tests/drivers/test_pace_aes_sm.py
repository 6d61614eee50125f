"""AES secure messaging (the cipher PACE and Chip Authentication switch to)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.emrtd.iso7816.aes_sm import AesSmCipher, aes_cmac, aes_ecb_encrypt_block
from drivers.emrtd.iso7816.apdu import CommandApdu, ResponseApdu
from drivers.emrtd.iso7816.secure_messaging import SecureMessaging, SecureMessagingError, pad
from hardware_sim.chip.secure_messaging import ChipSession, SmViolation

H = bytes.fromhex
# Session keys of the Doc 9303 Part 11 PACE ECDH-GM worked example.
KS_ENC = H("F5F0E35C0D7161EE6724EE513A0D9A7F")
KS_MAC = H("FE251C7858B356B24514B3BD5F4297D1")


def test_cmac_matches_rfc_4493_vectors():
    key = H("2B7E151628AED2A6ABF7158809CF4F3C")
    assert aes_cmac(key, b"", 16) == H("BB1D6929E95937287FA37D129B756746")
    assert aes_cmac(key, H("6BC1BEE22E409F96E93D7E117393172A"), 16) == H("070A16B46B4D4144F79BDD9DD04A287C")


def test_mac_pads_then_truncates_to_eight_bytes():
    cipher = AesSmCipher(KS_ENC, KS_MAC)
    message = bytes(16) + b"\x0c\xb0\x00\x00"
    assert cipher.mac(message) == aes_cmac(KS_MAC, pad(message, 16), 16)[:8]
    assert len(cipher.mac(message)) == 8


def test_iv_is_the_encrypted_ssc():
    cipher = AesSmCipher(KS_ENC, KS_MAC)
    ssc = (1).to_bytes(16, "big")
    plain = pad(b"\x01\x1e", 16)
    with_zero_iv = AesSmCipher(KS_ENC, KS_MAC).encrypt(bytes(16), plain)
    assert cipher.encrypt(ssc, plain) != with_zero_iv
    assert cipher.decrypt(ssc, cipher.encrypt(ssc, plain)) == plain
    # CBC with IV = E(K, SSC) is the first block XORed with that IV, then encrypted.
    iv = aes_ecb_encrypt_block(KS_ENC, ssc)
    assert cipher.encrypt(ssc, plain) == aes_ecb_encrypt_block(KS_ENC, bytes(a ^ b for a, b in zip(plain, iv)))


@pytest.mark.parametrize("size", [16, 24, 32])
def test_reader_and_chip_sides_agree_for_every_key_size(size):
    ks_enc, ks_mac = bytes(range(size)), bytes(range(100, 100 + size))
    reader = SecureMessaging(AesSmCipher(ks_enc, ks_mac), 0)
    chip = ChipSession(AesSmCipher(ks_enc, ks_mac), 0)
    command = CommandApdu(0x00, 0xA4, 0x02, 0x0C, H("011E"))
    opened = chip.unwrap(reader.protect(command))
    assert (opened.ins, opened.data) == (0xA4, H("011E"))
    answer = chip.wrap(ResponseApdu(b"\x60\x14" + bytes(30), 0x90, 0x00))
    assert reader.unprotect(answer).data == b"\x60\x14" + bytes(30)
    assert reader.ssc == chip.ssc == 2


def test_tampered_response_is_refused():
    reader = SecureMessaging(AesSmCipher(KS_ENC, KS_MAC), 0)
    chip = ChipSession(AesSmCipher(KS_ENC, KS_MAC), 0)
    chip.unwrap(reader.protect(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=4)))
    answer = chip.wrap(ResponseApdu(b"\x01\x02\x03\x04", 0x90, 0x00))
    tampered = bytearray(answer.data)
    tampered[3] ^= 1
    with pytest.raises(SecureMessagingError, match="MAC"):
        reader.unprotect(ResponseApdu(bytes(tampered), 0x90, 0x00))


def test_chip_refuses_a_command_under_other_keys():
    reader = SecureMessaging(AesSmCipher(KS_ENC, KS_MAC), 0)
    chip = ChipSession(AesSmCipher(KS_ENC, bytes(16)), 0)
    with pytest.raises(SmViolation):
        chip.unwrap(reader.protect(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=4)))


def test_bad_keys_and_cryptograms_are_clear_errors():
    with pytest.raises(ValueError, match="16, 24 or 32"):
        AesSmCipher(bytes(16), bytes(24))
    with pytest.raises(SecureMessagingError, match="whole AES blocks"):
        AesSmCipher(KS_ENC, KS_MAC).decrypt(bytes(16), bytes(15))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 2**128 - 1))
def test_encrypt_decrypt_round_trip(data, ssc):
    cipher = AesSmCipher(KS_ENC, KS_MAC)
    ssc_bytes = ssc.to_bytes(16, "big")
    assert cipher.decrypt(ssc_bytes, cipher.encrypt(ssc_bytes, pad(data, 16))) == pad(data, 16)
