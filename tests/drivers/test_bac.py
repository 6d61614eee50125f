"""BAC and 3DES secure messaging against the worked example of ICAO Doc 9303
Part 11 (Appendix D, 'Worked example: Basic Access Control')."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.emrtd import bac
from drivers.emrtd.iso7816.apdu import CommandApdu, ResponseApdu
from drivers.emrtd.iso7816.secure_messaging import (
    DesSmCipher,
    SecureMessaging,
    SecureMessagingError,
    pad,
    retail_mac,
    unpad,
)

H = bytes.fromhex
MRZ_INFO = "L898902C<369080619406236"
RND_IC = H("4608F91988702212")
RND_IFD = H("781723860C06C226")
K_IFD = H("0B795240CB7049B01C19B33E32804F0B")
E_IFD = H("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
M_IFD = H("5F1448EEA8AD90A7")
CHIP_ANSWER = H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449")
K_IC = H("0B4F80323EB3191CB04970CB4052790B")
KS_ENC = H("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = H("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = 0x887022120C06C226


def test_mrz_information_from_fields():
    assert bac.mrz_key("L898902C", "690806", "940623") == MRZ_INFO


def test_check_digit_rejects_lowercase_garbage():
    with pytest.raises(ValueError, match="not an MRZ character"):
        bac.check_digit("ab!")


def test_key_seed_and_basic_access_keys():
    assert bac.key_seed(MRZ_INFO) == H("239AB9CB282DAF66231DC5A4DF6BFBAE")
    keys = bac.BacKeys.from_mrz(MRZ_INFO)
    assert keys.k_enc == H("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert keys.k_mac == H("7962D9ECE03D1ACD4C76089DCE131543")


def test_reader_cryptogram_and_mac():
    keys = bac.BacKeys.from_mrz(MRZ_INFO)
    data = bac.mutual_authenticate_data(keys, RND_IC, RND_IFD, K_IFD)
    assert data == E_IFD + M_IFD


def test_chip_answer_gives_k_ic_and_session_keys():
    keys = bac.BacKeys.from_mrz(MRZ_INFO)
    assert bac.open_chip_answer(keys, CHIP_ANSWER, RND_IC, RND_IFD) == K_IC
    session = bac.session_keys(K_IFD, K_IC, RND_IC, RND_IFD)
    assert (session.ks_enc, session.ks_mac, session.ssc) == (KS_ENC, KS_MAC, SSC)


def test_chip_answer_with_wrong_mac_is_rejected():
    keys = bac.BacKeys.from_mrz(MRZ_INFO)
    tampered = CHIP_ANSWER[:-1] + bytes([CHIP_ANSWER[-1] ^ 1])
    with pytest.raises(bac.BacError, match="MAC"):
        bac.open_chip_answer(keys, tampered, RND_IC, RND_IFD)


def test_perform_bac_over_a_scripted_chip():
    """The full exchange with the example's randoms gives the example's APDUs."""
    expected = [
        (H("0084000008"), RND_IC + H("9000")),
        (H("0082000028") + E_IFD + M_IFD + H("28"), CHIP_ANSWER + H("9000")),
    ]
    sent = []

    class Scripted:
        def transmit(self, apdu: bytes) -> bytes:
            command, answer = expected[len(sent)]
            sent.append(apdu)
            assert apdu == command
            return answer

    randoms = iter([RND_IFD, K_IFD])
    session = bac.perform_bac(Scripted(), MRZ_INFO, random=lambda n: next(randoms))
    assert (session.ks_enc, session.ks_mac, session.ssc) == (KS_ENC, KS_MAC, SSC)
    assert len(sent) == 2


def test_perform_bac_reports_a_refusing_chip():
    class Refusing:
        def transmit(self, apdu: bytes) -> bytes:
            return RND_IC + H("9000") if apdu[1] == 0x84 else H("6300")

    with pytest.raises(bac.BacError, match="6300"):
        bac.perform_bac(Refusing(), MRZ_INFO)


def _session() -> SecureMessaging:
    return SecureMessaging(DesSmCipher(KS_ENC, KS_MAC), SSC)


def test_secure_messaging_worked_example():
    """SELECT EF.COM, READ BINARY of 4 bytes then of the remaining 18, exactly
    as the example protects and unprotects them."""
    sm = _session()
    select = sm.protect(CommandApdu(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    assert select.encode() == H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
    assert sm.unprotect(ResponseApdu.parse(H("990290008E08FA855A5D4C50A8ED9000"))).ok

    read = sm.protect(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=4))
    assert read.encode() == H("0CB000000D9701048E08ED6705417E96BA5500")
    answer = sm.unprotect(ResponseApdu.parse(
        H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000")))
    assert answer.data == H("60145F01") and answer.ok

    read = sm.protect(CommandApdu(0x00, 0xB0, 0x00, 0x04, ne=0x12))
    assert read.encode() == H("0CB000040D9701128E082EA28A70F3C7B53500")
    answer = sm.unprotect(ResponseApdu.parse(
        H("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000")))
    assert answer.data == H("04303130365F36063034303030305C026175")
    assert sm.ssc == 0x887022120C06C22C


def test_response_with_bad_mac_is_rejected():
    sm = _session()
    sm.protect(CommandApdu(0x00, 0xA4, 0x02, 0x0C, H("011E")))
    with pytest.raises(SecureMessagingError, match="MAC"):
        sm.unprotect(ResponseApdu.parse(H("990290008E08FA855A5D4C50A8EE9000")))


def test_plain_error_response_ends_the_session():
    sm = _session()
    sm.protect(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=4))
    with pytest.raises(SecureMessagingError, match="6988") as caught:
        sm.unprotect(ResponseApdu.parse(H("6988")))
    assert caught.value.sw == 0x6988


@pytest.mark.parametrize("data", [b"", b"\x80", b"12345678" * 3 + b"abc"])
def test_padding_round_trip(data):
    padded = pad(data)
    assert len(padded) % 8 == 0 and unpad(padded) == data


def test_unpad_rejects_missing_marker():
    with pytest.raises(SecureMessagingError, match="padding"):
        unpad(bytes(8))


def test_retail_mac_is_eight_bytes_and_key_dependent():
    assert retail_mac(KS_MAC, b"abc") != retail_mac(KS_ENC, b"abc")
    assert len(retail_mac(KS_MAC, b"")) == 8


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.integers(0, 0xFFFF))
def test_unprotect_of_arbitrary_answers_raises_only_sm_errors(data, sw):
    sm = _session()
    sm.protect(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=4))
    try:
        sm.unprotect(ResponseApdu(data, sw >> 8, sw & 0xFF))
    except SecureMessagingError:
        return
    raise AssertionError("an unauthenticated answer was accepted")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_truncated_or_rearranged_sm_objects_are_rejected(data):
    """Real protected answers, cut short or with objects dropped or reordered."""
    answer = H("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D74")
    objects = [answer[:27], answer[27:31], answer[31:]]
    chosen = data.draw(st.permutations(objects))[:data.draw(st.integers(0, 3))]
    body = b"".join(chosen)
    body = body[:data.draw(st.integers(0, len(body)))]
    sm = _session()
    sm.ssc = 0x887022120C06C22B  # unprotect increments it to the 2C this answer was MACed with
    if body == answer:
        assert sm.unprotect(ResponseApdu(body, 0x90, 0x00)).data == H("04303130365F36063034303030305C026175")
        return
    with pytest.raises(SecureMessagingError):
        sm.unprotect(ResponseApdu(body, 0x90, 0x00))
