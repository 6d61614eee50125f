"""The gate's transaction with its devices and services replaced by fakes:
each way a step can fail ends in a referral with a reason, never a crash."""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

import pytest

from drivers.checks import Check, CheckStatus
from drivers.face import encode_face, load_image
from drivers.mrz import generate_td3
from edge.gate import Gate, GateStation, ReferencePhoto
from edge.policy import Decision, Policy
from edge.remote import TravellerFileAnswer

TODAY = dt.date(2026, 11, 25)


def mrz(expiry=dt.date(2030, 1, 1), number="X4829A17"):
    return generate_td3(issuing_state="USA", surname="HOLLAND", given_names="JAMES", document_number=number,
                        nationality="USA", birth_date=dt.date(1961, 8, 4), sex="M", expiry_date=expiry)


@dataclass
class Liveness:
    live: bool = True
    score: float = 0.9
    reasons: list = field(default_factory=list)


@dataclass
class Capture:
    template: object
    liveness: Liveness | None = field(default_factory=Liveness)
    faces_max: int = 1
    frames: int = 12
    failure: str | None = None
    messages: list = field(default_factory=list)


@dataclass
class Search:
    candidates: list = field(default_factory=list)
    partial: bool = False
    missing_shards: list = field(default_factory=list)


class FakeCentral:
    def __init__(self, hits=(), fail=None, person_hits=(), stay=None, stay_fail=None, file=None, file_fail=None,
                 risk=(0.0, [])):
        self.hits, self.fail, self.recorded, self.referred = list(hits), fail, [], []
        self.person_hits = list(person_hits)
        self.stay = stay or {"regime": "visa_exempt", "latest_exit": TODAY + dt.timedelta(days=89),
                             "days_used": 1, "refused": ""}
        self.stay_fail = stay_fail
        self.stay_asked = 0
        # CheckTravellerFile's answer (an EU citizen's by default), or what asking for it raises.
        self.file = file or TravellerFileAnswer("EXEMPT", "nationality FRA is exempt (EU/EEA/CH)")
        self.file_fail = file_fail
        self.enrolled = []
        self.risk, self.assessed = risk, []
        self.at_counter = []

    def check_stay(self, mrz):
        self.stay_asked += 1
        if self.fail or self.stay_fail:
            raise self.fail or self.stay_fail
        return self.stay

    def check_traveller_file(self, mrz, template):
        if self.fail or self.file_fail:
            raise self.fail or self.file_fail
        return self.file

    def enrol_traveller(self, outcome):
        self.enrolled.append((outcome.crossing_id, outcome.enrolment))

    def assess_risk(self, mrz, crossing_id, station):
        if self.fail:
            raise self.fail
        self.assessed.append(crossing_id)
        return self.risk

    def check_document(self, mrz):
        if self.fail:
            raise self.fail
        return self.hits

    def check_person(self, mrz):
        if self.fail:
            raise self.fail
        return self.person_hits

    def record_crossing(self, outcome, mrz, station):
        if self.fail:
            raise self.fail
        self.recorded.append(outcome.crossing_id)

    def open_referral(self, outcome, station):
        self.referred.append(outcome.crossing_id)
        return outcome.crossing_id

    def hand_to_counter(self, outcome, station):
        if self.fail:
            raise self.fail
        self.at_counter.append((outcome.crossing_id, station.border_point, list(outcome.reasons)))


class FakeMatcher:
    def __init__(self, result=None, fail=None):
        self.result, self.fail = result or Search(), fail

    def search(self, gallery, template):
        if self.fail:
            raise self.fail
        return self.result


@pytest.fixture(scope="module")
def photos(faces_dir):
    same = load_image(faces_dir / "obama" / "01.jpg")
    live = encode_face(load_image(faces_dir / "obama" / "03.jpg"))
    other = encode_face(load_image(faces_dir / "lin_manuel_miranda" / "01.png"))
    return same, live, other


def gate(photos, *, central=None, matcher=None, capture=None, photo=None):
    reference, live, _ = photos
    chip_ok = ReferencePhoto(reference, [Check.passed("chip.read", "read")])
    return Gate(station=GateStation(), photo_source=photo or (lambda m: chip_ok),
                capture_face=capture or (lambda: Capture(live)),
                central=central or FakeCentral(), matcher=matcher or FakeMatcher(), today=lambda: TODAY)


def reasons_of(outcome):
    return " | ".join(outcome.reasons)


