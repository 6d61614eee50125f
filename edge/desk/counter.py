"""One officer at a counter: the gate's checks on each document, shown as they arrive, and the
officer's decision recorded under the officer's session.

The desk runs the same steps as a gate (edge.gate.Gate.examine: MRZ, chip and passive authentication,
face capture and 1:1, watchlist, traveller file, alerts, risk, the authorised stay), then asks the
traveller's history of central. Nothing is decided for the officer: the gate's policy only lists what
needs the officer's attention (edge.policy). A document without a chip, or with one that cannot be
read, is no failure here: the screen says the chip was absent or unreadable and the officer decides.

Decisions go through the desk's outbox (edge.outbox), like a gate's records: sent at once when central
answers, kept and sent later when it does not. The desk then says it works offline and which checks
were not made.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from drivers.checks import Check, CheckStatus
from drivers.fingerprint import quality
from drivers.mrz import Mrz
from edge.desk.events import EventBus
from edge.desk.refusal_form import Refusal, render
from edge.desk.remote import DeskCentral, SignInRefused
from edge.desk.texts import traveller_language
from edge.evidence import file_enrolment
from edge.gate import FACE_STEPS, Gate
from edge.policy import UNREACHABLE_MARK, answered_offline

log = logging.getLogger(__name__)

DECISIONS = ("admit", "refuse", "refer")
# Reasons a chip step ends with when the document has no chip or a dead one (edge.chip).
_NO_CHIP = ("no chip answered", "chip reader unavailable", "link to the chip lost")


class DeskError(Exception):
    """Something the officer must do first (sign in, present a document, give a ground): its words."""


@dataclass
class Officer:
    name: str
    token: str


@dataclass
class Presented:
    """One traveller at the counter: the checks so far, then the officer's decision."""
    transaction_id: str
    manual_entry: bool
    counter_case_id: str
    started: float
    page_image: bytes | None = None   # the data page under visible light, as the reader sent it (JPEG or PNG)
    mrz_from_image: bool = False      # the reader could not read the MRZ; OCR of the page image did
    mrz: Mrz | None = None
    checks: list[Check] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    history: list[dict] | None = None
    complete: threading.Event = field(default_factory=threading.Event)
    all_shown_ms: float | None = None
    decided: dict | None = None
    refusal_pdf: bytes | None = None
    captures: int = 1                 # face captures: 1, plus one each time the officer captured again
    capture_again_ms: list[float] = field(default_factory=list)  # each retake: pressed to every check shown


