"""Capture with re-capture prompts, through the ZFM driver and the emulated module."""
from __future__ import annotations

from drivers.devices.fingerprint.capture import capture_finger, capture_slap
from drivers.devices.fingerprint.zfm import ZfmScanner
from hardware_sim.fingerprint_scanner import SLAP_SIZE, ScannerEmulator, finger_image, slap_image
from hardware_sim.fingerprints.impression import Touch, make_impression
from hardware_sim.fingerprints.master import make_master


def _smudged():
    return make_impression(make_master(12), Touch(0, 3.0, "dry"))


def test_a_poor_finger_is_prompted_again_and_the_good_one_kept():
    prompts = []
    with ScannerEmulator() as emulator, ZfmScanner(emulator.port) as scanner:
        emulator.place(_smudged())

        def retouch(reason: str) -> None:
            prompts.append(reason)
            emulator.place(finger_image(12, 1, difficulty=0.4))

        result = capture_finger(scanner, position=2, prompt=retouch, timeout=2.0)
    assert result.accepted and result.attempts == 2
    assert len(prompts) == 1 and "finger 2 quality" in prompts[0]
    assert result.fingers[0].position == 2 and result.fingers[0].quality >= 35


def test_after_the_last_attempt_the_best_is_returned_not_accepted():
    with ScannerEmulator() as emulator, ZfmScanner(emulator.port) as scanner:
        emulator.place(_smudged())
        result = capture_finger(scanner, attempts=2, timeout=2.0)
    assert not result.accepted and result.attempts == 2 and len(result.reasons) == 2
    assert result.fingers and result.fingers[0].quality < 35


def test_a_slap_missing_a_finger_is_prompted_again():
    prompts = []
    with ScannerEmulator(image_size=SLAP_SIZE) as emulator, ZfmScanner(emulator.port, image_size=SLAP_SIZE) as scanner:
        emulator.place(slap_image([50, 51, 52], 0))

        def all_four(reason: str) -> None:
            prompts.append(reason)
            emulator.place(slap_image([50, 51, 52, 53], 1))

        result = capture_slap(scanner, "right", prompt=all_four, timeout=2.0)
    assert "3 fingers, 4 expected" in prompts[0]
    assert result.accepted and [f.position for f in result.fingers] == [2, 3, 4, 5]