def test_genuine_traveller_opens_and_is_recorded(photos):
    central = FakeCentral()
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    assert central.recorded == [outcome.crossing_id] and central.referred == []
    assert outcome.face_score > 0.5


def test_impostor_face_refers(photos):
    other = photos[2]
    outcome = gate(photos, capture=lambda: Capture(other)).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "face.verification: live face does not match" in reasons_of(outcome)


def test_expired_document_refers(photos):
    outcome = gate(photos).process(mrz(expiry=dt.date(2026, 1, 1)))
    assert "document.expiry: expired on 2026-01-01" in reasons_of(outcome)


@pytest.mark.parametrize("text, fragment", [
    ("P<USAHOLLAND", "structure"),
    ("", "structure"),
    ("\x00\xff" * 44, "structure"),
])
def test_malformed_mrz_refers_without_recording(photos, text, fragment):
    central = FakeCentral()
    outcome = gate(photos, central=central).process(text)
    assert outcome.decision is Decision.REFER
    assert reasons_of(outcome).startswith("mrz.valid: " + fragment)
    assert central.recorded == []
    # Not recorded nowhere: the traveller waits at the counter of the gate's border point for an officer desk.
    assert [(case, point) for case, point, _ in central.at_counter] == [(outcome.crossing_id, "DEMO-AIRPORT")]
    assert central.at_counter[0][2][0].startswith("mrz.valid: " + fragment)
    assert "document unreadable: handed to the counter" in reasons_of(outcome)


def test_an_unreadable_document_the_counter_could_not_be_told_of_says_so(photos):
    central = FakeCentral(fail=ConnectionError("connection refused"))
    outcome = gate(photos, central=central).process("P<USAHOLLAND")
    assert outcome.decision is Decision.REFER
    assert "crossing not recorded: document unreadable and the counter not told (connection refused)" \
        in reasons_of(outcome)


def test_central_down_refers_and_says_so(photos):
    outcome = gate(photos, central=FakeCentral(fail=ConnectionError("connection refused"))).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "alerts.document: could not be checked (central unavailable: connection refused)" in reasons_of(outcome)
    assert not outcome.recorded


def test_document_alert_refers(photos):
    outcome = gate(photos, central=FakeCentral(hits=["stolen (exact, alert 7)"])).process(mrz())
    assert "alerts.document: stolen (exact, alert 7)" in reasons_of(outcome)


def test_person_alert_refers(photos):
    central = FakeCentral(person_hits=["entry_ban (score 0.97, alert 9: names exact)"])
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "alerts.person: entry_ban (score 0.97, alert 9: names exact)" in reasons_of(outcome)


def test_a_hit_that_only_informs_opens_and_stands_in_the_checks(photos):
    from edge.alert_cache import HitLine

    line = "discreet_check, green notice (score 0.97, alert 9: names exact)"
    outcome = gate(photos, central=FakeCentral(person_hits=[HitLine(line, refers=False)])).process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    assert [c.reason for c in outcome.checks if c.name == "alerts.person"] == [f"informs: {line}"]


def test_an_informing_hit_beside_a_referring_one_refers_with_both(photos):
    from edge.alert_cache import HitLine

    hits = [HitLine("discreet_check, green notice (alert 9)", refers=False),
            HitLine("arrest, red notice (alert 10)", refers=True)]
    outcome = gate(photos, central=FakeCentral(person_hits=hits)).process(mrz())
    assert outcome.decision is Decision.REFER
    assert ("alerts.person: discreet_check, green notice (alert 9); arrest, red notice (alert 10)"
            in reasons_of(outcome))


def test_a_high_risk_refers_and_the_traveller_never_sees_why(photos):
    central = FakeCentral(risk=(0.8, ["profile ring v2"]))
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "risk.score: risk score 0.80 (profile ring v2), at or above 0.50" in reasons_of(outcome)
    assert central.assessed == [outcome.crossing_id]  # the profile's selection is kept under this crossing
    assert outcome.display and not any("risk" in text or "profile" in text for text in outcome.display)


