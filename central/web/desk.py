"""The officer's desk: the live referral queue, the referral page with its evidence, the decision, photos."""
from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from central.access import audit as audit_log
from central.access import scope
from central.alerts import lists as alert_lists
from central.database import models as m
from central.errors import NotFound
from central.records import evidence, gate_calls, history, referrals
from central.travellers import files, fingerprints
from central.web.auth import POLL_HEADER, caller, context, may, requires, run
from common.refusal_grounds import LETTERS, ground_text
from common.sealing import SealError
from drivers.alertmatch.persons import Identity

log = logging.getLogger(__name__)
# A photo that is sealed under a key this central does not hold.
SEALED = object()

blueprint = Blueprint("desk", __name__)

STATUSES = {"waiting": None, "escalated": m.ReferralStatus.ESCALATED, "admitted": m.ReferralStatus.ADMITTED,
            "refused": m.ReferralStatus.REFUSED}
# What the queue's filter calls each choice: the words of the rows' status badges ("waiting" is both).
STATUS_LABELS = {"waiting": "Open or escalated", "escalated": "Escalated", "admitted": "Admitted",
                 "refused": "Refused"}
QUEUE_LIMIT = 200


class ShownReferrals:
    """Which referrals each session's queue already shows, so that its live refresh audits only the new ones.

    Kept in memory: after a restart (or once a session is pushed out by newer ones) a refresh finds
    nothing remembered and audits every referral it shows, so a mistake here costs audit rows, never
    loses one.
    """

    def __init__(self, max_views: int = 2000):
        self._max_views = max_views
        self._lock = threading.Lock()
        self._views: OrderedDict[tuple, set[int]] = OrderedDict()

    def unseen(self, view: tuple, shown: set[int]) -> set[int]:
        """The referrals among `shown` that this view has not shown before."""
        with self._lock:
            return shown - self._views.get(view, set())

    def remember(self, view: tuple, shown: set[int], *, page_view: bool) -> None:
        """After the audit rows are committed: a page view starts the view afresh, a refresh adds to it."""
        with self._lock:
            before = set() if page_view else self._views.get(view, set())
            self._views[view] = before | shown
            self._views.move_to_end(view)
            while len(self._views) > self._max_views:
                self._views.popitem(last=False)


@blueprint.record_once
def _keep_shown_referrals(state) -> None:
    state.app.extensions["limes.shown_referrals"] = ShownReferrals()
DECISIONS = {"admit": m.ReferralStatus.ADMITTED, "refuse": m.ReferralStatus.REFUSED,
             "escalate": m.ReferralStatus.ESCALATED}
MAX_NOTE = 2000
# How the gate's checks are grouped on the referral page.
CHECK_GROUPS = (("Document and chip", ("mrz.", "document.", "chip.", "sod.", "dsc.", "dg", "csca", "pa.", "aa.",
                                       "ca.", "pace.")),
                ("Face", ("face.",)),
                ("Alerts and watchlists", ("alerts.", "watchlist.")))


# ---------------------------------------------------------------- the queue

@blueprint.get("/queue")
@requires("ListReferrals")
def queue():
    return _render_queue("queue.html")


@blueprint.get("/queue/rows")
@requires("ListReferrals")
def queue_rows():
    """The queue's table body alone: what the page's script fetches to stay live."""
    return _render_queue("_queue_rows.html")


def _render_queue(template: str):
    point = request.args.get("border_point", "")[:32]
    status_name = request.args.get("status", "waiting")
    if status_name not in STATUSES:
        status_name = "waiting"
    who = caller("referral queue")
    # The audit records what a person looked at: the page once per view, then each referral a refresh
    # shows for the first time; a refresh that shows nothing new (every 5 s on an idle screen) writes nothing.
    refresh = request.headers.get(POLL_HEADER) == "1"
    view = (g.user.session_id, status_name, point)
    shown_referrals: ShownReferrals = current_app.extensions["limes.shown_referrals"]

    def work(session):
        # Rendered inside the transaction: the rows' related records load as the template reads them.
        waiting = referrals.list_referrals(session, who, STATUSES[status_name], point, QUEUE_LIMIT,
                                           newest_first=True, audited=not refresh)
        new = shown_referrals.unseen(view, {r.id for r in waiting}) if refresh else set()
        for referral in waiting:
            if referral.id in new:
                audit_log.audit(session, who, "ListReferrals", f"referral {referral.referral_id}",
                                "shown by the queue's refresh", "referral queue")
        points = list(session.scalars(select(m.BorderPoint.code).order_by(m.BorderPoint.code)))
        return render_template(template, rows=[_queue_row(r) for r in waiting], points=points,
                               border_point=point, status=status_name, statuses=STATUS_LABELS,
                               refresh_s=context().settings.queue_refresh_s), {r.id for r in waiting}
    result, error = run(work)
    if error is not None:
        return render_template("error.html", title="Queue unavailable", message=error), 400
    html, shown = result
    shown_referrals.remember(view, shown, page_view=not refresh)
    return html


