"""The gate against a traveller file's fingers (edge.fingerprints.verify_against_file, the gate's
file_fingerprints step): the live fingers' minutiae go to central, whose answer decides; a file without
fingers, or a chip with its own, asks nothing; every failure to ask refers."""
from __future__ import annotations

from drivers.checks import CheckStatus
from drivers.fingerprint import compare, iso19794_2, minutiae
from edge.fingerprints import FILE_CHECK, GateFingerprints, verify_against_file
from edge.policy import Decision
from edge.remote import TravellerFileAnswer
from tests.edge.test_fingerprints import FakeScanner, _gate, finger, photos  # noqa: F401 (photos: a fixture)
from tests.edge.test_gate import FakeCentral, mrz

FILE_ID = "6f1c2a0e-0000-5c57-9d0e-7a3b8e2f1c44"


class CentralWithFile(FakeCentral):
    """Central holding a traveller file with the right index finger of seed 9101: it compares what the gate
    sends with that finger, as central.travellers.fingerprints does, and remembers what it was sent."""

    def __init__(self, positions=(2,), down=False):
        super().__init__(file=TravellerFileAnswer("VERIFIED", "face verified", FILE_ID, 3, "",
                                                  finger_positions=tuple(positions)))
        self.enrolled_finger = minutiae.extract(finger(9101, 1), 2)
        self.down, self.asked = down, []

    def verify_file_fingerprints(self, file_id, fingers):
        if self.down:
            raise RuntimeError("UNAVAILABLE: central down")
        self.asked.append((file_id, [p for p, _ in fingers]))
        [(position, record)] = fingers
        comparison = compare.compare(self.enrolled_finger, iso19794_2.decode(record)[0])
        return ("VERIFIED" if comparison.match else "MISMATCH"), f"finger {position} score {comparison.score:.1f}"


def test_the_live_finger_goes_to_central_as_a_minutiae_record_and_its_answer_is_the_check():
    sent = []

    def verify(fingers):
        sent.extend(fingers)
        return "MISMATCH", "finger 2 score 3.0"
    check = verify_against_file(FakeScanner(finger(9201, 2)), [7, 2], verify)
    assert check.status is CheckStatus.FAIL and check.name == FILE_CHECK and "score 3.0" in check.reason
    [(position, record)] = sent
    assert position == 2 and iso19794_2.decode(record)[0].position == 2  # the right index first
    assert verify_against_file(FakeScanner(finger(9101, 2)), [2], lambda f: ("VERIFIED", "ok")).status \
        is CheckStatus.PASS
    absent = verify_against_file(FakeScanner(finger(9101, 2)), [2], lambda f: ("NO_FINGERPRINTS", "none"))
    assert absent.status is CheckStatus.NOT_DONE


def test_central_or_the_scanner_failing_is_a_check_not_done():
    def down(fingers):
        raise RuntimeError("UNAVAILABLE: central down")
    check = verify_against_file(FakeScanner(finger(9101, 2)), [2], down)
    assert check.status is CheckStatus.NOT_DONE and "central down" in check.reason
    check = verify_against_file(FakeScanner(), [2], down)
    assert check.status is CheckStatus.NOT_DONE and "no finger placed" in check.reason


def test_the_gate_refers_when_the_live_finger_is_not_the_files(photos):  # noqa: F811
    central = CentralWithFile()
    gate = _gate(photos, GateFingerprints(lambda: FakeScanner(finger(9201, 2))), {})
    gate.central = central
    outcome = gate.process(mrz())
    assert outcome.decision is Decision.REFER
    assert [r for r in outcome.reasons if r.startswith(FILE_CHECK)] and len(outcome.reasons) == 1, outcome.reasons
    assert central.asked == [(FILE_ID, [2])]
    gate = _gate(photos, GateFingerprints(lambda: FakeScanner(finger(9101, 2))), {})
    gate.central = CentralWithFile()
    outcome = gate.process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    assert any(c.name == FILE_CHECK and c.status is CheckStatus.PASS for c in outcome.checks)


def test_no_fingers_in_the_file_or_fingers_on_the_chip_ask_central_nothing(photos):  # noqa: F811
    central = CentralWithFile(positions=())
    gate = _gate(photos, GateFingerprints(lambda: FakeScanner(finger(9101, 2))), {})
    gate.central = central
    outcome = gate.process(mrz())
    assert outcome.decision is Decision.OPEN and central.asked == []
    assert not any(c.name == FILE_CHECK for c in outcome.checks)
    central = CentralWithFile()
    gate = _gate(photos, GateFingerprints(lambda: FakeScanner(finger(9101, 2))), {2: finger(9101, 1)})
    gate.central = central
    outcome = gate.process(mrz())
    assert outcome.decision is Decision.OPEN and central.asked == [], outcome.reasons


def test_central_down_for_the_fingers_refers(photos):  # noqa: F811
    gate = _gate(photos, GateFingerprints(lambda: FakeScanner(finger(9101, 2))), {})
    gate.central = CentralWithFile(down=True)
    outcome = gate.process(mrz())
    assert outcome.decision is Decision.REFER
    assert any(r.startswith(FILE_CHECK) and "central down" in r for r in outcome.reasons), outcome.reasons
