"""Watchlists: search, issue, edit and expire document and person alerts; enrol a face from a photo."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from central.alerts import lists as alert_lists
from central.database import models as m
from central.errors import CentralError, InvalidArgument, NotFound
from central.records import evidence
from central.web.auth import caller, context, deny, may, requires, run
from drivers.alertmatch.normalize import state_code

blueprint = Blueprint("watchlists", __name__, url_prefix="/watchlists")

SAVED = "Saved. Gates take the change with their next alert update."
DOCUMENT_REASONS = [r.value for r in m.DocumentAlertReason]
PERSON_REASONS = [r.value for r in m.PersonAlertReason]
CATEGORIES = [c.value for c in m.DocumentAlertCategory]
NOTICES = [n.value for n in m.PersonNotice]
NOTICE_KINDS = [k.value for k in m.NoticeKind]


def _choices(kind: str) -> dict:
    """The form's select lists for an alert of this kind."""
    if kind == "document":
        return {"reasons": DOCUMENT_REASONS, "categories": CATEGORIES}
    return {"reasons": PERSON_REASONS, "notices": NOTICES, "notice_kinds": NOTICE_KINDS}


@blueprint.get("")
@requires("ListAlerts")
def search():
    text = request.args.get("q", "")[:100]
    include_inactive = request.args.get("all") == "1"
    who = caller("alert administration")
    today = context().clock().date()

    def work(session):
        documents, persons = alert_lists.search_alerts(session, who, text, today, in_force_only=not include_inactive)
        photos = {a.id: evidence.enrolment_photo(session, a) for a in persons if a.matcher_subject_id}
        return render_template("watchlists.html", documents=documents, persons=persons, q=text,
                               include_inactive=include_inactive, today=today,
                               photos={k: v.token for k, v in photos.items() if v})
    html, error = run(work)
    return html if error is None else (render_template("error.html", title="Search failed", message=error), 400)


@blueprint.route("/new/<kind>", methods=["GET", "POST"])
@requires("ListAlerts")
def new(kind: str):
    if kind not in ("document", "person"):
        abort(404)
    if not may("AddDocumentAlert" if kind == "document" else "AddPersonAlert"):
        deny(f"new {kind} alert not permitted", "AddDocumentAlert" if kind == "document" else "AddPersonAlert")
    form, error = dict(request.form), None
    if request.method == "POST":
        who = caller("alert administration")
        try:
            if kind == "document":
                change = _document_alert(form, "")
                alert, error = run(lambda s: alert_lists.add_document_alert(s, who, change))
            else:
                change = _person_alert(form, "")
                alert, error = run(lambda s: alert_lists.add_person_alert(s, who, change))
        except InvalidArgument as exc:
            error = str(exc)
        if error is None:
            flash(SAVED, "pass")
            return redirect(url_for("watchlists.alert", alert_id=alert.alert_id))
    return render_template("alert_form.html", kind=kind, form=form, error=error, alert=None,
                           **_choices(kind)), (400 if error else 200)


@blueprint.route("/<alert_id>", methods=["GET", "POST"])
@requires("ListAlerts")
def alert(alert_id: str):
    alert_id = alert_id[:36]
    who = caller("alert administration")
    error = None
    if request.method == "POST":
        if not may("UpdateAlert"):
            deny("alert change not permitted", "UpdateAlert")
        kind = request.form.get("kind")
        try:
            if kind == "document":
                change = _document_alert(request.form, alert_id)
                _, error = run(lambda s: alert_lists.update_document_alert(s, who, change))
            elif kind == "person":
                change = _person_alert(request.form, alert_id)
                _, error = run(lambda s: alert_lists.update_person_alert(s, who, change))
            else:
                error = "kind: document or person"
        except InvalidArgument as exc:
            error = str(exc)
        if error is None:
            flash(SAVED, "pass")
            return redirect(url_for("watchlists.alert", alert_id=alert_id))

    def work(session):
        found = alert_lists.get_alert(session, who, alert_id)
        kind = "document" if isinstance(found, m.DocumentAlert) else "person"
        photo = evidence.enrolment_photo(session, found) if kind == "person" else None
        form = dict(request.form) if error else _form_of(found)
        return render_template("alert_form.html", kind=kind, alert=found, form=form, error=error,
                               photo_token=photo.token if photo else None, today=context().clock().date(),
                               **_choices(kind))
    html, problem = run(work)
    if html is None:
        abort(404)
    return html, (400 if error else 200)


@blueprint.post("/<alert_id>/expire")
@requires("WithdrawAlert")
def expire(alert_id: str):
    alert_id = alert_id[:36]
    reason = request.form.get("reason", "").strip()[:200]
    if not reason:
        return _back_to_alert(alert_id, "say why the alert ends", "fail")
    who = caller(f"alert withdrawn: {reason}")
    enroller = context().enroller
    return _change_alert(alert_id, lambda s: alert_lists.withdraw_alert(s, who, alert_id, reason, enroller),
                         "alert withdrawn")