def _queue_row(referral: m.Referral) -> dict:
    crossing = referral.crossing
    failed = [c["name"] for c in crossing.checks if c.get("status") == "FAIL"]
    not_done = [c["name"] for c in crossing.checks if c.get("status") == "NOT_DONE"]
    return {"referral": referral, "crossing": crossing, "traveller": crossing.traveller,
            "document": crossing.document, "failed": failed, "not_done": not_done,
            "reasons": referral.reasons, "candidates": len(referral.watchlist_candidates or [])}


# ---------------------------------------------------------------- one referral

@dataclass
class CandidateView:
    subject_id: str
    score: float
    gallery: str
    alert: m.PersonAlert | None = None
    photo_token: str | None = None
    alert_in_force: bool = False


@dataclass(frozen=True)
class FaceVerdict:
    """The 1:1 comparison as the crossing's checks tell it: its verdict, and why (the score, or why it was not done)."""
    status: str  # pass, fail or not_done: the box's colour class
    verdict: str
    detail: str


# The checks a 1:1 comparison needs: when it was not done, these say why.
FACE_INPUTS = ("face.capture", "chip.read", "dg2.hash")


@dataclass(frozen=True)
class FileMatch:
    """Another identity's traveller file whose face the gate matched: shown beside this traveller."""
    file_id: str
    score: float
    view: files.FileView | None  # None: purged since the gate searched
    photo_token: str | None


@dataclass
class ReferralView:
    referral: m.Referral
    crossing: m.Crossing
    live_token: str | None
    chip_token: str | None
    check_groups: list[tuple[str, list[dict]]]
    document_hits: list[gate_calls.DocumentHit]
    person_hits: list[gate_calls.PersonHit]
    candidates: list[CandidateView]
    history: list[m.Crossing]
    history_referrals: dict[int, list[m.Referral]] = field(default_factory=dict)
    face: FaceVerdict | None = None
    # The checks that did not pass: admitting despite them asks the officer to confirm.
    unresolved: list[dict] = field(default_factory=list)
    # The traveller's stays (central.records.history.stays_of), newest first: overstays and alerts raised.
    stays: list = field(default_factory=list)
    # Possible multiple identity: the other identities' traveller files, side by side with this traveller.
    file_matches: list[FileMatch] = field(default_factory=list)
    # Hits on alerts the user may not see in full (central.access.scope): only the fact, owner and handling.
    hits_only: list = field(default_factory=list)
    # The fingers this traveller's own file holds (central.travellers.fingerprints.FingersView), when the user
    # may read them (GetFileFingerprints); no template, no image; the read is audited.
    file_fingers: object = None

    @property
    def candidate_hits(self) -> list[CandidateView]:
        return [c for c in self.candidates if c.alert_in_force]

    @property
    def hit_count(self) -> int:
        return len(self.document_hits) + len(self.person_hits) + len(self.candidate_hits) + len(self.hits_only)

    @property
    def alert_cautions(self) -> list[str]:
        """Why no all-clear can be given although no alert is in force now: what the gate found or could not check."""
        cautions = [f"At the gate, {c['name']} {'failed' if c['status'] == 'FAIL' else 'was not done'}: {c['reason']}"
                    for c in self.crossing.checks
                    if c.get("name", "").startswith(("alerts.", "watchlist.")) and c.get("status") != "PASS"]
        unconfirmed = [c for c in self.candidates if not c.alert_in_force]
        if unconfirmed:
            cautions.append(f"{len(unconfirmed)} watchlist candidate(s) with no alert in force at central: "
                            "see the candidates below")
        return cautions


