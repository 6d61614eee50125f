"""The virtual chip answers like an ICAO 9303 chip: access rules, BAC, secure
messaging and READ BINARY, checked here with hand-made APDUs and with the
protected APDUs of the Doc 9303 Part 11 worked example."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.emrtd import bac, tlv
from drivers.emrtd.iso7816.apdu import CommandApdu, ResponseApdu
from drivers.emrtd.iso7816.atr import supports_extended_length
from drivers.emrtd.iso7816.secure_messaging import DesSmCipher, SecureMessaging, SecureMessagingError
from hardware_sim.chip import CardRemoved, ChipFaults, VirtualChip
from hardware_sim.chip.card import build_atr
from hardware_sim.chip.secure_messaging import ChipSession

H = bytes.fromhex
MRZ = "L898902C<369080619406236"
EF_COM = H("60145F0104303130365F36063034303030305C026175")  # the worked example's EF.COM
DG1 = tlv.encode(0x61, tlv.encode(0x5F1F, b"P<UTOERIKSSON<<ANNA<MARIA".ljust(88, b"<")))
SELECT_APP = H("00A4040C07A0000002471001")


def make_chip(**options) -> VirtualChip:
    randoms = iter([H("4608F91988702212"), H("0B4F80323EB3191CB04970CB4052790B")])
    return VirtualChip({0x011E: EF_COM, 0x0101: DG1}, MRZ, random=lambda n: next(randoms), **options)


def status(response: bytes) -> int:
    return ResponseApdu.parse(response).sw


def test_worked_example_bac_and_secure_messaging():
    """Given the example's chip randoms, the chip must answer MUTUAL AUTHENTICATE
    and the protected SELECT / READ BINARY byte for byte as in Doc 9303."""
    chip = make_chip()
    assert status(chip.process(SELECT_APP)) == 0x9000
    assert chip.process(H("0084000008")) == H("4608F919887022129000")
    answer = chip.process(H("0082000028"
                            "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
                            "5F1448EEA8AD90A728"))
    assert answer == H("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"
                       "2F2D235D074D7449" "9000")
    assert chip.process(H("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")) == \
        H("990290008E08FA855A5D4C50A8ED9000")
    assert chip.process(H("0CB000000D9701048E08ED6705417E96BA5500")) == \
        H("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000")
    assert chip.process(H("0CB000040D9701128E082EA28A70F3C7B53500")) == \
        H("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000")


def test_wrong_mrz_key_fails_mutual_authenticate():
    chip = make_chip()
    chip.process(SELECT_APP)
    rnd_ic = ResponseApdu.parse(chip.process(H("0084000008"))).data
    wrong = bac.BacKeys.from_mrz("X00000000<069080619406236")
    data = bac.mutual_authenticate_data(wrong, rnd_ic, bytes(8), bytes(16))
    assert status(chip.process(CommandApdu(0, 0x82, 0, 0, data, ne=40).encode())) == 0x6300


def test_mutual_authenticate_without_challenge_is_refused():
    chip = make_chip()
    assert status(chip.process(CommandApdu(0, 0x82, 0, 0, bytes(40), ne=40).encode())) == 0x6985


def test_plain_read_is_refused_and_unknown_file_not_found():
    chip = make_chip()
    assert status(chip.process(H("00A4020C02011E"))) == 0x6A82  # application not selected yet
    chip.process(SELECT_APP)
    assert status(chip.process(H("00A4020C02011E"))) == 0x9000
    assert status(chip.process(H("00B0000004"))) == 0x6982
    assert status(chip.process(H("00A4020C020105"))) == 0x6A82
    assert status(chip.process(H("00A4040C03A00000"))) == 0x6A82
    assert status(chip.process(H("00CA000000"))) == 0x6D00
    assert status(chip.process(H("00A4"))) == 0x6700


def authenticated_chip(**options) -> tuple[VirtualChip, SecureMessaging]:
    """A chip after the worked example's BAC, and a reader-side mirror of the session."""
    chip = make_chip(**options)
    chip.process(SELECT_APP)
    chip.process(H("0084000008"))
    chip.process(H("0082000028"
                   "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
                   "5F1448EEA8AD90A728"))
    return chip, bac.session_keys(H("0B795240CB7049B01C19B33E32804F0B"), H("0B4F80323EB3191CB04970CB4052790B"),
                                  H("4608F91988702212"), H("781723860C06C226")).secure_messaging()


def exchange(chip: VirtualChip, sm: SecureMessaging, command: CommandApdu) -> ResponseApdu:
    return sm.unprotect(ResponseApdu.parse(chip.process(sm.protect(command).encode())))


def test_protected_read_binary_offsets_and_errors():
    chip, sm = authenticated_chip()

    def call(command: CommandApdu) -> ResponseApdu:
        return exchange(chip, sm, command)

    assert call(CommandApdu(0, 0xA4, 2, 0x0C, H("0101"))).ok
    assert call(CommandApdu(0, 0xB0, 0, 5, ne=10)).data == DG1[5:15]
    tail = call(CommandApdu(0, 0xB0, 0, len(DG1) - 3, ne=10))
    assert (tail.data, tail.sw) == (DG1[-3:], 0x6282)
    assert call(CommandApdu(0, 0xB0, 0, len(DG1), ne=1)).sw == 0x6B00
    assert call(CommandApdu(0, 0xB0, 0x9E, 0, ne=4)).data == EF_COM[:4]  # short EF identifier 1E
    assert call(CommandApdu(0, 0xA4, 2, 0x0C, H("0102"))).sw == 0x6A82
    assert call(CommandApdu(0, 0xB0, 0, 0, ne=0x10000)).data == EF_COM  # extended Le