class Counter:
    def __init__(self, gate: Gate, remote: DeskCentral, *, outbox=None, events: EventBus | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
                 open_scanner: Callable[[], Any] | None = None, finger_quality: int = quality.RECAPTURE_BELOW):
        self.gate = gate
        self.remote = remote
        self.outbox = outbox
        self.events = events or EventBus()
        self.clock = clock
        self.officer: Officer | None = None
        self.current: Presented | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="desk")
        # The slap scanner (the gate configuration's fingerprint scanner) and the quality below which a slap is
        # taken again.
        fingerprints = getattr(gate, "fingerprints", None)
        self.open_scanner = open_scanner or getattr(fingerprints, "open_scanner", None)
        self.finger_quality = finger_quality
        # A desk has no traveller display: what a gate would say to the traveller (look at the camera, the capture's
        # guidance, place your finger on the scanner), in the traveller's language, is shown to the officer.
        if getattr(gate, "display", "") is None:
            gate.display = self._to_traveller

    @property
    def station(self):
        return self.gate.station

    # -- the officer ----------------------------------------------------------
    def sign_in(self, user_name: str, password: str) -> str:
        """The officer as central names them; DeskError with central's refusal, or when central is not reached
        (a sign-in is central's to check: an officer already signed in keeps working offline)."""
        try:
            token, officer = self.remote.open_session(user_name, password)
        except SignInRefused as exc:
            raise DeskError(str(exc)) from None
        except ConnectionError as exc:
            raise DeskError(f"central unreachable: signing in needs central ({exc})") from None
        self.officer = Officer(officer, token)
        self._status()
        return officer

    def sign_out(self) -> None:
        if self.officer is None:
            return
        request = self.remote.close_request(self.officer.token)
        # Through the outbox after the decisions waiting there: central judges them under the open session.
        self._send("CloseOfficerSession", f"sign-out-{uuid.uuid4()}", request)
        self.officer = None
        self.current = None

    def _require_officer(self) -> Officer:
        if self.officer is None:
            raise DeskError("sign in first: every decision is a signed-in officer's")
        return self.officer

    # -- a traveller ------------------------------------------------------------
    def present(self, mrz_text: str, *, manual_entry: bool = False, counter_case_id: str = "",
                page_image: bytes | None = None) -> Presented:
        """Start the checks of one document (read by the reader, or typed by the officer: manual_entry);
        the screen hears each result as it arrives; Presented.complete is set once every check is shown.

        `page_image`: the data page the reader photographed. It is shown beside the results; when the
        reader could not read the MRZ (mrz_text ''), the MRZ is read from it (drivers.pageimage), and its
        visual zone is cross-checked against the MRZ."""
        self._require_officer()
        presented = Presented(str(uuid.uuid4()), manual_entry, counter_case_id, time.perf_counter(), page_image)
        with self._lock:
            self.current = presented
        self.events.publish({"type": "started", "id": presented.transaction_id, "manual_entry": manual_entry,
                             "counter_case_id": counter_case_id}, new_transaction=True)
        self._pool.submit(self._examine, presented, mrz_text)
        return presented

    def _examine(self, presented: Presented, mrz_text: str) -> None:
        history = None
        page = None
        try:
            if presented.page_image is not None:
                page, mrz_text = self._read_page(presented, mrz_text)
            def on_step(record, value, checks):
                nonlocal history
                presented.checks.extend(checks)
                self._publish(presented, {"type": "step", "step": record.name, "state": record.state.value,
                                          "elapsed_ms": record.elapsed_ms, "checks": [c.to_dict() for c in checks]})
                if record.name == "mrz" and value is not None:
                    presented.mrz = value
                    self._publish(presented, {"type": "document", **_document(value)})
                    history = self._pool.submit(self._history, value)
            examined = self.gate.examine(mrz_text, on_step, crossing_id=presented.transaction_id)
            page_checks = [c for c in presented.checks if c.name.startswith("page.")]
            presented.values, presented.checks = examined.values, page_checks + examined.checks
            if page is not None and presented.mrz is not None:
                self._cross_check(presented, page)
            presented.history = history.result() if history is not None else None
            self._publish(presented, {"type": "history", "crossings": presented.history})
        except Exception as exc:  # the desk never crashes: the officer sees what broke and decides
            log.exception("the desk's checks failed")
            presented.checks.append(Check.not_done("desk.checks", f"the checks broke: {exc}"))
        presented.all_shown_ms = round((time.perf_counter() - presented.started) * 1000, 1)
        self._publish(presented, {"type": "complete", **self.summary(presented)})
        presented.complete.set()
        self._status()

    def capture_again(self) -> dict:
        """The officer has the traveller's face captured again (the capture was refused, or the officer
        wants another): the steps that use the live face run anew (edge.gate.FACE_STEPS) and their results
        replace the earlier ones on the screen. The face.capture check then says which capture it is and
        that the officer asked for it, and so does the decision's record at central (it carries the checks)."""
        self._require_officer()
        with self._lock:
            presented = self.current
            if presented is None or not presented.complete.is_set():
                raise DeskError("no traveller whose checks are all shown")
            if presented.decided is not None:
                raise DeskError("this traveller is decided already")
            if presented.mrz is None:
                raise DeskError("no valid MRZ: the face is captured for a document")
            presented.captures += 1
            presented.complete.clear()
        replaced = sorted(self.gate.face_check_names())
        self._publish(presented, {"type": "capture_again", "capture": presented.captures, "replaces": replaced})
        self._pool.submit(self._capture_again, presented, set(replaced), time.perf_counter())
        return {"type": "capture_again", "id": presented.transaction_id, "capture": presented.captures}

    def _capture_again(self, presented: Presented, replaced: set[str], pressed: float) -> None:
        def on_step(record, value, checks):
            if record.name in FACE_STEPS:
                shown = [_retaken_check(c, presented.captures).to_dict() for c in checks]
                self._publish(presented, {"type": "step", "step": record.name, "state": record.state.value,
                                          "elapsed_ms": record.elapsed_ms, "checks": shown})
        try:
            examined = self.gate.examine_face_again(presented.values, on_step, crossing_id=presented.transaction_id)
            checks = [_retaken_check(c, presented.captures) for c in examined.checks]
            presented.values = examined.values
            presented.checks = [c for c in presented.checks if c.name not in replaced] + checks
        except Exception as exc:  # the desk never crashes: the officer sees what broke and decides
            log.exception("capturing the face again failed")
            presented.checks = [c for c in presented.checks if c.name not in replaced]
            presented.checks.append(Check.not_done("face.capture", f"capturing the face again broke: {exc}"))
        presented.capture_again_ms.append(round((time.perf_counter() - pressed) * 1000, 1))
        self._publish(presented, {"type": "complete", **self.summary(presented)})
        presented.complete.set()

    def _to_traveller(self, text: str) -> None:
        presented = self.current
        if presented is not None:
            self._publish(presented, {"type": "traveller_prompt", "text": text})

    def _read_page(self, presented: Presented, mrz_text: str):
        """The page image shown; the MRZ from it when the reader had none. (decoded image, MRZ text)."""
        import base64

        from drivers.pageimage import PageImageError, decode_image, read_mrz

        kind = "png" if presented.page_image.startswith(b"\x89PNG") else "jpeg"
        self._publish(presented, {"type": "page_image", "src": f"data:image/{kind};base64,"
                                  + base64.b64encode(presented.page_image).decode()})
        checks = []
        try:
            page = decode_image(presented.page_image)
        except PageImageError as exc:
            checks.append(Check.failed("page.image", f"the page image is unusable: {exc}"))
            page = None
        if page is not None and not mrz_text.strip():
            reading = read_mrz(page)
            if reading.flagged:  # never taken as read: the officer types or corrects it
                checks.append(Check.failed("page.mrz", "the reader could not read the MRZ and OCR of the page "
                                           "image is not sure: " + "; ".join(reading.problems or
                                                                            ("check digits fail",))))
            else:
                mrz_text, presented.mrz_from_image = reading.text, True
                checks.append(Check.passed("page.mrz", f"read from the page image (OCR, lowest character "
                                           f"confidence {reading.confidence:.2f}, check digits correct)"))
        presented.checks.extend(checks)
        self._publish(presented, {"type": "step", "step": "page_image", "state": "done", "elapsed_ms": None,
                                  "checks": [c.to_dict() for c in checks]})
        return page, mrz_text

    def _cross_check(self, presented: Presented, page) -> None:
        """The visual zone's name, number and dates against the MRZ, where OCR could read them."""
        from drivers.pageimage import cross_check, read_visual_zone

        try:
            visual = read_visual_zone(page)
            mismatches = cross_check(visual, presented.mrz)
        except Exception as exc:  # OCR trouble is a check not done, never a crash
            check = Check.not_done("page.visual_zone", f"the visual zone could not be read: {exc}")
        else:
            fields = ("surname", "given_names", "document_number", "birth_date", "expiry_date")
            read = [name.replace("_", " ") for name in fields if getattr(visual, name) is not None]
            unread = [name.replace("_", " ") for name in fields if getattr(visual, name) is None]
            if mismatches:
                check = Check.failed("page.visual_zone", "; ".join(
                    f"{m.field}: printed {m.visual!r}, MRZ {m.machine!r}" for m in mismatches))
            elif not read:  # nothing compared is nothing checked, never a pass
                check = Check.not_done("page.visual_zone", "OCR could read none of the printed name, number "
                                       "and dates: compare them with the MRZ by eye")
            else:
                check = Check.passed("page.visual_zone", f"printed {', '.join(read)} agree with the MRZ"
                                     + (f"; not read: {', '.join(unread)}" if unread else ""))
        presented.checks.append(check)
        self._publish(presented, {"type": "step", "step": "visual_zone", "state": "done", "elapsed_ms": None,
                                  "checks": [check.to_dict()]})

    def _history(self, mrz: Mrz) -> list[dict] | None:
        try:
            return self.remote.history(self._require_officer().token, mrz)
        except Exception as exc:  # None: not checked, which the screen says
            log.warning("no crossing history: %s", exc)
            return None

    def summary(self, presented: Presented) -> dict:
        """What needs the officer's attention, what was not checked, and whether central was reached."""
        decision, reasons = self.gate.policy.decide(presented.checks, self.station.direction)
        not_checked = [f"{c.name}: {c.reason}" for c in presented.checks if c.status is CheckStatus.NOT_DONE]
        if presented.history is None:
            not_checked.append("history: the traveller's crossings could not be read from central")
        chip = next((c for c in presented.checks if c.name == "chip.read"), None)
        offline = (not self.gate.online) or any(answered_offline(c) or c.reason.startswith(UNREACHABLE_MARK)
                                                for c in presented.checks)
        return {"id": presented.transaction_id, "gate_would": decision.value, "attention": reasons,
                "not_checked": not_checked, "offline": offline, "manual_entry": presented.manual_entry,
                "no_chip": chip is None or (chip.status is not CheckStatus.PASS and (
                    chip.status is CheckStatus.NOT_DONE or any(s in chip.reason for s in _NO_CHIP))),
                "mrz_valid": presented.mrz is not None, "all_shown_ms": presented.all_shown_ms,
                "captures": presented.captures, "capture_again_ms": presented.capture_again_ms,
                "mrz_from_image": presented.mrz_from_image, "page_image": presented.page_image is not None,
                "checks": [c.to_dict() for c in presented.checks]}

    # -- the decision -------------------------------------------------------------
    def decide(self, decision: str, *, ground: str = "", note: str = "", form_language: str | None = None) -> dict:
        """Record the officer's decision on the current traveller; for a refusal, the form as PDF too."""
        officer = self._require_officer()
        presented = self.current
        if presented is None or not presented.complete.is_set():
            raise DeskError("no traveller whose checks are all shown")
        if presented.decided is not None:
            raise DeskError("this traveller is decided already")
        if decision not in DECISIONS:
            raise DeskError(f"decision must be one of {', '.join(DECISIONS)}")
        ground = ground.strip().upper()
        if decision == "refuse" and (len(ground) != 1 or ground not in "ABCDEFGHIJ"):
            raise DeskError("a refusal needs its ground, a letter A to J of the standard form")
        if presented.mrz is None:
            raise DeskError("no valid MRZ: type or correct it first (a crossing is recorded by its document)")
        request = self.remote.decision_request(
            token=officer.token, crossing_id=presented.transaction_id, mrz=presented.mrz, station=self.station,
            checks=presented.checks, reasons=self.summary(presented)["attention"],
            face_score=presented.values.get("face_verification"), decision=decision,
            ground=ground if decision == "refuse" else "", note=note, manual_entry=presented.manual_entry,
            counter_case_id=presented.counter_case_id, evidence=self._evidence(presented, decision))
        state = self._send("RecordDeskDecision", presented.transaction_id, request)
        decided = {"type": "decided", "id": presented.transaction_id, "decision": decision, "ground": ground,
                   "officer": officer.name, "state": state}
        if decision == "refuse":
            language = form_language or traveller_language(presented.mrz.nationality)
            presented.refusal_pdf = render(Refusal(
                surname=presented.mrz.surname, given_names=presented.mrz.given_names,
                birth_date=presented.mrz.birth_date.isoformat() if presented.mrz.birth_date else "",
                nationality=presented.mrz.nationality, document_type=presented.mrz.document_type,
                document_number=presented.mrz.document_number, grounds=(ground,),
                border_point=self.station.border_point, desk=self.station.station_id, officer=officer.name,
                at=self.clock(), reference=presented.transaction_id, remarks=note), language)
            decided["form_language"] = language
        presented.decided = decided
        self._publish(presented, decided)
        self._status()
        return decided

    def file_report(self, text: str, *, source_kind: str = "officer", source_evaluation: str = "1",
                    assessment: str = "A", handling_code: str = "P", handling_conditions: str = "",
                    link_traveller: bool = True) -> dict:
        """An intelligence report of the signed-in officer, through the outbox after the decisions before it
        (central files it once, under the officer's session). Linked to the traveller just decided: central
        links the crossing the decision recorded, its referral, the traveller and the document."""
        officer = self._require_officer()
        text = text.strip()
        if not text or len(text) > 20_000:
            raise DeskError("write what you saw or learned (at most 20,000 characters)")
        handling_code = handling_code.strip().upper()
        if handling_code == "C" and not handling_conditions.strip():
            raise DeskError("handling C needs its conditions")
        crossing_id = ""
        if link_traveller:
            presented = self.current
            if presented is None or presented.decided is None:
                raise DeskError("decide on the traveller first (the report is linked to the crossing the decision "
                                "records), or file it without the link")
            crossing_id = presented.transaction_id
        report_id = str(uuid.uuid4())
        request = self.remote.report_request(
            token=officer.token, report_id=report_id, source_kind=source_kind, text=text,
            source_evaluation=source_evaluation, assessment=assessment, handling_code=handling_code,
            handling_conditions=handling_conditions.strip(), crossing_id=crossing_id, written_at=self.clock())
        state = self._send("FileIntelligenceReport", f"report-{report_id}", request)
        return {"type": "report", "report_id": report_id, "state": state, "officer": officer.name,
                "crossing_id": crossing_id}

    # -- fingerprint enrolment ---------------------------------------------------------
    def enrol_fingers(self, which: str) -> dict:
        """Take the slaps of `which` ("right", "left", "ten") from the admitted traveller, with re-capture
        prompts on the screen below the configured quality, and enrol them in the traveller's file at central
        (opened with the live face when there is none). Central must answer: the officer sees at once whether
        the fingers were enrolled or another identity's file holds them."""
        from edge.desk.fingers import take_fingers

        officer = self._require_officer()
        presented = self.current
        if presented is None or presented.decided is None or presented.decided["decision"] != "admit":
            raise DeskError("fingers are enrolled for a traveller you admitted")
        if presented.decided["state"] != "delivered":
            raise DeskError("central has not recorded the admission yet: fingers are enrolled once it has")
        if self.open_scanner is None:
            raise DeskError("this desk has no fingerprint scanner")

        def prompt(text: str) -> None:
            self._publish(presented, {"type": "finger_prompt", "text": text})
        try:
            scanner = self.open_scanner()
            try:
                taken = take_fingers(scanner, which, threshold=self.finger_quality, prompt=prompt)
            finally:
                scanner.close()
        except Exception as exc:  # a scanner or image failure is the officer's to see, never a crash
            log.warning("fingerprint enrolment: %s", exc)
            raise DeskError(f"fingerprints not taken: {exc}") from None
        face = file_enrolment(presented.values.get("face_capture"))
        try:
            answer = self.remote.enrol_fingers(officer.token, presented.transaction_id, taken.fingers,
                                               *(face or (None, b"")))
        except Exception as exc:
            raise DeskError(f"fingerprints not enrolled: central answered {exc}") from None
        result = {"type": "fingers_enrolled", **answer, "accepted": taken.accepted, "slaps": taken.attempts,
                  "qualities": {f.position: f.quality for f in taken.fingers}}
        self._publish(presented, result)
        return result

    def _evidence(self, presented: Presented, decision: str):
        if decision != "refer":
            return None
        try:
            return self.gate.evidence(presented.values)
        except Exception:  # the secondary officer sees the traveller in person
            log.exception("no evidence for the referral")
            return None

    def _send(self, method: str, key: str, request) -> str:
        """Through the outbox when there is one: 'delivered', 'pending' (kept, central not answering) or
        'rejected' (central refused it: parked for a supervisor)."""
        if self.outbox is None:
            self.remote.central.client.call(method, request)
            return "delivered"
        [seq] = self.outbox.append(key, [(method, request.SerializeToString())])
        self.outbox.deliver()
        state = self.outbox.state_of(seq)
        if state == "rejected":
            log.error("central refused %s %s", method, key)
        return state

    # -- the counter's queue and status ----------------------------------------------
    def counter_cases(self) -> list[dict]:
        officer = self._require_officer()
        try:
            return self.remote.counter_cases(officer.token, self.station.border_point)
        except Exception as exc:
            raise DeskError(f"central unreachable: the counter's cases cannot be read ({exc})") from None

    def status(self) -> dict:
        return {"type": "status", "online": self.gate.online,
                "backlog": self.outbox.backlog if self.outbox is not None else 0,
                "officer": self.officer.name if self.officer else None,
                "station": self.station.station_id, "border_point": self.station.border_point}

    def _status(self) -> None:
        self.events.publish(self.status())

    def _publish(self, presented: Presented, event: dict) -> None:
        if self.current is presented:  # a late result of a traveller already gone is not shown
            self.events.publish({**event, "id": presented.transaction_id})

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _retaken_check(check: Check, capture: int) -> Check:
    """The face.capture check of a capture the officer asked for again, saying so."""
    if check.name != "face.capture":
        return check
    return Check(check.name, check.status, f"capture {capture}, taken again by the officer: {check.reason}")


def _document(mrz: Mrz) -> dict:
    return {"surname": mrz.surname, "given_names": mrz.given_names, "document_number": mrz.document_number,
            "document_type": mrz.document_type, "issuing_state": mrz.issuing_state, "nationality": mrz.nationality,
            "birth_date": mrz.birth_date.isoformat() if mrz.birth_date else "",
            "expiry_date": mrz.expiry_date.isoformat() if mrz.expiry_date else "", "sex": mrz.sex}
