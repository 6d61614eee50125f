"""The risk analysis unit's pages: intelligence reports (filed quickly from a referral, read on need to
know) and the intelligence cycle. The originator, unit and clearance come from the signed-in user."""
from __future__ import annotations

import datetime as dt
import uuid

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from central.database import models as m
from central.errors import InvalidArgument
from central.intelligence import clearance, cycle, grading, stix
from central.intelligence import reports as intel
from central.records import referrals
from central.web.auth import caller, context, may, requires, run

blueprint = Blueprint("intel", __name__)
# A report filed by an officer about what they saw: their own observation, known to them directly,
# shareable, OFFICIAL. They change what is not so.
QUICK_DEFAULTS = {"source_kind": "officer", "source_evaluation": "1", "assessment": "A", "handling_code": "P",
                  "classification": "OFFICIAL"}


@blueprint.app_context_processor
def report_choices() -> dict:
    """The grading and source choices, for the short report form on the referral page (central.web.desk)."""
    return {"intel_choices": {"sources": intel.SOURCE_KINDS, "evaluations": grading.SOURCE_EVALUATIONS,
                              "assessments": grading.ASSESSMENTS, "handling": grading.HANDLING_CODES,
                              "levels": clearance.LEVELS, "defaults": QUICK_DEFAULTS}}


def referral_links(referral: m.Referral) -> list[tuple[str, str, str]]:
    """What a report filed from a referral is linked to: (kind, target, in words)."""
    crossing = referral.crossing
    person, document = crossing.traveller, crossing.document
    return [("referral", referral.referral_id, f"this referral ({referral.status.value.lower()})"),
            ("crossing", crossing.crossing_id, f"the crossing at {crossing.border_point.code} "
                                               f"{crossing.occurred_at:%Y-%m-%d %H:%M}"),
            ("person", str(person.id), f"{person.surname}, {person.given_names}"),
            ("document", str(document.id), f"{document.doc_type} {document.issuing_state} {document.number}")]


def _reader(session) -> clearance.Reader:
    return clearance.reader(session, g.user.user_name, reviewer=may("ReviewIntelReports"))


def _today() -> dt.date:
    return context().clock().date()