def _referral_view(session, referral_id: str) -> ReferralView:
    who = caller("secondary inspection")
    today = context().clock().date()
    referral = referrals.get_referral(session, who, referral_id, "secondary inspection")
    crossing = referral.crossing
    document, person = crossing.document, crossing.traveller
    images = evidence.referral_images(session, referral)
    live, chip = images.get(m.FaceImageKind.LIVE), images.get(m.FaceImageKind.CHIP)
    # The alerts in force now, with their handling instructions (the gate's checks hold only a line of text).
    document_hits = alert_lists.check_document(session, who, document.number, document.doc_type,
                                           document.issuing_state, today)
    person_hits = (alert_lists.check_person(session, who, Identity(person.surname, person.given_names,
                                                               person.birth_date, person.nationality), today)
                   if person.birth_date else [])
    mine = scope.scope_of(session, who)
    hits_only = [hit.alert for hit in [*document_hits, *person_hits]
                 if scope.alert_sight(mine, hit.alert)[0] is not scope.Sight.FULL]
    document_hits = [hit for hit in document_hits if hit.alert not in hits_only]
    person_hits = [hit for hit in person_hits if hit.alert not in hits_only]
    candidates = [CandidateView(c["subject_id"], c["score"], c.get("gallery", ""))
                  for c in referral.watchlist_candidates or [] if c.get("gallery") != files.TRAVELLERS_GALLERY]
    file_matches = [_file_match(session, who, c) for c in referral.watchlist_candidates or []
                    if c.get("gallery") == files.TRAVELLERS_GALLERY]
    if candidates:
        alerts = {a.matcher_subject_id: a for a in session.scalars(select(m.PersonAlert).where(
            m.PersonAlert.matcher_subject_id.in_([c.subject_id for c in candidates])))}
        for candidate in candidates:
            candidate.alert = alerts.get(candidate.subject_id)
            if candidate.alert is not None and scope.alert_sight(mine, candidate.alert)[0] is not scope.Sight.FULL:
                hits_only.append(candidate.alert)
            candidate.alert_in_force = candidate.alert is not None and _in_force(candidate.alert, today)
            photo = evidence.enrolment_photo(session, candidate.alert) if candidate.alert else None
            candidate.photo_token = photo.token if photo else None
        candidates = [c for c in candidates if c.alert is None or c.alert not in hits_only]
        audit_log.audit(session, who, "GetWatchlistCandidates", f"referral {referral_id}",
                      f"{len(candidates)} candidate(s), {sum(c.alert is not None for c in candidates)} with an alert",
                      "secondary inspection")
    if person.birth_date:
        past_crossings, past_referrals = history.history_by_person(session, who, person.surname, person.given_names,
                                                            person.birth_date, person.nationality, 20)
    else:
        past_crossings, past_referrals = history.history_by_document(session, who, document.number,
                                                              document.issuing_state, 20)
    by_crossing: dict[int, list[m.Referral]] = {}
    for past in past_referrals:
        by_crossing.setdefault(past.crossing_id, []).append(past)
    return ReferralView(referral, crossing, live.token if live else None, chip.token if chip else None,
                        _group_checks(crossing.checks), document_hits, person_hits, candidates, past_crossings,
                        by_crossing, _face_verdict(crossing.checks),
                        [c for c in crossing.checks if c.get("status") in ("FAIL", "NOT_DONE")],
                        history.stays_of(session, past_crossings, 20), file_matches, hits_only,
                        _file_fingers(session, who, crossing))


def _file_fingers(session, who, crossing: m.Crossing):
    """The fingers of the traveller's own file, read (and audited) only when it holds some and the user may."""
    file_id = session.scalar(select(m.TravellerFile.file_id).where(
        m.TravellerFile.traveller_id == crossing.traveller_id))
    if file_id is None or not fingerprints.positions_of(session, file_id) or not may("GetFileFingerprints"):
        return None
    return fingerprints.read_fingers(session, who, file_id, "secondary inspection")


def _file_match(session, who, candidate: dict) -> FileMatch:
    """The other identity's file (its read audited), with its enrolled face; None when gone."""
    try:
        view = files.read_file(session, who, candidate["subject_id"],
                               "secondary inspection: possible multiple identity")
    except NotFound:
        return FileMatch(candidate["subject_id"], candidate["score"], None, None)
    return FileMatch(candidate["subject_id"], candidate["score"], view,
                     view.live_face.token if view.live_face is not None else None)


def _in_force(alert: m.PersonAlert, today) -> bool:
    return (not alert.withdrawn and (alert.valid_from is None or alert.valid_from <= today)
            and (alert.valid_to is None or alert.valid_to >= today))


def _face_verdict(checks: list[dict]) -> FaceVerdict:
    by_name = {c.get("name"): c for c in checks}
    verification = by_name.get("face.verification")
    if verification is None:
        return FaceVerdict("not_done", "not done", "the gate reported no face comparison" if checks
                           else "no check results kept (cleared after the evidence period, or none sent)")
    reason = verification.get("reason", "")
    if verification.get("status") == "PASS":
        return FaceVerdict("pass", "match", reason)
    if verification.get("status") == "FAIL":
        return FaceVerdict("fail", "no match", reason)
    # "no live face" while a live picture is shown: the picture is the capture's best frame, which the
    # capture check rejected; its reason is the real one.
    inputs = [f"{by_name[name]['name']} {'failed' if by_name[name].get('status') == 'FAIL' else 'not done'}: "
              f"{by_name[name].get('reason', '')}"
              for name in FACE_INPUTS if name in by_name and by_name[name].get("status") != "PASS"]
    return FaceVerdict("not_done", "not done", "; ".join([reason, *inputs]) if inputs else reason)


