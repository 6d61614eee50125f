"""One e-gate transaction: from a presented document to a decision.

The steps, each of which ends in checks rather than exceptions, and what
each needs (edge.transaction runs them as soon as their needs are met, so the
chip is read while the face is captured and central is asked meanwhile):

    mrz                 MRZ valid, document not expired
    chip                needs mrz: chip read, passive authentication, DG2 photo
    document_face       needs chip: the template of the DG2 photo (while the face is captured)
    face_capture        needs mrz: live face, quality, liveness
    face_verification   needs document_face and face_capture: 1:1, live face vs DG2
    fingerprints        needs chip, when the gate has a fingerprint scanner: one or two live fingers
                        1:1 against the chip's DG3 (read after Terminal Authentication; edge.fingerprints)
    watchlist           needs face_capture: 1:N at the matcher
    traveller_file      needs mrz and face_capture: central's traveller file (exempt; 1:1 against the
                        enrolled face; or 1:N deduplication before a first file is opened)
    file_fingerprints   needs chip and traveller_file, with a scanner: when the file holds fingers and the
                        chip none, one or two live fingers to central, 1:1 against the file's
    document_alerts     needs mrz: central (or the cached list offline)
    person_alerts       needs mrz: central (or the cached list offline)
    stay                needs mrz, entry gates only: central's authorised stay (no day left refers,
                        else the traveller is shown their last day)

then the decision by policy, then the crossing recorded (and a referral
opened when the gate refers, the traveller's file when the file step found none
to be opened). Each step has a time budget (DEFAULT_BUDGETS).

Anything that goes wrong (a malformed MRZ, no face, a service down, a step
over its budget, a bug in a step) becomes a check that did not pass, so the
gate refers the traveller to an officer with a reason instead of crashing.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

import numpy as np
from prometheus_client import Counter, Histogram

from drivers.checks import Check
from drivers.mrz import Mrz, MrzError
from drivers.mrz import parse as parse_mrz
from edge.alert_cache import HitLine
from edge.evidence import GateCandidate, GateEvidence, file_enrolment
from edge.evidence import gather as gather_evidence
from edge.messages import guidance, message, stay_until
from edge.policy import OFFLINE_MARK, UNREACHABLE_MARK, Decision, Policy, answered_offline
from edge.transaction import Phase, Step, StepResult, Transaction

if TYPE_CHECKING:
    from edge.alert_cache import AlertCache
    from edge.outbox import Outbox

log = logging.getLogger(__name__)

OUTCOMES = Counter("limes_edge_outcomes", "Gate decisions, by decision and whether central was unreachable",
                   ["decision", "offline"])
STEP_SECONDS = Histogram("limes_edge_step_seconds", "Time of each transaction step, by step and how it ended",
                         ["step", "state"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2, 4, 8))
DECISION_SECONDS = Histogram("limes_edge_decision_seconds", "Document presented to decision",
                             buckets=(.25, .5, .75, 1, 1.5, 2, 3, 5, 8))

# Where the stay check's reason begins when a border post's central judged the stay on that post's crossings
# only (CheckStayResponse.scope "post": headquarters did not answer); the desk shows it in the officer's
# language (edge/desk/static/desk.js finds it by these words).
STAY_POST_ONLY = "stay checked on this post's records only: headquarters did not answer"

# Step budgets in seconds: generous for real devices and a busy central, tight
# enough that a stalled device or service refers the traveller instead of
# holding the gate. Override any of them with Gate(budgets=...).
DEFAULT_BUDGETS = {
    "mrz": 1.0,
    "chip": 8.0,               # a slow real chip reads a 20 KB photo in 2-4 s
    "document_face": 3.0,
    "face_capture": 10.0,      # the capture ends itself: 4 s by default, 8 s on a too slow machine
    "face_verification": 3.0,
    "fingerprints": 25.0,      # a finger placed and lifted, up to two attempts of 10 s, per finger
    "file_fingerprints": 25.0,  # the same, then central's 1:1 against the traveller file's fingers
    "watchlist": 3.0,          # the matcher client's deadline is 2 s
    "traveller_file": 3.0,     # central's deadline is 2 s (its matcher's, within it, too)
    "document_alerts": 3.0,    # the central client's deadline is 2 s
    "person_alerts": 3.0,
    "stay": 3.0,
    "risk": 3.0,               # central's AssessRisk
}


@dataclass(frozen=True)
class GateStation:
    station_id: str = "DEMO-EGATE-01"
    border_point: str = "DEMO-AIRPORT"
    direction: str = "ENTRY"


@dataclass
class ReferencePhoto:
    """The document's photo (the chip's DG2 face), its fingers (DG3 minutiae templates by finger position,
    when Terminal Authentication opened it) and the checks made reading it."""
    image: np.ndarray | None
    checks: list[Check] = field(default_factory=list)
    fingers: dict[int, Any] = field(default_factory=dict)


def _image(photo: ReferencePhoto | None) -> np.ndarray | None:
    return photo.image if photo is not None else None


class PhotoSource(Protocol):
    def __call__(self, mrz: Mrz) -> ReferencePhoto: ...


class FaceCapture(Protocol):
    """Captures the live face; returns edge.capture.CaptureResult."""
    def __call__(self) -> Any: ...


# The steps that use the live face, run again when an officer has the face captured again, and the earlier
# steps whose values they take (Gate.examine_face_again).
FACE_STEPS = ("face_capture", "face_verification", "watchlist", "traveller_file", "file_fingerprints")
KEPT_FOR_FACE = ("mrz", "chip", "document_face")


@dataclass
class Examination:
    """The checks of one document (Gate.examine): step values by name, checks, the transaction's record."""
    crossing_id: str
    values: dict[str, Any]
    checks: list[Check]
    transaction: Transaction