def test_short_answer_that_would_overflow_le_is_wrong_length():
    chip, sm = authenticated_chip()
    chip.files[0x0101] = bytes(600)

    def call(command: CommandApdu) -> ResponseApdu:
        return exchange(chip, sm, command)

    call(CommandApdu(0, 0xA4, 2, 0x0C, H("0101")))
    assert call(CommandApdu(0, 0xB0, 0, 0, ne=256)).sw == 0x6700
    assert len(call(CommandApdu(0, 0xB0, 0, 0, ne=0xDF)).data) == 0xDF


def test_bad_mac_ends_the_session_with_6988():
    chip, sm = authenticated_chip()
    protected = bytearray(sm.protect(CommandApdu(0, 0xA4, 2, 0x0C, H("011E"))).encode())
    protected[-2] ^= 1
    assert chip.process(bytes(protected)) == H("6988")
    assert chip.session is None
    assert status(chip.process(sm.protect(CommandApdu(0, 0xB0, 0, 0, ne=4)).encode())) == 0x6985


def test_missing_mac_is_6987_and_plain_command_drops_the_session():
    chip, sm = authenticated_chip()
    assert chip.process(H("0CA4020C0B8709016375432908C044F600")) == H("6987")
    chip, sm = authenticated_chip()
    assert status(chip.process(H("00A4020C02011E"))) == 0x9000
    assert chip.session is None
    assert status(chip.process(H("00B0000004"))) == 0x6982


def test_extended_length_is_refused_when_switched_off():
    chip = make_chip(extended_length=False)
    chip.process(SELECT_APP)
    assert status(chip.process(H("00B00000000004"))) == 0x6700
    assert not supports_extended_length(chip.atr)
    assert supports_extended_length(make_chip().atr)


def test_atr_check_byte():
    atr = build_atr(True)
    check = 0
    for byte in atr[1:]:
        check ^= byte
    assert atr[0] == 0x3B and check == 0


def test_removal_after_reads():
    chip, sm = authenticated_chip(faults=ChipFaults(remove_after_reads=1))
    exchange(chip, sm, CommandApdu(0, 0xA4, 2, 0x0C, H("011E")))
    assert exchange(chip, sm, CommandApdu(0, 0xB0, 0, 0, ne=4)).data == EF_COM[:4]
    with pytest.raises(CardRemoved):
        chip.process(H("00A4040C07A0000002471001"))
    with pytest.raises(CardRemoved):  # stays removed
        chip.process(H("0084000008"))


@pytest.mark.parametrize("faults", [ChipFaults(corrupt_after_reads=0), ChipFaults(wrong_mac_after_reads=0)])
def test_corrupt_and_wrong_mac_faults_break_the_response_mac(faults):
    chip, sm = authenticated_chip(faults=faults)
    exchange(chip, sm, CommandApdu(0, 0xA4, 2, 0x0C, H("011E")))
    response = chip.process(sm.protect(CommandApdu(0, 0xB0, 0, 0, ne=4)).encode())
    with pytest.raises(SecureMessagingError):
        sm.unprotect(ResponseApdu.parse(response))


def test_session_size_estimate_matches_wrapping():
    session = ChipSession(DesSmCipher(bytes(16), bytes(16)), 0)
    for length in (0, 1, 7, 8, 200, 300):
        assert session.wrapped_size(length) == len(session.wrap(ResponseApdu.status(0x9000, bytes(length))).data)


def test_read_binary_odd_ins():
    chip, sm = authenticated_chip()
    chip.files[0x0101] = bytes(range(256)) * 200
    assert exchange(chip, sm, CommandApdu(0, 0xA4, 2, 0x0C, H("0101"))).ok
    answer = exchange(chip, sm, CommandApdu(0, 0xB1, 0, 0, tlv.encode(0x54, H("9000")), ne=0x30))
    assert answer.ok and answer.data == tlv.encode(0x53, chip.files[0x0101][0x9000:0x9000 + 0x2E])
    assert exchange(chip, sm, CommandApdu(0, 0xB1, 0, 0, tlv.encode(0x54, H("FFFF")), ne=8)).sw == 0x6B00
    assert exchange(chip, sm, CommandApdu(0, 0xB1, 0, 0, b"\x54\x05", ne=8)).sw == 0x6A80
    assert exchange(chip, sm, CommandApdu(0, 0xB1, 1, 1, tlv.encode(0x54, b"\x00"), ne=8)).sw == 0x6A86
    assert status(chip.process(CommandApdu(0, 0xB1, 0, 0, tlv.encode(0x54, b"\x00"), ne=8).encode())) == 0x6982


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=4, max_size=60), max_size=8), st.booleans())
def test_random_commands_always_get_a_status_word(commands, authenticated):
    """Whatever a reader sends, the chip answers with a response APDU (or, for
    a removed card only, CardRemoved): never an exception of its own."""
    chip, _ = authenticated_chip() if authenticated else (make_chip(), None)
    for command in commands:
        assert len(chip.process(command)) >= 2