def _group_checks(checks: list[dict]) -> list[tuple[str, list[dict]]]:
    groups: dict[str, list[dict]] = {title: [] for title, _ in CHECK_GROUPS}
    groups["Other"] = []
    for check in checks:
        title = next((t for t, prefixes in CHECK_GROUPS if check.get("name", "").startswith(prefixes)), "Other")
        groups[title].append(check)
    return [(title, items) for title, items in groups.items() if items]


def _referral_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        abort(404)


@blueprint.get("/referrals/<referral_id>")
@requires("GetReferral", "GetCrossing", "GetTravellerHistory")
def referral(referral_id: str):
    referral_id = _referral_id(referral_id)

    def work(session):
        view = _referral_view(session, referral_id)
        return render_template("referral.html", view=view, grounds=[ground_text(letter) for letter in LETTERS],
                               may_decide=_may_decide(view.referral), finger_names=fingerprints.FINGER_NAMES)
    html, error = run(work)
    if html is None:
        abort(404)
    return html


def _may_decide(referral: m.Referral) -> bool:
    if referral.status is m.ReferralStatus.OPEN:
        return may("RecordDecision")
    if referral.status is m.ReferralStatus.ESCALATED:
        return may("RecordDecision") and may("DecideEscalated")
    return False


@blueprint.post("/referrals/<referral_id>/decision")
@requires("RecordDecision")
def decide(referral_id: str):
    referral_id = _referral_id(referral_id)
    decision = DECISIONS.get(request.form.get("decision", ""))
    ground = request.form.get("ground", "").strip()
    note = request.form.get("note", "").strip()
    problem = None
    if decision is None:
        problem = "choose admit, refuse or escalate"
    elif decision is m.ReferralStatus.REFUSED and ground not in LETTERS:
        problem = "a refusal needs its ground: choose one from the list"
    elif decision is m.ReferralStatus.ESCALATED and not note:
        problem = "say in the note why you escalate"
    elif len(note) > MAX_NOTE:
        problem = f"the note is longer than {MAX_NOTE} characters"
    if problem is None:
        who = caller("referral decision")
        reason = ground_text(ground) if decision is m.ReferralStatus.REFUSED else ""
        _, problem = run(lambda s: referrals.record_decision(
            s, who, referral_id, g.user.user_name, decision, reason, note,
            may_decide_escalated=may("DecideEscalated"), stay_rules=context().settings.stay_rules))
    if problem:
        flash(problem, "fail")
    else:
        flash(f"Decision recorded: {decision.value.lower()}. The crossing record and the gate have it.", "pass")
    return redirect(url_for("desk.referral", referral_id=referral_id))


# ---------------------------------------------------------------- photos

@blueprint.get("/photos/<token>")
@requires("ViewPhoto")
def photo(token: str):
    """A face image by its opaque token, for a role that may see it; every view is audited."""
    who = caller("secondary inspection")

    def work(session):
        image = evidence.image_by_token(session, token)
        if image is None:
            return None
        if image.kind is m.FaceImageKind.ENROLMENT:
            allowed, subject = may("ListAlerts") or may("GetReferral"), f"person alert #{image.person_alert_id}"
        elif image.traveller_file_id is not None:
            file = session.get(m.TravellerFile, image.traveller_file_id)
            allowed, subject = may("GetTravellerFile"), f"traveller file {file.file_id if file else '?'}"
        else:
            referral = session.get(m.Referral, image.referral_id)
            allowed, subject = may("GetReferral"), f"referral {referral.referral_id}" if referral else "referral"
        if not allowed:
            audit_log.audit(session, who, "ViewPhoto", f"{subject} {image.kind.value.lower()} photo",
                            "PERMISSION_DENIED: role", "secondary inspection")
            return False
        try:
            data = evidence.image_jpeg(session, image)
        except SealError as exc:  # sealed under a key this central does not hold: nothing is shown
            log.error("photo %s: %s", token[:8], exc)
            data = SEALED
        audit_log.audit(session, who, "ViewPhoto", f"{subject} {image.kind.value.lower()} photo",
                        "shown" if data is not SEALED else "NOT SHOWN: sealed, key missing", "secondary inspection")
        return data
    data, _ = run(work)
    if data is None:
        abort(404)
    if data is False:
        abort(403)
    if data is SEALED:
        abort(503, "This photo is sealed under a key this central does not hold.")
    return Response(data, mimetype="image/jpeg", headers={
        "Cache-Control": "private, no-store", "Content-Disposition": "inline"})