def test_a_low_risk_opens_and_an_unassessed_one_does_not_refer_alone(photos):
    low = gate(photos, central=FakeCentral(risk=(0.49, ["crossing_frequency"]))).process(mrz())
    assert low.decision is Decision.OPEN, low.reasons
    assert [c.reason for c in low.checks if c.name == "risk.score"] == ["risk score 0.49 (crossing_frequency)"]

    class NoRisk(FakeCentral):
        def assess_risk(self, mrz, crossing_id, station):
            raise ConnectionError("connection refused")
    unassessed = gate(photos, central=NoRisk()).process(mrz())
    assert unassessed.decision is Decision.OPEN, unassessed.reasons
    (check,) = [c for c in unassessed.checks if c.name == "risk.score"]
    assert check.status is CheckStatus.NOT_DONE and "connection refused" in check.reason


def test_the_policy_names_the_score_that_refers(photos):
    strict = Gate(station=GateStation(), photo_source=lambda m: ReferencePhoto(photos[0], [
        Check.passed("chip.read", "read")]), capture_face=lambda: Capture(photos[1]),
        central=FakeCentral(risk=(0.3, [])), matcher=FakeMatcher(), today=lambda: TODAY,
        policy=Policy(risk_refer_at=0.25))
    assert strict.process(mrz()).decision is Decision.REFER
    with pytest.raises(ValueError, match="risk_refer_at"):
        Policy(risk_refer_at=0)


def test_matcher_down_or_partial_refers(photos):
    down = gate(photos, matcher=FakeMatcher(fail=TimeoutError("deadline exceeded"))).process(mrz())
    assert "watchlist.face: could not be checked (matcher unavailable: deadline exceeded)" in reasons_of(down)
    partial = gate(photos, matcher=FakeMatcher(Search(partial=True, missing_shards=["shard-2"]))).process(mrz())
    assert "watchlist.face: could not be checked (search incomplete: shard-2)" in reasons_of(partial)


def test_camera_failure_and_no_face_refer(photos):
    def broken():
        raise RuntimeError("camera stalled")

    stalled = gate(photos, capture=broken).process(mrz())
    assert "face.capture: camera error: camera stalled" in reasons_of(stalled)
    no_face = gate(photos, capture=lambda: Capture(None, liveness=None, failure="no face")).process(mrz())
    assert "face.capture: no face" in reasons_of(no_face)


def test_liveness_failure_and_tailgating_refer(photos):
    live = photos[1]
    spoof = gate(photos, capture=lambda: Capture(live, Liveness(False, 0.1, ["no blink"]))).process(mrz())
    assert "face.liveness: score 0.10: no blink" in reasons_of(spoof)
    two = gate(photos, capture=lambda: Capture(None, faces_max=2, failure="multiple faces")).process(mrz())
    assert "face.capture: multiple faces" in reasons_of(two)


def test_a_second_face_in_one_frame_is_noted_not_refused(photos):
    # The capture calls it tailgating only when several searched frames show two faces.
    outcome = gate(photos, capture=lambda: Capture(photos[1], faces_max=2)).process(mrz())
    capture = next(c for c in outcome.checks if c.name == "face.capture")
    assert capture.status == "pass" and "2 faces in one of them only" in capture.reason, capture


def test_chip_reader_crash_refers(photos):
    def crash(mrz):
        raise OSError("reader unplugged")

    outcome = gate(photos, photo=crash).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "chip.read: chip reader error: reader unplugged" in reasons_of(outcome)


def test_a_stalled_chip_reader_refers_within_its_budget(photos):
    release = threading.Event()

    def stalled_reader(mrz):
        release.wait(10)
        raise AssertionError("the gate should not have waited for this")

    the_gate = Gate(station=GateStation(), photo_source=stalled_reader, capture_face=lambda: Capture(photos[1]),
                    central=FakeCentral(), matcher=FakeMatcher(), today=lambda: TODAY, budgets={"chip": 0.2})
    outcome = the_gate.process(mrz())
    release.set()
    assert outcome.decision is Decision.REFER and outcome.timings_ms["decision_total"] < 2000
    assert "chip.read: could not be checked (no answer within its budget of 200 ms)" in reasons_of(outcome)
    assert "face.verification: could not be checked (no document photo)" in reasons_of(outcome)
    chip = next(step for step in outcome.steps if step["name"] == "chip")
    assert chip["state"] == "over_budget" and chip["budget_ms"] == 200
    assert list(outcome.phases_ms) == ["presented", "checking", "decided", "closed"]


def test_unknown_step_budget_is_refused(photos):
    with pytest.raises(ValueError, match="no such gate step"):
        Gate(station=GateStation(), photo_source=None, capture_face=None, central=None, matcher=None,
             budgets={"chipp": 1.0})


