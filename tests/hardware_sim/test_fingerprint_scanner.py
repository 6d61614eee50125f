"""The ZFM fingerprint driver against the emulated module on a pty: single fingers and 4-4-2 slaps."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.devices.fingerprint import protocol
from drivers.devices.fingerprint.scanner import ScannerError
from drivers.devices.fingerprint.zfm import ZfmScanner
from drivers.fingerprint import compare, minutiae
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.slap import LEFT_FOUR, RIGHT_FOUR, THUMBS, split
from hardware_sim.fingerprint_scanner import SLAP_SIZE, ScannerEmulator, finger_image, fit, slap_image


def test_a_placed_finger_is_captured_as_the_module_sends_it():
    image = finger_image(3, 0)
    with ScannerEmulator() as emulator, ZfmScanner(emulator.port) as scanner:
        emulator.place(image)
        captured = scanner.capture(timeout=2.0)
        assert captured.shape == (protocol.IMAGE_HEIGHT, protocol.IMAGE_WIDTH)
        expected = (fit(image, (protocol.IMAGE_WIDTH, protocol.IMAGE_HEIGHT)) >> 4) * 17   # 4 bits a pixel
        assert np.array_equal(captured, expected)
        assert emulator.commands[:1] == [protocol.VERIFY_PASSWORD]
        assert protocol.UP_IMAGE in emulator.commands


def test_the_captured_finger_matches_another_impression_of_it():
    with ScannerEmulator() as emulator, ZfmScanner(emulator.port) as scanner:
        emulator.place(finger_image(4, 0, difficulty=0.5))
        first = minutiae.extract(scanner.capture(timeout=2.0))
        emulator.place(finger_image(4, 1, difficulty=0.5))
        second = minutiae.extract(scanner.capture(timeout=2.0))
        emulator.place(finger_image(5, 1, difficulty=0.5))
        other = minutiae.extract(scanner.capture(timeout=2.0))
    assert compare.compare(first, second).score > compare.compare(first, other).score


def test_no_finger_in_time_is_a_scanner_error():
    with ScannerEmulator() as emulator, ZfmScanner(emulator.port) as scanner:
        with pytest.raises(ScannerError, match="no finger"):
            scanner.capture(timeout=0.3)
        assert emulator.commands.count(protocol.GEN_IMG) >= 2


def test_a_wrong_password_is_refused():
    with ScannerEmulator(password=0x1234) as emulator:
        with pytest.raises(ScannerError, match="wrong password"):
            ZfmScanner(emulator.port, password=0)


def test_a_silent_line_is_a_scanner_error(tmp_path):
    with ScannerEmulator() as emulator:
        emulator.stop()
        with pytest.raises(ScannerError):
            ZfmScanner(emulator.port, reply_timeout=0.3)


@pytest.mark.parametrize("positions", [RIGHT_FOUR, LEFT_FOUR, THUMBS])
def test_slaps_are_captured_and_split_into_fingers(positions):
    with ScannerEmulator(image_size=SLAP_SIZE) as emulator, ZfmScanner(emulator.port, image_size=SLAP_SIZE) as scanner:
        emulator.place(slap_image(list(range(20, 20 + len(positions))), 0))
        slap = scanner.capture(timeout=2.0)
    fingers = split(slap, positions)
    assert [position for position, _ in fingers] == list(positions)
    assert all(image.shape[0] > 300 and image.shape[1] > 150 for _, image in fingers)


def test_a_slap_with_a_finger_missing_asks_for_a_recapture():
    with pytest.raises(FingerprintError, match="3 fingers, 4 expected"):
        split(slap_image([30, 31, 32], 0), RIGHT_FOUR)


def test_packets_survive_line_noise_and_damage_is_reported():
    decoder = protocol.PacketDecoder()
    packet = protocol.command(protocol.GEN_IMG)
    assert decoder.feed(b"\x00\x13" + packet.encode()[:5]) == []
    assert decoder.feed(packet.encode()[5:]) == [packet]
    damaged = bytearray(packet.encode())
    damaged[-1] ^= 0xFF
    with pytest.raises(protocol.ProtocolError, match="checksum"):
        protocol.PacketDecoder().feed(bytes(damaged))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_the_packet_decoder_takes_any_bytes(chunks):
    decoder = protocol.PacketDecoder()
    for chunk in chunks:
        try:
            for packet in decoder.feed(chunk):
                assert packet.kind in (protocol.COMMAND, protocol.DATA, protocol.ACK, protocol.END_DATA)
        except protocol.ProtocolError:
            pass
