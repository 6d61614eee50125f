"""The officer's screen: a small Flask application the desk station serves on loopback.

One page, usable by keyboard alone: the sign-in form, the document's results as they arrive (server-sent
events from /events), the manual MRZ entry, the counter's queue, the decision (admit, refuse with
a ground, refer), and a short intelligence report. Every action is a form that also works without
JavaScript; the script only keeps the page live. The browser session proves it is the screen the
officer signed in on (a random cookie and a per-session token on every form), and central, not this
page, knows who the officer is.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, session, url_for

from common.refusal_grounds import GROUNDS
from edge.desk import texts
from edge.desk.counter import Counter, DeskError
from edge.desk.texts import LANGUAGES, screen_texts


def create_screen(counter: Counter) -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.secret_key = secrets.token_bytes(32)  # this process only: a restart signs the screen out
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")
    pending_case: dict[str, str] = {}

    def language() -> str:
        chosen = request.args.get("lang") or session.get("lang") or "en"
        return chosen if chosen in LANGUAGES else "en"

    def signed_in() -> bool:
        return counter.officer is not None and session.get("officer") == counter.officer.name

    def checked_form() -> None:
        """A POST from this screen's signed-in page: its token, else 403 (another page or program)."""
        if not secrets.compare_digest(request.form.get("csrf", ""), session.get("csrf", "-")):
            abort(403)

    def answer(payload: dict, status: int = 200):
        if request.headers.get("Accept", "").startswith("application/json"):
            return jsonify(payload), status
        if status >= 400:
            session["message"] = payload.get("error", "")
        return redirect(url_for("page"))

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; "
                                                       "style-src 'self'; script-src 'self'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.get("/")
    def page():
        lang = language()
        session["lang"] = lang
        session.setdefault("csrf", secrets.token_urlsafe(24))
        message = session.pop("message", "")
        return render_template("desk.html", t=screen_texts(lang), lang=lang, languages=LANGUAGES,
                               grounds=GROUNDS[lang], signed_in=signed_in(), status=counter.status(),
                               report_choices=texts.REPORT_CHOICES.get(lang, texts.REPORT_CHOICES["en"]),
                               csrf=session["csrf"], message=message)

    @app.post("/sign-in")
    def sign_in():
        checked_form()
        try:
            officer = counter.sign_in(request.form.get("user", ""), request.form.get("password", ""))
        except DeskError as exc:
            return answer({"error": str(exc)}, 403)
        session["officer"] = officer
        session["csrf"] = secrets.token_urlsafe(24)  # a new token once signed in
        return answer({"officer": officer})

    @app.post("/sign-out")
    def sign_out():
        checked_form()
        if signed_in():
            counter.sign_out()
        session.pop("officer", None)
        return answer({"signed_out": True})

    @app.post("/mrz")
    def manual_mrz():
        checked_form()
        if not signed_in():
            return answer({"error": "sign in first"}, 403)
        text = request.form.get("mrz", "").replace("\r", "").strip()
        if not text or len(text) > 200:
            return answer({"error": "type the MRZ: two or three lines, at most 200 characters"}, 400)
        try:
            presented = counter.present(text, manual_entry=True, counter_case_id=pending_case.pop("id", ""))
        except DeskError as exc:
            return answer({"error": str(exc)}, 400)
        return answer({"id": presented.transaction_id})

    @app.post("/decide")
    def decide():
        checked_form()
        if not signed_in():
            return answer({"error": "sign in first"}, 403)
        form_language = request.form.get("form_language") or None
        if form_language not in (None, *LANGUAGES):
            return answer({"error": "no refusal form in that language"}, 400)
        try:
            decided = counter.decide(request.form.get("decision", ""), ground=request.form.get("ground", ""),
                                     note=request.form.get("note", "")[:1000], form_language=form_language)
        except DeskError as exc:
            return answer({"error": str(exc)}, 400)
        return answer(decided)

    @app.post("/intel-report")
    def intel_report():
        """An intelligence report of the signed-in officer; any officer field in the form is ignored."""
        checked_form()
        if not signed_in():
            return answer({"error": "sign in first"}, 403)
        form = request.form
        try:
            filed = counter.file_report(
                form.get("text", "")[:20_000], source_kind=form.get("source_kind", "officer")[:16],
                source_evaluation=form.get("source_evaluation", "1")[:1], assessment=form.get("assessment", "A")[:1],
                handling_code=form.get("handling_code", "P")[:1],
                handling_conditions=form.get("handling_conditions", "")[:2000],
                link_traveller=form.get("link_traveller") == "yes")
        except DeskError as exc:
            return answer({"error": str(exc)}, 400)
        return answer(filed)

    @app.post("/capture-again")
    def capture_again():
        """The face captured again for the traveller on screen (Counter.capture_again)."""
        checked_form()
        if not signed_in():
            return answer({"error": "sign in first"}, 403)
        try:
            return answer(counter.capture_again())
        except DeskError as exc:
            return answer({"error": str(exc)}, 400)

    @app.post("/fingers")
    def fingers():
        """Enrol the admitted traveller's fingers: the slap chosen (right, left or ten)."""
        checked_form()
        if not signed_in():
            return answer({"error": "sign in first"}, 403)
        try:
            enrolled = counter.enrol_fingers(request.form.get("slap", ""))
        except DeskError as exc:
            return answer({"error": str(exc)}, 400)
        return answer(enrolled)

    @app.get("/counter-cases")
    def counter_cases():
        if not signed_in():
            return jsonify({"error": "sign in first"}), 403
        try:
            return jsonify({"cases": counter.counter_cases()})
        except DeskError as exc:
            return jsonify({"error": str(exc)}), 503

    @app.post("/take")
    def take():
        """The next typed MRZ settles this counter case (a traveller a gate could not identify)."""
        checked_form()
        if not signed_in():
            return answer({"error": "sign in first"}, 403)
        pending_case["id"] = request.form.get("case_id", "")[:36]
        return answer({"case_id": pending_case["id"]})

    @app.get("/refusal/<transaction_id>.pdf")
    def refusal_form(transaction_id: str):
        presented = counter.current
        if not signed_in() or presented is None or presented.transaction_id != transaction_id \
                or presented.refusal_pdf is None:
            abort(404)
        return Response(presented.refusal_pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="refusal-{transaction_id}.pdf"',
                                 "Cache-Control": "no-store"})

    @app.get("/events")
    def events():
        if not signed_in():
            abort(403)
        return Response(counter.events.listen(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/status")
    def status():
        return jsonify(counter.status())

    return app