def _uuid_or_404(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        abort(404)


# ---------------------------------------------------------------- filing

def _prefill(referral_id: str) -> dict:
    """A new report's form; from a referral, linked to it, its crossing, traveller and document."""
    form = QUICK_DEFAULTS | {"review_by": (_today() + intel.DEFAULT_REVIEW).isoformat(), "links": ""}
    if referral_id:
        who = caller("intelligence report from a referral")

        def links(session):
            referral = referrals.get_referral(session, who, referral_id, "intelligence report from a referral")
            return "\n".join(f"{kind}: {target}" for kind, target, _ in referral_links(referral))
        form["links"], _ = run(links)
        form["referral"] = referral_id
    return form


def parse_links(text: str) -> tuple[tuple[str, str], ...]:
    """Lines "kind: target" (e.g. "vehicle: white van B-XY 123")."""
    links = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        kind, colon, target = line.partition(":")
        if not colon:
            raise InvalidArgument("links", f"line {number}: write it as 'kind: what', e.g. 'route: IST-FRA'")
        links.append((kind.strip().lower(), target.strip()))
    return tuple(links)


def _new_report(form) -> intel.NewReport:
    """The report a form asks for. The short form on the referral page sends its links as checkboxes
    (`link`: "kind: target") and leaves the review-by date to the default."""
    legacy = form.get("legacy", "").strip()
    try:
        graded = grading.from_legacy(legacy) if legacy else grading.grade(
            form.get("source_evaluation", ""), form.get("assessment", ""), form.get("handling_code", ""),
            form.get("handling_conditions", ""))
    except grading.GradingError as exc:
        raise InvalidArgument("grading", str(exc)) from None
    try:
        review_by = (dt.date.fromisoformat(form["review_by"][:10]) if form.get("review_by", "").strip()
                     else _today() + intel.DEFAULT_REVIEW)
    except ValueError:
        raise InvalidArgument("review_by", "a date is required") from None
    shared = tuple(clearance.parse_unit(u) for u in form.get("shared_with", "").split(",") if u.strip())
    return intel.NewReport(
        source_kind=form.get("source_kind", ""), grading=graded,
        classification=clearance.parse_level(form.get("classification", "")), text=form.get("text", ""),
        review_by=review_by, sanitised_text=form.get("sanitised_text", ""),
        links=parse_links("\n".join([form.get("links", ""), *form.getlist("link")])), shared_with=shared)


@blueprint.route("/intel/new", methods=["GET", "POST"])
@requires("FileIntelReport")
def new_report():
    if request.method == "GET":
        referral_id = request.args.get("referral", "")
        return _form_page(_prefill(_uuid_or_404(referral_id) if referral_id else ""), None)
    who = caller("intelligence report")
    try:
        new = _new_report(request.form)
    except InvalidArgument as exc:
        return _form_page(_as_full_form(request.form), str(exc)), 400
    referral_id = request.form.get("referral", "")

    def work(session):
        if referral_id:  # need to know: the officer may see the referral the report comes from (403 otherwise)
            referrals.get_referral(session, who, _uuid_or_404(referral_id), "intelligence report from a referral")
        return intel.file_report(session, who, _reader(session), new, _today()).reference
    report, error = run(work)
    if error:
        return _form_page(_as_full_form(request.form), error), 400
    flash(f"Intelligence report filed: {report} (graded {new.grading.code}, {new.classification}).", "pass")
    if referral_id:
        return redirect(url_for("desk.referral", referral_id=_uuid_or_404(referral_id)))
    if may("ReadIntelReports"):
        return redirect(url_for("intel.report", reference=report))
    return redirect(url_for("intel.new_report"))


def _as_full_form(form) -> dict:
    """A posted form as the full form shows it again (the short form's link boxes as its lines of links)."""
    shown = form.to_dict()
    shown["links"] = "\n".join(line for line in [form.get("links", ""), *form.getlist("link")] if line.strip())
    return shown


def _form_page(form, error):
    return render_template("intel_form.html", form=form, error=error, sources=intel.SOURCE_KINDS,
                           evaluations=grading.SOURCE_EVALUATIONS, assessments=grading.ASSESSMENTS,
                           handling=grading.HANDLING_CODES, levels=clearance.LEVELS, link_kinds=intel.LINK_KINDS)


# ---------------------------------------------------------------- reading

@blueprint.get("/intel")
@requires("ReadIntelReports")
def reports():
    who = caller("intelligence reports")

    def work(session):
        reader = _reader(session)
        return render_template("intel_reports.html", views=intel.list_reports(session, who, reader, _today()),
                               reader=reader)
    html, error = run(work)
    if error:
        return render_template("error.html", title="Reports unavailable", message=error), 400
    return html


@blueprint.get("/intel/<reference>")
@requires("ReadIntelReports")
def report(reference: str):
    reference = _uuid_or_404(reference)
    who = caller("intelligence report")

    def work(session):
        view = intel.read_report(session, who, _reader(session), reference, _today())
        if view.access is clearance.Access.NONE:
            return None
        return render_template("intel_report.html", view=view, grading=grading,
                               sources=intel.SOURCE_KINDS, today=_today(),
                               may_review=may("ReviewIntelReports") or view.report.originator == g.user.user_name)
    html, error = run(work)
    if error:
        abort(404)
    if html is None:
        return render_template("error.html", title="Not permitted",
                               message="You have no need to know this report. The attempt has been logged."), 403
    return html


@blueprint.post("/intel/<reference>/review")
@requires("ReadIntelReports")
def review(reference: str):
    reference = _uuid_or_404(reference)
    who = caller("intelligence report review")
    try:
        review_by = dt.date.fromisoformat(request.form.get("review_by", "")[:10])
    except ValueError:
        flash("review_by: a date is required", "fail")
        return redirect(url_for("intel.report", reference=reference))
    reviewed, error = run(lambda s: intel.review_report(s, who, _reader(s), reference, review_by, _today()))
    if reviewed is None and error is None:
        abort(403)
    flash(error or f"Reviewed: next review by {review_by}.", "fail" if error else "pass")
    return redirect(url_for("intel.report", reference=reference))


@blueprint.get("/intel/<reference>/stix")
@requires("ReadIntelReports", "ExportIntel")
def export(reference: str):
    """The report's sanitised version as a STIX 2.1 bundle for partners, or why it may not go."""
    reference = _uuid_or_404(reference)
    who = caller("dissemination to partners")
    result, error = run(lambda s: stix.export(s, who, _reader(s), reference, _today()))
    if error:
        abort(404)
    if result.bundle is None:
        flash(f"Not exported: {result.refusal}.", "fail")
        return redirect(url_for("intel.report", reference=reference))
    return Response(result.bundle, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="limes-report-{reference[:8]}.stix.json"'})


# ---------------------------------------------------------------- the cycle

@blueprint.route("/intel/cycle", methods=["GET", "POST"])
@requires("IntelCycle")
def cycle_page():
    who = caller("intelligence cycle")
    error = None
    if request.method == "POST":
        form = request.form
        try:
            due = dt.date.fromisoformat(form["due"]) if form.get("due") else None
            parent = int(form["parent"]) if form.get("parent") else None
        except ValueError:
            due, parent, error = None, None, "due and tasking must be a date and a tasking"
        if error is None:
            new = cycle.NewStep(stage=form.get("stage", ""), title=form.get("title", ""),
                                owner=form.get("owner", "") or g.user.user_name, detail=form.get("detail", ""),
                                due=due, parent_id=parent, report_reference=form.get("report", "").strip())
            _, error = run(lambda s: cycle.add_step(s, who, _reader(s), new, may_task=may("IssueTasking")))
        if error is None:
            flash(f"{new.stage.capitalize()} recorded.", "pass")
            return redirect(url_for("intel.cycle_page"))

    def work(session):
        reader = _reader(session)
        return render_template("intel_cycle.html", taskings=cycle.unit_cycle(session, who, reader), reader=reader,
                               stages=cycle.STAGES, error=error, may_task=may("IssueTasking"), form=request.form)
    html, problem = run(work)
    if html is None:
        return render_template("error.html", title="Cycle unavailable", message=problem), 400
    return html, (400 if error else 200)


@blueprint.post("/intel/cycle/<int:step_id>/close")
@requires("IntelCycle")
def close(step_id: int):
    who = caller("intelligence cycle")
    _, error = run(lambda s: cycle.close_step(s, who, _reader(s), step_id))
    flash(error or "Closed.", "fail" if error else "pass")
    return redirect(url_for("intel.cycle_page"))
