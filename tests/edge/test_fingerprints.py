"""The gate's fingerprint step (edge.fingerprints) and the chip's fingers (edge.chip.document_fingers):
a match passes, another finger fails, and every scanner failure or bad image is a check not done."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from drivers.checks import Check, CheckStatus
from drivers.devices.fingerprint.scanner import ScannerError
from drivers.emrtd.lds import dg3
from drivers.emrtd.reader import DG3, ChipRead, TerminalAuthenticationRun
from drivers.emrtd.terminalauth.protocol import TerminalAuthenticationError
from drivers.face import encode_face, load_image
from drivers.fingerprint import iso19794_4
from edge.chip import document_fingers, load_terminal
from edge.fingerprints import CHECK, EncodedFinger, GateFingerprints, verify_fingers
from edge.gate import Gate, GateStation, ReferencePhoto
from edge.policy import Decision
from hardware_sim.fingerprint_scanner import finger_image, fit
from tests.edge.test_gate import TODAY, Capture, FakeCentral, FakeMatcher, mrz


@functools.cache
def finger(seed: int, touch: int) -> np.ndarray:
    return finger_image(seed, touch)


class FakeScanner:
    """Gives the images it was handed, in order (a ScannerError when it has none left)."""

    def __init__(self, *images: np.ndarray, error: Exception | None = None):
        self.images, self.error, self.closed = list(images), error, False

    def capture(self, timeout: float = 10.0) -> np.ndarray:
        if self.error is not None:
            raise self.error
        if not self.images:
            raise ScannerError("no finger placed in time")
        return fit(self.images.pop(0), (256, 288))

    def close(self) -> None:
        self.closed = True


def test_the_same_finger_passes_and_another_fails():
    references = {2: finger(9101, 1), 7: finger(9102, 1)}
    results, check = verify_fingers(FakeScanner(finger(9101, 2)), references)
    assert check.status is CheckStatus.PASS, check.reason
    assert [(r.position, r.match) for r in results] == [(2, True)]
    results, check = verify_fingers(FakeScanner(finger(9201, 2)), references)
    assert check.status is CheckStatus.FAIL and "right index" in check.reason


def test_two_fingers_must_both_match():
    references = {2: finger(9101, 1), 7: finger(9102, 1)}
    _, check = verify_fingers(FakeScanner(finger(9101, 2), finger(9201, 2)), references, fingers=2)
    assert check.status is CheckStatus.FAIL and "left index" in check.reason


@pytest.mark.parametrize("scanner, expected", [
    (FakeScanner(error=ScannerError("link to the module lost")), "link to the module lost"),
    (FakeScanner(), "no finger placed in time"),
    (FakeScanner(np.full((400, 300), 235, np.uint8), np.full((400, 300), 235, np.uint8)), "right index"),
])
def test_scanner_failures_and_blank_images_are_checks_not_done(scanner, expected):
    prompts = []
    _, check = verify_fingers(scanner, {2: finger(9101, 1)}, prompt=prompts.append)
    assert check.status is CheckStatus.NOT_DONE and expected in check.reason
    assert prompts[0] == "place your right index on the scanner"


def test_the_gate_step_closes_the_scanner_and_never_raises():
    scanner = FakeScanner(finger(9101, 2))
    step = GateFingerprints(lambda: scanner)
    _, checks = step({2: finger(9101, 1)}, lambda text: None)
    assert [c.status for c in checks] == [CheckStatus.PASS] and scanner.closed

    def unplugged():
        raise ScannerError("cannot open fingerprint scanner at /dev/ttyUSB9")
    _, checks = GateFingerprints(unplugged)({2: finger(9101, 1)}, lambda text: None)
    assert checks[0].status is CheckStatus.NOT_DONE and "ttyUSB9" in checks[0].reason

    class Broken(FakeScanner):
        def capture(self, timeout=10.0):
            raise RuntimeError("driver bug")
    _, checks = GateFingerprints(lambda: Broken())({2: finger(9101, 1)}, lambda text: None)
    assert checks[0].status is CheckStatus.NOT_DONE and "driver bug" in checks[0].reason


def test_no_fingers_on_the_document_means_no_check():
    assert GateFingerprints(lambda: FakeScanner())({}, lambda text: None) == ([], [])


def _read_with_dg3(data: bytes | None, granted: bool = True) -> ChipRead:
    read = ChipRead(terminal_authentication=TerminalAuthenticationRun(granted, "UTISGATE00001: reads DG3"))
    if data is not None:
        read.files[DG3] = data
    return read


def test_document_fingers_from_dg3_and_a_corrupt_dg3_is_a_failed_check():
    image = finger(9101, 1)
    record = iso19794_4.encode([iso19794_4.FingerView(2, image)], iso19794_4.PNG)
    checks: list[Check] = []
    fingers = document_fingers(_read_with_dg3(dg3.encode([dg3.FingerRecord(dg3.FORMAT_TYPE_FINGER_IMAGE, 2,
                                                                           record)])), checks)
    assert list(fingers) == [2] and np.array_equal(fingers[2].image(), image)
    assert checks[-1].status is CheckStatus.PASS
    checks = []
    assert document_fingers(_read_with_dg3(b"\x63\x03\x7f\x61\x00"), checks) == {}
    assert checks[-1].status is CheckStatus.FAIL and "DG3" in checks[-1].reason
    checks = []
    assert document_fingers(_read_with_dg3(None, granted=False), checks) == {}
    assert "Terminal Authentication" in checks[-1].reason


def test_load_terminal_reads_what_the_simulator_saves(tmp_path):
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from hardware_sim.eac_pki import make_test_eac_pki

    terminal = make_test_eac_pki().terminal
    (tmp_path / "terminal.cvcerts").write_bytes(b"".join(c.encode() for c in terminal.certificates))
    (tmp_path / "terminal.key.pem").write_bytes(terminal.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                                           NoEncryption()))
    credentials = load_terminal(tmp_path)
    assert [c.holder for c in credentials.certificates] == ["UTDVIS00001", "UTISGATE00001"]
    (tmp_path / "terminal.cvcerts").write_bytes(b"\x7f\x21\x05garbage")
    with pytest.raises(TerminalAuthenticationError, match="EAC credentials"):
        load_terminal(tmp_path)


# -- in the gate -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def photos(faces_dir):
    return load_image(faces_dir / "obama" / "01.jpg"), encode_face(load_image(faces_dir / "obama" / "03.jpg")), None


def _gate(photos, fingerprints, fingers):
    reference, live, _ = photos
    chip = ReferencePhoto(reference, [Check.passed("chip.read", "read")], fingers)
    return Gate(station=GateStation(direction="EXIT"), photo_source=lambda m: chip,
                capture_face=lambda: Capture(live), central=FakeCentral(), matcher=FakeMatcher(),
                today=lambda: TODAY, fingerprints=fingerprints)


def test_the_gate_refers_on_a_finger_mismatch_with_that_reason(photos):
    references = {2: finger(9101, 1)}
    outcome = _gate(photos, GateFingerprints(lambda: FakeScanner(finger(9201, 2))), references).process(mrz())
    assert outcome.decision is Decision.REFER
    assert [r for r in outcome.reasons if r.startswith(CHECK)] and len(outcome.reasons) == 1, outcome.reasons
    assert "place your right index on the scanner" in outcome.display
    outcome = _gate(photos, GateFingerprints(lambda: FakeScanner(finger(9101, 2))), references).process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons


def test_a_fingerprint_step_that_raises_refers_instead_of_crashing(photos):
    def broken(references, prompt):
        raise RuntimeError("scanner driver exploded")
    outcome = _gate(photos, broken, {2: finger(9101, 1)}).process(mrz())
    assert outcome.decision is Decision.REFER
    assert any("scanner driver exploded" in r for r in outcome.reasons)


def test_a_corrupt_finger_image_from_the_chip_is_a_check_not_done_when_asked_for():
    record = iso19794_4.encode([iso19794_4.FingerView(2, finger(9101, 1))], iso19794_4.PNG)
    broken = EncodedFinger(record[:-40], 2)  # truncated inside the image
    _, check = verify_fingers(FakeScanner(finger(9101, 2)), {2: broken})
    assert check.status is CheckStatus.NOT_DONE and "right index" in check.reason
