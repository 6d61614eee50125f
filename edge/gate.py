"""One e-gate transaction: from a presented document to a decision.

The steps, each of which ends in checks rather than exceptions:

    MRZ read -> MRZ valid, not expired -> reference photo (chip DG2)
    -> live face captured -> 1:1 verification -> document alerts (central)
    and 1:N watchlist (matcher) -> decision by policy -> crossing recorded
    (and a referral opened when the gate refers).

Anything that goes wrong (a malformed MRZ, no face, a service down, a bug in
a step) becomes a check that did not pass, so the gate refers the traveller
to an officer with a reason instead of crashing.
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
from prometheus_client import Counter

from drivers.checks import Check
from drivers.mrz import Mrz, MrzError, parse as parse_mrz
from edge.policy import OFFLINE_MARK, Decision, Policy, answered_offline

if TYPE_CHECKING:
    from edge.alert_cache import AlertCache
    from edge.outbox import Outbox

log = logging.getLogger(__name__)

OUTCOMES = Counter("limes_edge_outcomes", "Gate decisions, by decision and whether central was unreachable",
                   ["decision", "offline"])


@dataclass(frozen=True)
class Station:
    station_id: str = "DEMO-EGATE-01"
    border_point: str = "DEMO-AIRPORT"
    direction: str = "ENTRY"


@dataclass
class ReferencePhoto:
    """The document's photo (the chip's DG2 face) and the checks made reading it."""
    image: np.ndarray | None
    checks: list[Check] = field(default_factory=list)


class PhotoSource(Protocol):
    def __call__(self, mrz: Mrz) -> ReferencePhoto: ...


class FaceCapture(Protocol):
    """Captures the live face; returns edge.capture.CaptureResult."""
    def __call__(self) -> Any: ...


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
            "timings_ms": self.timings_ms,
        }


class Gate:
    """Runs transactions; devices and services are injected so that real and
    simulated hardware, and real or fake clients, plug in the same way."""

    def __init__(self, *, station: Station, photo_source: PhotoSource, capture_face: FaceCapture,
                 central, matcher, policy: Policy | None = None, watchlist: str = "watchlist",
                 today: Callable[[], dt.date] = dt.date.today,
                 outbox: Outbox | None = None, alerts: AlertCache | None = None):
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
        # Central and matcher calls overlap with the face capture.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="gate")

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
    def process(self, mrz_text: str) -> Outcome:
        crossing_id = str(uuid.uuid4())
        timings: dict[str, float] = {}
        checks: list[Check] = []
        started = time.perf_counter()

        mrz = self._timed(timings, "mrz", lambda: self._read_mrz(mrz_text, checks))
        traveller = _traveller(mrz)
        face_score = None
        if mrz is not None:
            document_alerts = self._pool.submit(self._check_document, mrz)
            person_alerts = self._pool.submit(self._check_person, mrz)
            # The chip and the camera are different devices: read the chip while the face is captured.
            chip_checks: list[Check] = []
            reference_photo = self._pool.submit(
                self._timed, timings, "reference_photo", lambda: self._reference_photo(mrz, chip_checks))
            capture_checks: list[Check] = []
            live = self._timed(timings, "face_capture", lambda: self._capture(capture_checks))
            reference = reference_photo.result()
            checks.extend(chip_checks + capture_checks)
            face_score = self._timed(timings, "face_verification",
                                     lambda: self._verify(reference, live, checks))
            self._timed(timings, "watchlist", lambda: self._search_watchlist(live, checks))
            checks.append(self._timed(timings, "document_alerts", document_alerts.result))
            checks.append(self._timed(timings, "person_alerts", person_alerts.result))

        decision, reasons = self.policy.decide(checks)
        timings["decision_total"] = round((time.perf_counter() - started) * 1000, 1)
        outcome = Outcome(crossing_id, decision, reasons, checks, traveller, timings, face_score)
        self._timed(timings, "record", lambda: self._record(outcome, mrz))
        return outcome

    # -- steps -------------------------------------------------------------
    def _read_mrz(self, text: str, checks: list[Check]) -> Mrz | None:
        try:
            mrz = parse_mrz(text)
        except MrzError as exc:
            checks.append(Check.failed("mrz.valid", "; ".join(f"{p.field}: {p.reason}" for p in exc.problems)))
            return None
        checks.append(Check.passed("mrz.valid", f"{mrz.format}, all check digits correct"))
        if mrz.expiry_date is None:
            checks.append(Check.failed("document.expiry", "no expiry date"))
        elif mrz.is_expired(self.today()):
            checks.append(Check.failed("document.expiry", f"expired on {mrz.expiry_date.isoformat()}"))
        else:
            checks.append(Check.passed("document.expiry", f"valid until {mrz.expiry_date.isoformat()}"))
        return mrz

    def _reference_photo(self, mrz: Mrz, checks: list[Check]) -> np.ndarray | None:
        try:
            photo = self.photo_source(mrz)
        except Exception as exc:  # a reader driver bug must not stop the gate
            log.exception("reading the document photo failed")
            checks.append(Check.failed("chip.read", f"chip reader error: {exc}"))
            return None
        checks.extend(photo.checks)
        return photo.image

    def _capture(self, checks: list[Check]):
        try:
            result = self.capture_face()
        except Exception as exc:  # a camera driver bug must not stop the gate
            log.exception("face capture failed")
            checks.append(Check.failed("face.capture", f"camera error: {exc}"))
            return _NO_CAPTURE
        if result.liveness is None:
            checks.append(Check.not_done("face.liveness", "too few frames to judge"))
        elif result.liveness.live:
            checks.append(Check.passed("face.liveness", f"score {result.liveness.score:.2f}"))
        else:
            checks.append(Check.failed("face.liveness", f"score {result.liveness.score:.2f}: "
                                       + "; ".join(result.liveness.reasons)))
        if result.template is None:
            checks.append(Check.failed("face.capture", result.failure or "no usable face"))
        elif result.faces_max > 1:
            checks.append(Check.failed("face.capture", f"{result.faces_max} faces in the gate (tailgating?)"))
        else:
            checks.append(Check.passed("face.capture", f"best of {result.frames} frames"))
        return result

    def _verify(self, reference: np.ndarray | None, live, checks: list[Check]) -> float | None:
        from drivers.face import FaceError, compare, encode_face

        if reference is None:
            checks.append(Check.not_done("face.verification", "no document photo"))
            return None
        if live.template is None:
            checks.append(Check.not_done("face.verification", "no live face"))
            return None
        try:
            verification = compare(live.template, encode_face(reference))
        except FaceError as exc:
            checks.append(Check.failed("face.verification", f"document photo unusable: {exc}"))
            return None
        detail = (f"score {verification.score:.2f}, distance {verification.distance:.2f} "
                  f"(match at <= {verification.threshold:.2f})")
        checks.append(Check.passed("face.verification", detail) if verification.match
                      else Check.failed("face.verification", "live face does not match the document photo, " + detail))
        return round(float(verification.score), 3)

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
                minutes = int(self.alerts.age().total_seconds() // 60)
            except Exception as cache_exc:  # a cache never loaded knows of no alert, which is not "no alert"
                return Check.not_done(name, f"central unavailable: {exc}; {cache_exc}")
            source = f"{OFFLINE_MARK} cached alert list version {self.alerts.version}, {minutes} minutes old"
            if cached:
                return Check.failed(name, f"{source}: " + "; ".join(cached))
            return Check.passed(name, source)
        self._central_reached = True
        if hits:
            return Check.failed(name, "; ".join(hits))
        return Check.passed(name, clean)

    def _search_watchlist(self, live, checks: list[Check]) -> None:
        if live.template is None:
            checks.append(Check.not_done("watchlist.face", "no live face"))
            return
        try:
            hits = self.matcher.search(self.watchlist, live.template)
        except Exception as exc:
            checks.append(Check.not_done("watchlist.face", f"matcher unavailable: {exc}"))
            return
        if hits.partial:
            checks.append(Check.not_done("watchlist.face", "search incomplete: " + ", ".join(hits.missing_shards)))
        elif hits.candidates:
            best = hits.candidates[0]
            checks.append(Check.failed("watchlist.face", f"watchlist hit {best.subject_id} (score {best.score:.2f})"))
        else:
            checks.append(Check.passed("watchlist.face", "no watchlist candidate above threshold"))

    def _record(self, outcome: Outcome, mrz: Mrz | None) -> None:
        outcome.offline = any(answered_offline(check) for check in outcome.checks)
        try:
            self._store_and_send(outcome, mrz)
        finally:
            OUTCOMES.labels(outcome.decision.value, str(outcome.offline).lower()).inc()

    def _store_and_send(self, outcome: Outcome, mrz: Mrz | None) -> None:
        if mrz is None:
            # Central registers crossings by document; an unreadable one goes to the officer, who keys it in.
            outcome.reasons.append("crossing not recorded: document unreadable, officer to register it")
            return
        if self.outbox is not None:
            self._record_through_outbox(outcome, mrz)
            return
        try:
            self.central.record_crossing(outcome, mrz, self.station)
            outcome.recorded = True
            if outcome.decision is Decision.REFER:
                outcome.referral_id = self.central.open_referral(outcome, self.station)
        except Exception as exc:
            # Without an outbox nothing keeps the record: the failure is logged and shown in the outcome.
            log.warning("could not record crossing %s: %s", outcome.crossing_id, exc)
            outcome.reasons.append(f"crossing not recorded: {exc}")

    def _record_through_outbox(self, outcome: Outcome, mrz: Mrz) -> None:
        """Commit the crossing (and referral) to the outbox, then send it if central is answering."""
        requests = [("RecordCrossing", self.central.crossing_request(outcome, mrz, self.station).SerializeToString())]
        if outcome.decision is Decision.REFER:
            requests.append(("OpenReferral", self.central.referral_request(outcome, self.station).SerializeToString()))
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
        if len(states) > 1 and states[1] == "delivered":
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
