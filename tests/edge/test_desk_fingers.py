"""Fingerprint enrolment at the counter desk (edge.desk.fingers, Counter.enrol_fingers, the screen's form):
the slap prompted, taken again below the configured quality, each finger sent to central as an ISO/IEC
19794-2 record and a WSQ image under the officer's session, with the live face when the file is to be
opened; only for an admitted traveller whose admission central recorded."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from drivers.devices.fingerprint.scanner import ScannerError
from drivers.fingerprint import iso19794_2, wsq
from edge.desk.counter import Counter, DeskError, Presented
from edge.desk.fingers import take_fingers
from edge.desk.screen import create_screen
from edge.gate import GateStation
from edge.policy import Policy
from hardware_sim.fingerprint_scanner import slap_image

RIGHT = [9101, 9102, 9103, 9104]


@functools.cache
def slap(seeds: tuple[int, ...], touch: int = 1) -> np.ndarray:
    return slap_image(list(seeds), touch)


class SlapScanner:
    def __init__(self, *images):
        self.images, self.closed = list(images), False

    def capture(self, timeout: float = 10.0) -> np.ndarray:
        if not self.images:
            raise ScannerError("no hand placed in time")
        return self.images.pop(0)

    def close(self) -> None:
        self.closed = True


class Remote:
    """Central's desk answers: records what EnrolFileFingerprints was sent."""

    def __init__(self):
        self.sent = []

    def enrol_fingers(self, token, crossing_id, fingers, face=None, live_jpeg=b""):
        self.sent.append((token, crossing_id, list(fingers), face, live_jpeg))
        return {"file_id": "file-1", "positions": [f.position for f in fingers], "file_opened": face is not None,
                "reason": "", "duplicates": []}


class GateStandIn:
    station, policy, online, fingerprints = GateStation(), Policy(), True, None


def counter_with(scanner, remote, decided=None):
    counter = Counter(GateStandIn(), remote, open_scanner=lambda: scanner)
    counter.officer = type("Officer", (), {"name": "officer-17", "token": "session-1"})()
    presented = Presented("crossing-1", False, "", 0.0)
    presented.complete.set()
    presented.decided = decided
    counter.current = presented
    events = []
    counter.events.publish = lambda event, **kw: events.append(event)
    return counter, events


def test_a_right_slap_is_taken_again_below_the_quality_then_sent_with_the_officers_session():
    blank = np.full((448, 1024), 235, np.uint8)
    scanner, remote = SlapScanner(blank, slap(tuple(RIGHT))), Remote()
    counter, events = counter_with(scanner, remote, {"decision": "admit", "state": "delivered"})
    result = counter.enrol_fingers("right")
    assert result["positions"] == [2, 3, 4, 5] and result["accepted"] and result["slaps"] == 2
    prompts = [e["text"] for e in events if e["type"] == "finger_prompt"]
    assert prompts[0] == "place the right hand's four fingers flat on the scanner"
    assert prompts[1].startswith("again, the right hand's four fingers:")
    [(token, crossing_id, fingers, face, _)] = remote.sent
    assert (token, crossing_id, face) == ("session-1", "crossing-1", None)  # no face captured in this stand-in
    for finger in fingers:
        [view] = iso19794_2.decode(finger.iso19794_2)
        assert view.position == finger.position and len(view.minutiae) == finger.minutiae
        assert wsq.decode(finger.wsq).shape[0] > 100 and finger.quality >= counter.finger_quality
    assert scanner.closed and events[-1]["type"] == "fingers_enrolled"


def test_ten_fingers_take_three_slaps():
    thumbs = slap((9105, 9110))
    taken = take_fingers(SlapScanner(slap(tuple(RIGHT)), slap((9106, 9107, 9108, 9109)), thumbs), "ten")
    assert sorted(f.position for f in taken.fingers) == list(range(1, 11)) and taken.attempts == 3


def test_enrolment_only_for_an_admitted_traveller_central_recorded():
    for decided in (None, {"decision": "refuse", "state": "delivered"}, {"decision": "admit", "state": "pending"}):
        counter, _ = counter_with(SlapScanner(slap(tuple(RIGHT))), Remote(), decided)
        with pytest.raises(DeskError):
            counter.enrol_fingers("right")
    counter, _ = counter_with(SlapScanner(), Remote(), {"decision": "admit", "state": "delivered"})
    with pytest.raises(DeskError, match="no hand placed"):  # the scanner's failure, in words, no crash
        counter.enrol_fingers("right")
    with pytest.raises(DeskError, match="not 'seven'"):
        counter_with(SlapScanner(), Remote(), {"decision": "admit", "state": "delivered"})[0].enrol_fingers("seven")


def test_the_screen_form_enrols_for_the_signed_in_officer_only():
    remote = Remote()
    counter, _ = counter_with(SlapScanner(slap(tuple(RIGHT))), remote, {"decision": "admit", "state": "delivered"})
    client = create_screen(counter).test_client()
    client.get("/")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    assert client.post("/fingers", data={"slap": "right", "csrf": "forged"}).status_code == 403
    refused = client.post("/fingers", data={"slap": "right", "csrf": csrf}, headers={"Accept": "application/json"})
    assert refused.status_code == 403 and remote.sent == []  # this browser did not sign in
    with client.session_transaction() as session:
        session["officer"] = "officer-17"
    done = client.post("/fingers", data={"slap": "right", "csrf": csrf}, headers={"Accept": "application/json"})
    assert done.status_code == 200 and done.get_json()["positions"] == [2, 3, 4, 5]
    assert len(remote.sent) == 1