@dataclass
class Outcome:
    crossing_id: str
    decision: Decision
    reasons: list[str]
    checks: list[Check]
    traveller: dict[str, str]
    timings_ms: dict[str, float]
    face_score: float | None = None
    recorded: bool = False
    referral_id: str | None = None
    # Decided without central: the document alerts came from the gate's cached list.
    offline: bool = False
    # How each step ended (edge.transaction.StepRecord.to_dict) and when each phase began, in ms.
    steps: list[dict[str, Any]] = field(default_factory=list)
    phases_ms: dict[str, float] = field(default_factory=dict)
    # What the traveller's screen showed, in the traveller's language.
    display: list[str] = field(default_factory=list)
    # For the officer, made only when the gate refers (edge.evidence).
    evidence: GateEvidence | None = None
    # Central's answer on the traveller's file (edge.remote.TravellerFileAnswer), when it gave one.
    traveller_file: Any = None
    # The file to open once the crossing is recorded: (live template, live face JPEG).
    enrolment: tuple[Any, bytes] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "crossing_id": self.crossing_id,
            "decision": self.decision.value,
            "reasons": self.reasons,
            "checks": [c.to_dict() for c in self.checks],
            "traveller": self.traveller,
            "face_score": self.face_score,
            "recorded": self.recorded,
            "referral_id": self.referral_id,
            "offline": self.offline,
            "evidence": self.evidence.summary() if self.evidence is not None else None,
            "traveller_file": self.traveller_file.summary() if self.traveller_file is not None else None,
            "enrolment_requested": self.enrolment is not None,
            "timings_ms": self.timings_ms,
            "steps": self.steps,
            "phases_ms": self.phases_ms,
            "display": self.display,
        }


