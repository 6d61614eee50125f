"""The trends page: weekly FRAN-style indicators by border point, route, nationality or document type,
a chart drawn as SVG on the server, and the anomalies flagged against their baselines; the monthly
bulletin built from them."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request

from central.errors import InvalidArgument
from central.intelligence import bulletin as monthly_bulletin
from central.intelligence import bulletin_pdf as bulletin_pdf_document
from central.intelligence import trends
from central.web.auth import caller, context, requires, run

blueprint = Blueprint("trends", __name__)
WIDTH, HEIGHT, PAD = 860, 260, 36


def chart(result: trends.Trends, indicator: str) -> list[dict]:
    """A line per top value: its points in the SVG. Suppressed (small) counts are drawn at zero."""
    values = result.top(indicator)
    series = result.counts.get(indicator, {})
    shown = {v: [series[v].get(w, 0) if series[v].get(w, 0) >= trends.MIN_CELL else 0 for w in result.weeks]
             for v in values}
    peak = max([max(c) for c in shown.values()] + [1])
    step = (WIDTH - 2 * PAD) / max(1, len(result.weeks) - 1)
    return [{"value": v, "colour": i % 8,
             "points": " ".join(f"{PAD + k * step:.1f},{HEIGHT - PAD - c / peak * (HEIGHT - 2 * PAD):.1f}"
                                for k, c in enumerate(counts))}
            for i, (v, counts) in enumerate(shown.items())] if values else []


@blueprint.get("/trends")
@requires("Trends")
def page():
    dimension = request.args.get("by", "border_point")
    indicator = request.args.get("indicator", "refusals")
    if indicator not in trends.INDICATORS:
        indicator = "refusals"
    try:
        weeks = int(request.args.get("weeks", "26"))
    except ValueError:
        weeks = 26
    today = context().clock().date()
    who = caller("risk analysis: trends")
    result, error = run(lambda s: trends.weekly(s, who, dimension, today, weeks, today))
    lines = chart(result, indicator) if result else []
    return render_template("trends.html", result=result, error=error, dimension=dimension, indicator=indicator,
                           weeks=weeks, dimensions=trends.DIMENSIONS, indicators=trends.INDICATORS, lines=lines,
                           width=WIDTH, height=HEIGHT, pad=PAD, min_cell=trends.MIN_CELL,
                           z_flag=trends.Z_FLAG), (400 if error else 200)




def _bulletin():
    """(the month's bulletin, None) or (None, an error response)."""
    today = context().clock().date()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    who = caller("risk analysis: monthly bulletin")
    try:
        month = monthly_bulletin.parse_month(request.args.get("month", last_month.strftime("%Y-%m")))
    except InvalidArgument as exc:
        return None, (render_template("error.html", title="No such month", message=str(exc)), 400)
    result, error = run(lambda s: monthly_bulletin.monthly(s, who, month, today))
    if error:
        return None, (render_template("error.html", title="Bulletin unavailable", message=error), 400)
    return result, None


@blueprint.get("/bulletin")
@requires("Trends")
def bulletin():
    """The monthly risk analysis bulletin (printable HTML); the last full month by default."""
    result, refused = _bulletin()
    if refused:
        return refused
    return render_template("bulletin.html", b=result, lines=chart(result.by_point, "refusals"), width=WIDTH,
                           height=HEIGHT, pad=PAD, min_cell=trends.MIN_CELL)


@blueprint.get("/bulletin.pdf")
@requires("Trends")
def bulletin_pdf():
    """The same bulletin as a PDF document (central.intelligence.bulletin_pdf)."""
    result, refused = _bulletin()
    if refused:
        return refused
    return Response(bulletin_pdf_document.render(result), mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="risk-analysis-bulletin-{result.month:%Y-%m}.pdf"'})