def test_the_traveller_is_spoken_to_in_the_language_of_the_document(photos):
    screen = []
    spanish = generate_td3(issuing_state="ESP", surname="GARCIA", given_names="LUCIA", document_number="X4829A17",
                           nationality="ESP", birth_date=dt.date(1980, 1, 2), sex="F", expiry_date=dt.date(2030, 1, 1))
    reference, live, _ = photos
    poor = Capture(live, messages=["move closer"])
    the_gate = Gate(
        station=GateStation(),
        photo_source=lambda m: ReferencePhoto(reference, [Check.passed("chip.read", "")]),
        capture_face=lambda: poor,
        central=FakeCentral(),
        matcher=FakeMatcher(),
        today=lambda: TODAY,
        display=screen.append,
    )
    outcome = the_gate.process(spanish)
    assert outcome.decision is Decision.OPEN, outcome.reasons
    assert screen == outcome.display == ["Mire a la cámara.", "Acérquese.",
                                         "Puede permanecer hasta el 22 de febrero de 2027.", "Gracias. Puede pasar."]
    french = the_gate.process(mrz(expiry=dt.date(2020, 1, 1)).replace("USA", "FRA"))
    assert french.display[-1] == "Veuillez patienter : un agent va vous aider."


def test_every_capture_guidance_has_its_translations():
    from drivers.face.quality import GUIDANCE as QUALITY_GUIDANCE
    from edge.messages import GUIDANCE

    for text in set(QUALITY_GUIDANCE.values()) | {"one person at a time, please", "look at the camera"}:
        assert set(GUIDANCE[text]) == {"fr", "es"}, text


# ---------------------------------------------------------------- authorised stay (stay.days_left)

def test_an_entry_shows_the_last_day_of_stay_in_the_travellers_language(photos):
    central = FakeCentral(stay={"regime": "visa_exempt", "latest_exit": dt.date(2027, 3, 14), "days_used": 3,
                                "refused": ""})
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    assert "You may stay until 14 March 2027." in outcome.display
    [check] = [c for c in outcome.checks if c.name == "stay.days_left"]
    assert check.ok and "until 2027-03-14" in check.reason


def test_the_last_day_in_french_and_spanish():
    from edge.messages import stay_until

    assert stay_until(dt.date(2027, 3, 1), "FRA") == "Vous pouvez séjourner jusqu'au 1er mars 2027."
    assert stay_until(dt.date(2027, 3, 14), "ESP") == "Puede permanecer hasta el 14 de marzo de 2027."
    assert stay_until(dt.date(2027, 3, 14), "UTO") == "You may stay until 14 March 2027."


def test_no_day_left_refers_on_ground_f(photos):
    refused = "F: has already stayed 90 days during a 180-day period (91 days used)"
    central = FakeCentral(stay={"regime": "visa_exempt", "latest_exit": None, "days_used": 91, "refused": refused})
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.REFER
    assert reasons_of(outcome) == f"stay.days_left: no day left: ground {refused}"
    assert not any("may stay" in text for text in outcome.display)


def test_a_stay_judged_on_the_posts_own_records_says_so_and_decides_as_before(photos):
    from edge.gate import STAY_POST_ONLY

    central = FakeCentral(stay={"regime": "visa_exempt", "latest_exit": dt.date(2027, 3, 14), "days_used": 3,
                                "refused": "", "scope": "post"})
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    [check] = [c for c in outcome.checks if c.name == "stay.days_left"]
    assert check.ok and check.reason.startswith(STAY_POST_ONLY + "; may stay until 2027-03-14")
    refused = "F: has already stayed 90 days during a 180-day period (91 days used)"
    central = FakeCentral(stay={"regime": "visa_exempt", "latest_exit": None, "days_used": 91, "refused": refused,
                                "scope": "post"})
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.REFER
    assert reasons_of(outcome) == f"stay.days_left: {STAY_POST_ONLY}; no day left: ground {refused}"
    national = FakeCentral(stay={"regime": "visa_exempt", "latest_exit": dt.date(2027, 3, 14), "days_used": 3,
                                 "refused": "", "scope": "national"})
    [check] = [c for c in gate(photos, central=national).process(mrz()).checks if c.name == "stay.days_left"]
    assert check.reason.startswith("may stay until")


