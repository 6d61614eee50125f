"""Risk profiles for the intelligence role: write one (a new version of it), retire it, and see each
profile's yield (who it selected, what officers decided), poor yields flagged for review."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from central.intelligence import profiles, targeting
from central.intelligence.profiles import ProfileError
from central.web.auth import caller, context, requires, run

blueprint = Blueprint("profiles", __name__)


def conditions_of(form) -> dict:
    """The form's fields as profile conditions; empty fields are no condition."""
    def codes(name):
        return [c for c in form.get(name, "").replace(",", " ").split() if c]
    raw: dict = {}
    if codes("nationality"):
        raw["nationality"] = codes("nationality")
    routes = [r.strip() for r in form.get("route", "").split(",") if r.strip()]
    if routes:
        raw["route"] = routes
    if codes("document_type"):
        raw["document_type"] = codes("document_type")
    try:
        if form.get("age_from") or form.get("age_to"):
            raw["age_band"] = [int(form.get("age_from") or 0), int(form.get("age_to") or 120)]
        if form.get("min_crossings") or form.get("within_days"):
            raw["travel_pattern"] = {"min_crossings": int(form.get("min_crossings") or 1),
                                     "within_days": int(form.get("within_days") or 30)}
    except ValueError:
        raise ProfileError("ages, crossings and days are whole numbers") from None
    return raw


@blueprint.route("/profiles", methods=["GET", "POST"])
@requires("RiskProfiles")
def page():
    error = None
    if request.method == "POST":
        who = caller("risk profiles")
        name = request.form.get("name", "")
        try:
            weight = float(request.form.get("weight", ""))
            raw = conditions_of(request.form)
            profiles.parse(raw)
        except ValueError as exc:  # ProfileError is one; so is a weight that is no number
            error = str(exc) if isinstance(exc, ProfileError) else "weight: a number from 0 to 1 is required"
            context().db.run(lambda s: targeting.refused_profile(s, who, name, ProfileError(error)))
        else:
            written, error = run(lambda s: targeting.write_profile(
                s, who, name, raw, weight, request.form.get("rationale", "")).version)
            if error is None:
                flash(f"Profile {name.strip()} v{written} is in force: the gates apply it from their next traveller.",
                      "pass")
                return redirect(url_for("profiles.page"))

    def work(session):
        return render_template("profiles.html", yields=targeting.yields(session), error=error, form=request.form,
                               describe=profiles.describe, min_decided=targeting.MIN_DECIDED,
                               poor=targeting.POOR_YIELD)
    html, problem = run(work)
    if html is None:
        return render_template("error.html", title="Profiles unavailable", message=problem), 400
    return html, (400 if error else 200)


@blueprint.post("/profiles/<name>/retire")
@requires("RiskProfiles")
def retire(name: str):
    who = caller("risk profiles")
    _, error = run(lambda s: targeting.retire_profile(s, who, name[:64]))
    flash(error or f"Profile {name} retired: the gates no longer apply it.", "fail" if error else "pass")
    return redirect(url_for("profiles.page"))