class Gate:
    """Runs transactions; devices and services are injected so that real and
    simulated hardware, and real or fake clients, plug in the same way."""

    def __init__(self, *, station: GateStation, photo_source: PhotoSource, capture_face: FaceCapture,
                 central, matcher, policy: Policy | None = None, watchlist: str = "watchlist",
                 today: Callable[[], dt.date] = dt.date.today,
                 outbox: Outbox | None = None, alerts: AlertCache | None = None,
                 budgets: dict[str, float] | None = None, display: Callable[[str], None] | None = None,
                 fingerprints: Callable[..., tuple[Any, list[Check]]] | None = None):
        self.station = station
        self.photo_source = photo_source
        self.capture_face = capture_face
        self.central = central
        self.matcher = matcher
        self.policy = policy or Policy()
        self.watchlist = watchlist
        self.today = today
        # With an outbox, every record is committed locally before the gate opens and sent from there;
        # without one, it is sent directly and lost if central is down (tests, a desk without a disk).
        self.outbox = outbox
        # Central's document alerts as last fetched, for checks while central is unreachable.
        self.alerts = alerts
        self._central_reached = True
        unknown = set(budgets or {}) - set(DEFAULT_BUDGETS)
        if unknown:
            raise ValueError(f"no such gate step(s): {', '.join(sorted(unknown))}")
        self.budgets = {**DEFAULT_BUDGETS, **(budgets or {})}
        # The traveller's screen; messages are also kept in Outcome.display.
        self.display = display
        # The fingerprint step (edge.fingerprints.GateFingerprints), when the gate has a scanner.
        self.fingerprints = fingerprints
        # The steps run here. Room for a step over its budget still holding a thread.
        self._pool = ThreadPoolExecutor(max_workers=10, thread_name_prefix="gate")

    @property
    def online(self) -> bool:
        """Whether central answered the last time the gate or its outbox asked."""
        if self.outbox is not None and self.outbox.online is not None:
            return self.outbox.online
        return self._central_reached

    @property
    def backlog(self) -> int:
        """Records waiting in the outbox for central."""
        return self.outbox.backlog if self.outbox is not None else 0

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the transaction -------------------------------------------------
    def examine(self, mrz_text: str, on_step: Callable[..., None] | None = None, *,
                crossing_id: str | None = None, shown: list[str] | None = None) -> Examination:
        """Every check of one document, nothing decided or recorded (the officer desk decides itself);
        `on_step(record, value, checks)` hears of each step as it ends."""
        crossing_id = crossing_id or str(uuid.uuid4())
        shown = [] if shown is None else shown
        transaction = Transaction(self._steps(mrz_text, shown, crossing_id), self._pool, on_step=on_step)
        values, checks = transaction.run()
        return Examination(crossing_id, values, checks, transaction)

    def examine_face_again(self, earlier: dict[str, Any], on_step: Callable[..., None] | None = None, *,
                           crossing_id: str, shown: list[str] | None = None) -> Examination:
        """The face captured again for a document already examined (the officer desk's "capture again"):
        the steps that use the live face run anew (FACE_STEPS), on the earlier MRZ, chip and document photo's
        template (`earlier`: Examination.values). Its checks replace the earlier ones of the steps it ran."""
        shown = [] if shown is None else shown
        steps = []
        for step in self._steps("", shown, crossing_id):
            if step.name in KEPT_FOR_FACE:
                steps.append(Step(step.name, lambda _, kept=earlier.get(step.name): StepResult(kept), step.budget_s))
            elif step.name in FACE_STEPS:
                steps.append(step)
        transaction = Transaction(steps, self._pool, on_step=on_step)
        values, checks = transaction.run()
        return Examination(crossing_id, {**earlier, **{name: values.get(name) for name in FACE_STEPS}}, checks,
                           transaction)

    def face_check_names(self) -> set[str]:
        """The checks examine_face_again makes anew."""
        return {name for step in self._steps("", [], "") if step.name in FACE_STEPS for name in step.owes}

    def process(self, mrz_text: str) -> Outcome:
        crossing_id = str(uuid.uuid4())
        shown: list[str] = []
        examined = self.examine(mrz_text, crossing_id=crossing_id, shown=shown)
        values, checks, transaction = examined.values, examined.checks, examined.transaction
        mrz = values.get("mrz")

        decision, reasons = self.policy.decide(checks, self.station.direction)
        transaction.advance(Phase.DECIDED)
        records = transaction.step_records()
        timings = {r.name: r.elapsed_ms for r in records if r.elapsed_ms is not None}
        timings["decision_total"] = transaction.phase_ms[Phase.DECIDED.value]
        outcome = Outcome(crossing_id, decision, reasons, checks, _traveller(mrz), timings,
                          values.get("face_verification"), display=shown, traveller_file=values.get("traveller_file"))
        if decision is Decision.REFER and mrz is not None:
            outcome.evidence = self._timed(timings, "evidence", lambda: self.evidence(values))
        if getattr(outcome.traveller_file, "status", None) == "NEW":
            outcome.enrolment = self._timed(timings, "enrolment", lambda: file_enrolment(values.get("face_capture")))
        self._timed(timings, "record", lambda: self._record(outcome, mrz))
        transaction.advance(Phase.CLOSED)
        # The gate opens (or shows the way to the officer) only once the record is kept.
        last_day = values.get("stay")
        if outcome.decision is Decision.OPEN and last_day is not None:
            self._show(shown, stay_until(last_day, mrz.nationality if mrz else None), mrz, is_text=True)
        self._show(shown, "proceed" if outcome.decision is Decision.OPEN else "see_officer", mrz)
        outcome.steps = [r.to_dict() for r in records]
        outcome.phases_ms = dict(transaction.phase_ms)
        for record in records:
            if record.elapsed_ms is not None:
                STEP_SECONDS.labels(record.name, record.state.value).observe(record.elapsed_ms / 1000)
        DECISION_SECONDS.observe(timings["decision_total"] / 1000)
        return outcome

    def _steps(self, mrz_text: str, shown: list[str], crossing_id: str) -> list[Step]:
        budget = self.budgets

        def capture(values):
            self._show(shown, "look_at_camera", values["mrz"])
            result = self._capture()
            for text in getattr(result.value, "messages", None) or []:
                self._show(shown, text, values["mrz"], is_guidance=True)
            return result

        steps = [
            Step("mrz", lambda _: self._read_mrz(mrz_text), budget["mrz"], owes=("mrz.valid",)),
            Step("chip", lambda v: self._reference_photo(v["mrz"]), budget["chip"],
                 needs=("mrz",), requires=("mrz",), owes=("chip.read",)),
            Step("document_face", lambda v: self._document_face(_image(v["chip"])), budget["document_face"],
                 needs=("chip",)),
            Step("face_capture", capture, budget["face_capture"],
                 needs=("mrz",), requires=("mrz",), owes=("face.capture", "face.liveness")),
            Step("face_verification", lambda v: self._verify(_image(v["chip"]), v["document_face"], v["face_capture"]),
                 budget["face_verification"], needs=("chip", "document_face", "face_capture"),
                 owes=("face.verification",)),
            Step("watchlist", lambda v: self._search_watchlist(v["face_capture"]), budget["watchlist"],
                 needs=("face_capture",), owes=("watchlist.face",)),
            Step("traveller_file", lambda v: self._check_file(v["mrz"], v["face_capture"]), budget["traveller_file"],
                 needs=("mrz", "face_capture"), requires=("mrz",), owes=("traveller.file",)),
            Step("document_alerts", lambda v: StepResult(checks=[self._check_document(v["mrz"])]),
                 budget["document_alerts"], needs=("mrz",), requires=("mrz",), owes=("alerts.document",)),
            Step("person_alerts", lambda v: StepResult(checks=[self._check_person(v["mrz"])]),
                 budget["person_alerts"], needs=("mrz",), requires=("mrz",), owes=("alerts.person",)),
            Step("risk", lambda v: StepResult(checks=[self._assess_risk(v["mrz"], crossing_id)]),
                 budget["risk"], needs=("mrz",), requires=("mrz",), owes=("risk.score",)),
        ]
        if self.fingerprints is not None:
            steps.append(Step("fingerprints", lambda v: self._verify_fingers(v["chip"], v["mrz"], shown),
                              budget["fingerprints"], needs=("chip", "mrz"), owes=("finger.verification",)))
            steps.append(Step("file_fingerprints",
                              lambda v: self._verify_file_fingers(v["chip"], v["traveller_file"], v["mrz"], shown),
                              budget["file_fingerprints"], needs=("chip", "traveller_file", "mrz"),
                              owes=("finger.file_verification",)))
        if self.station.direction == "ENTRY":
            steps.append(Step("stay", lambda v: self._check_stay(v["mrz"]), budget["stay"],
                              needs=("mrz",), requires=("mrz",), owes=("stay.days_left",)))
        return steps

    def _show(self, shown: list[str], key_or_text: str, mrz: Mrz | None, *, is_guidance: bool = False,
              is_text: bool = False) -> None:
        nationality = mrz.nationality if mrz is not None else None
        if is_text:  # already in the traveller's language
            text = key_or_text
        else:
            text = guidance(key_or_text, nationality) if is_guidance else message(key_or_text, nationality)
        shown.append(text)
        if self.display is not None:
            try:
                self.display(text)
            except Exception:  # a broken screen must not stop the transaction
                log.exception("the traveller display failed")

    # -- steps -------------------------------------------------------------
    def _read_mrz(self, text: str) -> StepResult:
        try:
            mrz = parse_mrz(text)
        except MrzError as exc:
            return StepResult(None, [Check.failed("mrz.valid", "; ".join(f"{p.field}: {p.reason}"
                                                                        for p in exc.problems))])
        checks = [Check.passed("mrz.valid", f"{mrz.format}, all check digits correct")]
        if mrz.expiry_date is None:
            checks.append(Check.failed("document.expiry", "no expiry date"))
        elif mrz.is_expired(self.today()):
            checks.append(Check.failed("document.expiry", f"expired on {mrz.expiry_date.isoformat()}"))
        else:
            checks.append(Check.passed("document.expiry", f"valid until {mrz.expiry_date.isoformat()}"))
        return StepResult(mrz, checks)

    def _reference_photo(self, mrz: Mrz) -> StepResult:
        try:
            photo = self.photo_source(mrz)
        except Exception as exc:  # a reader driver bug must not stop the gate
            log.exception("reading the document photo failed")
            return StepResult(None, [Check.failed("chip.read", f"chip reader error: {exc}")])
        return StepResult(photo, list(photo.checks))

    def _verify_fingers(self, photo: ReferencePhoto | None, mrz: Mrz, shown: list[str]) -> StepResult:
        references = photo.fingers if photo is not None else {}
        try:
            results, checks = self.fingerprints(references, lambda text: self._show(shown, text, mrz, is_text=True))
        except Exception as exc:  # GateFingerprints turns its own failures into checks; anything else too
            log.exception("the fingerprint step failed")
            return StepResult(None, [Check.not_done("finger.verification", f"fingerprint step error: {exc}")])
        return StepResult(results, checks)

    def _verify_file_fingers(self, photo: ReferencePhoto | None, answer, mrz: Mrz, shown: list[str]) -> StepResult:
        """The traveller file's fingers, when it holds some and the chip none (the chip's are verified by the
        fingerprints step): live fingers to central, which compares them with the file's."""
        positions = list(getattr(answer, "finger_positions", None) or ())
        if (photo is not None and photo.fingers) or not positions or not getattr(answer, "file_id", ""):
            return StepResult(None, [])
        file_id = answer.file_id
        try:
            checks = self.fingerprints.against_file(
                positions, lambda fingers: self.central.verify_file_fingerprints(file_id, fingers),
                lambda text: self._show(shown, text, mrz, is_text=True))
        except Exception as exc:  # against_file turns its own failures into checks; anything else too
            log.exception("the traveller file's fingerprint step failed")
            return StepResult(None, [Check.not_done("finger.file_verification", f"fingerprint step error: {exc}")])
        return StepResult(None, checks)

    def _capture(self) -> StepResult:
        try:
            result = self.capture_face()
        except Exception as exc:  # a camera driver bug must not stop the gate
            log.exception("face capture failed")
            return StepResult(_NO_CAPTURE, [Check.failed("face.capture", f"camera error: {exc}")])
        checks = []
        if result.liveness is None:
            checks.append(Check.not_done("face.liveness", "too few frames to judge"))
        elif result.liveness.live:
            checks.append(Check.passed("face.liveness", f"score {result.liveness.score:.2f}"))
        else:
            checks.append(Check.failed("face.liveness", f"score {result.liveness.score:.2f}: "
                                       + "; ".join(result.liveness.reasons)))
        # Tailgating is the capture's verdict (a second face in several searched frames, failure
        # "multiple faces"); one frame with two is a false detection or a passer-by, noted only.
        if result.template is None:
            checks.append(Check.failed("face.capture", result.failure or "no usable face"))
        elif result.faces_max > 1:
            checks.append(Check.passed("face.capture", f"best of {result.frames} frames; "
                                       f"{result.faces_max} faces in one of them only"))
        else:
            checks.append(Check.passed("face.capture", f"best of {result.frames} frames"))
        return StepResult(result, checks)

    def _document_face(self, photo: np.ndarray | None) -> StepResult:
        """The DG2 photo's template (or why there is none), made while the live face is captured."""
        from drivers.face import FaceError, encode_face

        if photo is None:
            return StepResult(None)
        try:
            return StepResult(_DocumentFace(encode_face(photo)))
        except FaceError as exc:
            return StepResult(_DocumentFace(None, f"document photo unusable: {exc}"))

    def _verify(self, photo: np.ndarray | None, document: "_DocumentFace | None", live) -> StepResult:
        from drivers.face import FaceError, compare

        if photo is None:
            return StepResult(None, [Check.not_done("face.verification", "no document photo")])
        if document is None:
            return StepResult(None, [Check.not_done("face.verification", "the document photo's template "
                                                    "was not ready (step document_face late or failed)")])
        if document.template is None:
            return StepResult(None, [Check.failed("face.verification", document.problem)])
        if live is None or live.template is None:
            return StepResult(None, [Check.not_done("face.verification", "no live face")])
        try:
            verification = compare(live.template, document.template)
        except FaceError as exc:  # e.g. templates of two models: never compared
            return StepResult(None, [Check.failed("face.verification", str(exc))])
        detail = (f"score {verification.score:.2f}, distance {verification.distance:.2f} "
                  f"(match at <= {verification.threshold:.2f})")
        check = (Check.passed("face.verification", detail) if verification.match
                 else Check.failed("face.verification", "live face does not match the document photo, " + detail))
        return StepResult(round(float(verification.score), 3), [check])

    def _check_document(self, mrz: Mrz) -> Check:
        return self._check_alerts(
            "alerts.document", "no document alert", lambda: self.central.check_document(mrz),
            lambda cache: [hit.describe() for hit in cache.check_document(
                mrz.document_number, mrz.document_type, mrz.issuing_state, self.today())])

    def _check_person(self, mrz: Mrz) -> Check:
        if mrz.birth_date is None:
            return Check.not_done("alerts.person", "no birth date in the MRZ to check names against")
        return self._check_alerts(
            "alerts.person", "no person alert", lambda: self.central.check_person(mrz),
            lambda cache: [hit.describe() for hit in cache.check_person(
                mrz.surname, mrz.given_names, mrz.birth_date, mrz.nationality, self.today())])

    def _assess_risk(self, mrz: Mrz, crossing_id: str) -> Check:
        """Central's risk score against the policy's threshold; what fired is the officer's to read."""
        try:
            score, fired = self.central.assess_risk(mrz, crossing_id, self.station)
        except Exception as exc:  # no score is no score: never a crash, never a pass
            return Check.not_done("risk.score", f"central unavailable: {exc}")
        detail = f"risk score {score:.2f}" + (f" ({'; '.join(fired)})" if fired else "")
        if score >= self.policy.risk_refer_at:
            return Check.failed("risk.score", f"{detail}, at or above {self.policy.risk_refer_at:.2f}")
        return Check.passed("risk.score", detail)

    def _check_alerts(self, name: str, clean: str, ask_central, ask_cache) -> Check:
        """One alert-list check: central's answer, or the gate's cached list when central was not reached."""
        try:
            hits = ask_central()
        except Exception as exc:  # any failure to ask is a check not done, never a crash
            # Only when central was not reached may the cached list stand in; an error it reports may not.
            unreached = isinstance(exc, ConnectionError)
            if unreached:
                self._central_reached = False
            if not unreached or self.alerts is None:
                return Check.not_done(name, f"central unavailable: {exc}")
            try:
                cached = ask_cache(self.alerts)
                age_s = self.alerts.age().total_seconds()
            except Exception as cache_exc:  # a cache never loaded knows of no alert, which is not "no alert"
                return Check.not_done(name, f"central unavailable: {exc}; {cache_exc}")
            source = f"{OFFLINE_MARK} cached alert list version {self.alerts.version}, {int(age_s // 60)} minutes old"
            if cached:  # a hit stands however old the copy: the alert was there
                return Check.failed(name, f"{source}: " + "; ".join(cached))
            if age_s > self.policy.offline_max_age_s:
                return Check.not_done(name, f"{source}, older than the {int(self.policy.offline_max_age_s // 60)} "
                                      "minutes the policy trusts")
            return Check.passed(name, source)
        self._central_reached = True
        if any(_refers(hit) for hit in hits):
            return Check.failed(name, "; ".join(str(hit) for hit in hits))
        if hits:  # only hits that inform (drivers.alertmatch.notices): through, the hit on the crossing's record
            return Check.passed(name, "informs: " + "; ".join(str(hit) for hit in hits))
        return Check.passed(name, clean)

    def _check_stay(self, mrz: Mrz) -> StepResult:
        """Central's authorised stay for this entry: the last day the traveller may stay (the step's value)."""
        try:
            answer = self.central.check_stay(mrz)
        except Exception as exc:  # any failure to ask is a check not done, never a crash
            if isinstance(exc, ConnectionError):
                self._central_reached = False
                return StepResult(None, [Check.not_done("stay.days_left", f"{UNREACHABLE_MARK} {exc}")])
            return StepResult(None, [Check.not_done("stay.days_left", f"central could not answer: {exc}")])
        self._central_reached = True
        # The officer must know when other posts' crossings were not counted; the decision is unchanged.
        partial = f"{STAY_POST_ONLY}; " if answer.get("scope") == "post" else ""
        if answer["refused"]:
            return StepResult(None, [Check.failed("stay.days_left",
                                                  f"{partial}no day left: ground {answer['refused']}")])
        last_day = answer["latest_exit"]
        if last_day is None:
            return StepResult(None, [Check.passed("stay.days_left", f"{partial}no limit ({answer['regime']})")])
        days = (last_day - self.today()).days + 1
        return StepResult(last_day, [Check.passed(
            "stay.days_left", f"{partial}may stay until {last_day.isoformat()} ({days} day(s), "
            f"{answer['days_used']} used of 90 in 180, {answer['regime']})")])

    def _search_watchlist(self, live) -> StepResult:
        if live is None or live.template is None:
            return StepResult(None, [Check.not_done("watchlist.face", "no live face")])
        try:
            hits = self.matcher.search(self.watchlist, live.template)
        except Exception as exc:
            return StepResult(None, [Check.not_done("watchlist.face", f"matcher unavailable: {exc}")])
        if hits.partial:
            check = Check.not_done("watchlist.face", "search incomplete: " + ", ".join(hits.missing_shards))
        elif hits.candidates:
            best = hits.candidates[0]
            check = Check.failed("watchlist.face", f"watchlist hit {best.subject_id} (score {best.score:.2f})")
        else:
            check = Check.passed("watchlist.face", "no watchlist candidate above threshold")
        return StepResult(hits, [check])

    def _check_file(self, mrz: Mrz, live) -> StepResult:
        """Central's traveller file: exempt, verified 1:1 against the enrolled face, or searched 1:N before
        one is opened. Central or its matcher not answering is a check not done: the gate refers, and
        nobody is enrolled unchecked."""
        if live is None or live.template is None:
            return StepResult(None, [Check.not_done("traveller.file", "no live face")])
        try:
            answer = self.central.check_traveller_file(mrz, live.template)
        except Exception as exc:  # any failure to ask is a check not done, never a crash
            return StepResult(None, [Check.not_done("traveller.file", f"central unavailable: {exc}")])
        if answer.status in ("EXEMPT", "NEW", "VERIFIED"):
            return StepResult(answer, [Check.passed("traveller.file", answer.reason)])
        if answer.status in ("MISMATCH", "DUPLICATE"):
            return StepResult(answer, [Check.failed("traveller.file", answer.reason)])
        return StepResult(None, [Check.not_done("traveller.file", f"central answered {answer.status}")])

    def evidence(self, values: dict[str, Any]) -> GateEvidence | None:
        """What the officer sees of this traveller: the live face, the chip photo, the 1:N candidates
        (the watchlist's, and the traveller files the live face matched under another identity)."""
        hits = values.get("watchlist")
        candidates = [GateCandidate(self.watchlist, c.subject_id, round(float(c.score), 4))
                      for c in (getattr(hits, "candidates", None) or [])]
        candidates += list(getattr(values.get("traveller_file"), "candidates", None) or [])
        try:
            return gather_evidence(values.get("face_capture"), _image(values.get("chip")), candidates)
        except Exception:  # the officer sees the traveller in person; a missing picture must not stop the gate
            log.exception("could not make the referral's evidence")
            return None

    def _record(self, outcome: Outcome, mrz: Mrz | None) -> None:
        outcome.offline = any(answered_offline(check) for check in outcome.checks)
        try:
            self._store_and_send(outcome, mrz)
        finally:
            OUTCOMES.labels(outcome.decision.value, str(outcome.offline).lower()).inc()

    def _store_and_send(self, outcome: Outcome, mrz: Mrz | None) -> None:
        if mrz is None:
            # Central registers crossings by document: an unreadable one is handed to the counter, where
            # an officer desk of this border point finds the case and keys the document in.
            self._hand_to_counter(outcome)
            return
        if self.outbox is not None:
            self._record_through_outbox(outcome, mrz)
            return
        try:
            self.central.record_crossing(outcome, mrz, self.station)
            outcome.recorded = True
            if outcome.decision is Decision.REFER:
                outcome.referral_id = self.central.open_referral(outcome, self.station)
            if outcome.enrolment is not None:
                self.central.enrol_traveller(outcome)
        except Exception as exc:
            # Without an outbox nothing keeps the record: the failure is logged and shown in the outcome.
            log.warning("could not record crossing %s: %s", outcome.crossing_id, exc)
            outcome.reasons.append(f"crossing not recorded: {exc}")

    def _hand_to_counter(self, outcome: Outcome) -> None:
        """The unidentified traveller as a counter case at central (central.desk.counter), through the outbox."""
        note = "document unreadable: handed to the counter, an officer desk registers the crossing"
        try:
            if self.outbox is None:
                self.central.hand_to_counter(outcome, self.station)
                outcome.reasons.append(note)
                return
            payload = self.central.counter_request(outcome, self.station).SerializeToString()
            [seq] = self.outbox.append(outcome.crossing_id, [("HandToCounter", payload)])
            if self.outbox.online is not False or self._central_reached:
                self.outbox.deliver()
            state = self.outbox.state_of(seq)
        except Exception as exc:  # the traveller is at the officer's anyway: say what was not kept
            log.exception("could not hand crossing %s to the counter", outcome.crossing_id)
            outcome.reasons.append(f"crossing not recorded: document unreadable and the counter not told ({exc}), "
                                   "officer to register it")
            return
        outcome.reasons.append(note if state == "delivered" else
                               f"{note} (kept in the gate's outbox until central answers)")

    def _record_through_outbox(self, outcome: Outcome, mrz: Mrz) -> None:
        """Commit the crossing (and referral) to the outbox, then send it if central is answering."""
        requests = [("RecordCrossing", self.central.crossing_request(outcome, mrz, self.station).SerializeToString())]
        if outcome.decision is Decision.REFER:
            requests.append(("OpenReferral", self.central.referral_request(outcome, self.station).SerializeToString()))
        if outcome.enrolment is not None:  # after its crossing: central opens the file from the crossing
            requests.append(("EnrolTraveller", self.central.enrolment_request(outcome).SerializeToString()))
        try:
            waiting = self.outbox.backlog
            seqs = self.outbox.append(outcome.crossing_id, requests)
        except Exception as exc:
            # Not even kept locally: a crossing nobody can prove must not happen, so an officer takes over.
            log.exception("could not store crossing %s in the outbox", outcome.crossing_id)
            outcome.decision = Decision.REFER
            outcome.reasons.append(f"crossing not recorded: the gate's outbox failed ({exc}), officer to register it")
            return
        if waiting == 0 and (self.outbox.online is not False or self._central_reached):
            self.outbox.deliver()  # the usual case: central answers, recorded before the gate opens
        elif self._central_reached:
            self.outbox.wake()  # central is back: drain the backlog now rather than after the backoff
        states = [self.outbox.state_of(seq) for seq in seqs]
        outcome.recorded = states[0] == "delivered"
        if outcome.decision is Decision.REFER and states[1] == "delivered":
            outcome.referral_id = outcome.crossing_id
        if states[0] == "pending":
            outcome.reasons.append(f"crossing not recorded yet: kept in the gate's outbox "
                                   f"({self.outbox.backlog} record(s) waiting), sent when central answers")
        elif states[0] == "rejected":
            outcome.reasons.append("crossing not recorded: central refused it, kept in the outbox for an officer")

    @staticmethod
    def _timed(timings: dict[str, float], name: str, step: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return step()
        finally:
            timings[name] = round((time.perf_counter() - started) * 1000, 1)


@dataclass(frozen=True)
class _DocumentFace:
    template: Any  # drivers.face.FaceTemplate, or None with the problem
    problem: str = ""


@dataclass(frozen=True)
class _NoCapture:
    template: None = None
    liveness: None = None
    faces_max: int = 0


_NO_CAPTURE = _NoCapture()


def _traveller(mrz: Mrz | None) -> dict[str, str]:
    if mrz is None:
        return {}
    return {
        "surname": mrz.surname,
        "given_names": mrz.given_names,
        "document_number": mrz.document_number,
        "nationality": mrz.nationality,
        "issuing_state": mrz.issuing_state,
    }


def _refers(hit: HitLine | str) -> bool:
    """Whether an alert hit refers: central's lines say so; a plain line (the cache's, a test's) always refers."""
    return hit.refers if isinstance(hit, HitLine) else True