@blueprint.post("/<alert_id>/face")
@requires("EnrolFace")
def enrol_face(alert_id: str):
    alert_id = alert_id[:36]
    enroller = context().enroller
    upload = request.files.get("photo")
    if enroller is None:
        return _back_to_alert(alert_id, "no matcher is configured for this central: faces cannot be enrolled", "fail")
    if upload is None or not upload.filename:
        return _back_to_alert(alert_id, "choose a photo to upload", "fail")
    data = upload.read()  # the file name is never used: only the bytes
    who = caller("alert administration")
    return _change_alert(alert_id, lambda s: alert_lists.enrol_alert_face(s, who, alert_id, data, enroller),
                         "face enrolled")


def _change_alert(alert_id: str, work, done: str):
    """Run `work` on the alert and go back to it with the outcome as a notice; to the search page when
    there is no such alert (its own page would be a 404 and the notice lost)."""
    try:
        context().db.run(work)
    except NotFound as exc:
        flash(str(exc), "fail")
        return redirect(url_for("watchlists.search"))
    except CentralError as exc:
        return _back_to_alert(alert_id, str(exc), "fail")
    return _back_to_alert(alert_id, done, "pass")


def _back_to_alert(alert_id: str, notice: str, category: str):
    flash(notice, category)
    return redirect(url_for("watchlists.alert", alert_id=alert_id))


# ---------------------------------------------------------------- forms

def _date(form, name: str) -> dt.date | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(name, "a date as YYYY-MM-DD") from None


def _validity(form) -> tuple[dt.date | None, dt.date | None]:
    start, end = _date(form, "valid_from"), _date(form, "valid_to")
    if start and end and end < start:
        raise InvalidArgument("valid_to", "is before valid_from")
    return start, end


def _text(form, name: str, limit: int) -> str:
    text = form.get(name, "").strip()
    if len(text) > limit:
        raise InvalidArgument(name, f"at most {limit} characters")
    return text


def _document_alert(form, alert_id: str) -> alert_lists.NewDocumentAlert:
    reason = form.get("reason", "")
    if reason not in DOCUMENT_REASONS:
        raise InvalidArgument("reason", f"one of {', '.join(DOCUMENT_REASONS)}")
    start, end = _validity(form)
    return alert_lists.NewDocumentAlert(
        alert_id=alert_id, number=_text(form, "document_number", 40), doc_type=_text(form, "document_type", 2),
        issuing_state=state_code(_text(form, "issuing_state", 3)), reason=m.DocumentAlertReason(reason),
        handling_instruction=_text(form, "handling_instruction", 2000),
        issuing_agency=_text(form, "issuing_agency", 200), valid_from=start, valid_to=end,
        category=_choice(form, "category", m.DocumentAlertCategory), **_handling(form))


def _choice(form, name: str, enum_class):
    """An optional select: empty is none; anything else must be one of the enum's values."""
    value = form.get(name, "")
    if not value:
        return None
    try:
        return enum_class(value)
    except ValueError:
        raise InvalidArgument(name, f"one of {', '.join(e.value for e in enum_class)}, or none") from None


def _handling(form) -> dict:
    """Handling code, its conditions and classification (central.access.scope), as the form gives them."""
    return {"handling_code": _text(form, "handling_code", 1) or "P",
            "handling_conditions": _text(form, "handling_conditions", 2000),
            "classification": _text(form, "classification", 16) or "OFFICIAL"}


def _person_alert(form, alert_id: str) -> alert_lists.NewPersonAlert:
    reason = form.get("reason", "")
    if reason not in PERSON_REASONS:
        raise InvalidArgument("reason", f"one of {', '.join(PERSON_REASONS)}")
    surname = _text(form, "surname", 200)
    if not surname:
        raise InvalidArgument("surname", "is required")
    start, end = _validity(form)
    return alert_lists.NewPersonAlert(
        alert_id=alert_id, surname=surname, given_names=_text(form, "given_names", 200),
        birth_date=_date(form, "birth_date"), nationality=state_code(_text(form, "nationality", 3)),
        reason=m.PersonAlertReason(reason), handling_instruction=_text(form, "handling_instruction", 2000),
        issuing_agency=_text(form, "issuing_agency", 200), valid_from=start, valid_to=end, matcher_subject_id="",
        notice=_choice(form, "notice", m.PersonNotice), notice_kind=_choice(form, "notice_kind", m.NoticeKind),
        **_handling(form))


def _form_of(alert) -> dict:
    common = {"reason": alert.reason.value, "handling_instruction": alert.handling_instruction,
              "issuing_agency": alert.issuing_agency, "valid_from": _iso(alert.valid_from),
              "valid_to": _iso(alert.valid_to), "handling_code": alert.handling_code,
              "handling_conditions": alert.handling_conditions, "classification": alert.classification,
              "owning_agency": alert.owning_agency}
    if isinstance(alert, m.DocumentAlert):
        return {**common, "document_number": alert.number, "document_type": alert.doc_type,
                "issuing_state": alert.issuing_state, "category": alert.category.value if alert.category else ""}
    return {**common, "surname": alert.surname, "given_names": alert.given_names,
            "birth_date": _iso(alert.birth_date), "nationality": alert.nationality,
            "notice": alert.notice.value if alert.notice else "",
            "notice_kind": alert.notice_kind.value if alert.notice_kind else ""}


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""