def test_central_unreachable_for_the_stay_refers_unless_offline_answers_may_open(photos):
    from edge.policy import Policy

    central = FakeCentral(stay_fail=ConnectionError("UNAVAILABLE: down"))
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.REFER
    assert reasons_of(outcome) == ("stay.days_left: could not be checked "
                                   "(central unreachable: UNAVAILABLE: down)")
    advisory = gate(photos, central=central)
    advisory.policy = Policy(offline_may_open=True)
    outcome = advisory.process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    [check] = [c for c in outcome.checks if c.name == "stay.days_left"]
    assert check.status.value == "not_done"


def test_a_broken_stay_answer_refers_without_crashing(photos):
    central = FakeCentral(stay_fail=RuntimeError("bad answer"))
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "stay.days_left: could not be checked (central could not answer: bad answer)" in outcome.reasons


def test_an_exit_gate_does_not_ask_for_the_stay(photos):
    reference, live, _ = photos
    central = FakeCentral()
    exit_gate = Gate(station=GateStation(direction="EXIT"),
                     photo_source=lambda m: ReferencePhoto(reference, [Check.passed("chip.read", "read")]),
                     capture_face=lambda: Capture(live), central=central, matcher=FakeMatcher(), today=lambda: TODAY)
    outcome = exit_gate.process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    assert central.stay_asked == 0 and "stay.days_left" not in {c.name for c in outcome.checks}
# ---------------------------------------------------------------- the traveller file


@dataclass
class FramedCapture(Capture):
    """A capture with the frame and face box a traveller file's face image is cropped from."""
    image: object = None
    face: object = None


@dataclass
class Box:
    box: tuple = (10, 50, 50, 10)


def framed(photos):
    import numpy as np

    return lambda: FramedCapture(photos[1], image=np.full((80, 60, 3), 120, dtype=np.uint8), face=Box())


def test_a_first_entry_opens_a_file_once_the_crossing_is_recorded(photos):
    central = FakeCentral(file=TravellerFileAnswer("NEW", "no file yet and no other identity with this face"))
    outcome = gate(photos, central=central, capture=framed(photos)).process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    [(crossing_id, (template, jpeg))] = central.enrolled
    assert crossing_id == outcome.crossing_id and central.recorded == [crossing_id]
    assert template is photos[1] and jpeg.startswith(b"\xff\xd8")
    assert outcome.to_dict()["traveller_file"]["status"] == "NEW"


def test_a_returning_traveller_opens_with_the_file_verified_and_opens_no_second_one(photos):
    central = FakeCentral(file=TravellerFileAnswer("VERIFIED", "file F opened 2026-10-01, 2 crossing(s) recorded; "
                                                   "live face matches the enrolled face (score 0.97)", "F", 2))
    outcome = gate(photos, central=central, capture=framed(photos)).process(mrz())
    assert outcome.decision is Decision.OPEN, outcome.reasons
    assert central.enrolled == []
    check = next(c for c in outcome.checks if c.name == "traveller.file")
    assert check.ok and "2 crossing(s)" in check.reason


def test_a_face_on_another_identitys_file_refers_with_both_files_in_the_evidence(photos):
    from edge.evidence import GateCandidate

    other = GateCandidate("travellers", "0b1e6a9e-1111-4c55-9d0e-7a3b8e2f1c44", 0.97)
    central = FakeCentral(file=TravellerFileAnswer("DUPLICATE", "possible multiple identity: the live face "
                                                   f"matches file {other.subject_id} (score 0.97)",
                                                   candidates=[other]))
    outcome = gate(photos, central=central, capture=framed(photos)).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "traveller.file: possible multiple identity" in reasons_of(outcome)
    assert other in outcome.evidence.candidates and central.enrolled == []


@pytest.mark.parametrize("failure", [ConnectionError("central unreachable"),
                                     RuntimeError("UNAVAILABLE: matcher search failed")])
def test_central_or_its_matcher_not_answering_refers_and_enrols_nobody(photos, failure):
    central = FakeCentral(file_fail=failure)
    outcome = gate(photos, central=central, capture=framed(photos)).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "traveller.file: could not be checked (central unavailable" in reasons_of(outcome)
    assert central.enrolled == []


def test_a_mismatch_with_the_enrolled_face_refers(photos):
    central = FakeCentral(file=TravellerFileAnswer("MISMATCH", "file F: live face does not match the enrolled face"))
    outcome = gate(photos, central=central).process(mrz())
    assert outcome.decision is Decision.REFER
    assert "traveller.file: file F: live face does not match" in reasons_of(outcome)
