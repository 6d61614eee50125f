"""For analysts: the statistics dashboard and its CSV; for supervisors: the audit log."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, render_template, request

from central import reports
from central.access import audit as audit_log
from central.errors import InvalidArgument
from central.statistics import tables as stats
from central.web.auth import caller, context, requires, run

blueprint = Blueprint("analysis", __name__)

DEFAULT_DAYS = 30
# The days a statistics query may name. Crossings are dated by the system that recorded them, so a
# day outside these is a typo or a probe (9999-12-31 once overflowed central's date arithmetic).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
AUDIT_LIMITS = (50, 200, 1000)


# What the dashboard counts: crossings, or overstays (stays past their authorised last day).
SUBJECTS = ("crossings", "overstays")


def _subject() -> str:
    subject = request.args.get("subject", "crossings")
    return subject if subject in SUBJECTS else "crossings"


def _table(session, who, by, period, start, end):
    """The statistics table of the subject asked for; audited (central.reports)."""
    if _subject() == "overstays":
        return reports.overstay_statistics(session, who, by, period, start, end, context().clock().date())
    return reports.statistics(session, who, by, period, start, end)


def _query() -> tuple[tuple[str, ...], str, dt.date, dt.date]:
    today = context().clock().date()
    by = [d for d in request.args.getlist("by") if d]
    if "by" not in request.args:
        by = ["nationality"]
    period = request.args.get("period", "day")
    start = request.args.get("from") or (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    end = request.args.get("to") or today.isoformat()
    overstays = _subject() == "overstays"
    dims, period, first, last = stats.parse_request(() if overstays else by[:3], period, start[:10], end[:10])
    by = stats.parse_overstay_dimensions(by[:2]) if overstays else dims
    for name, day in (("from", first), ("to", last)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidArgument(name, f"{day} is outside {FIRST_DAY} to {LAST_DAY}")
    return by, period, first, last


@blueprint.get("/statistics")
@requires("Statistics")
def statistics():
    try:
        by, period, start, end = _query()
    except InvalidArgument as exc:
        return _statistics_page(None, str(exc), ("nationality",), "day", None, None), 400
    who = caller("statistics")
    table, error = run(lambda s: _table(s, who, by, period, start, end))
    return _statistics_page(table, error, by, period, start, end), (400 if error else 200)


def _statistics_page(table, error, by, period, start, end):
    series, chart = _chart(table) if table is not None else ([], [])
    subject = _subject()
    return render_template("statistics.html", table=table, error=error, by=by, period=period, start=start, end=end,
                           dimensions=stats.OVERSTAY_DIMENSIONS if subject == "overstays" else stats.DIMENSIONS,
                           subject=subject, subjects=SUBJECTS, periods=stats.PERIODS, series=series, chart=chart,
                           query=request.query_string.decode("ascii", "replace"))


def _chart(table: stats.Table) -> tuple[list[str], list[dict]]:
    """Bars per period, one per cell, scaled to the largest count shown; suppressed cells have no length."""
    series = sorted({" / ".join(c.values) or "all" for c in table.cells})
    peak = max([c.count for c in table.cells if not c.suppressed] or [1])
    periods = []
    for total in table.period_totals:
        bars = [{"label": " / ".join(c.values) or "all", "shown": c.shown, "suppressed": c.suppressed,
                 "width": 0 if c.suppressed else max(1, round(100 * c.count / peak)),
                 "colour": series.index(" / ".join(c.values) or "all") % 8}
                for c in table.cells if c.period == total.period]
        periods.append({"period": total.period, "total": total.shown, "bars": bars})
    return series, periods


@blueprint.get("/statistics.csv")
@requires("Statistics")
def statistics_csv():
    try:
        by, period, start, end = _query()
    except InvalidArgument as exc:
        return Response(f"{exc}\n", status=400, mimetype="text/plain")
    who = caller("statistics: CSV download")
    table, error = run(lambda s: _table(s, who, by, period, start, end))
    if error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    name = f"{_subject()}-{'-'.join(by) or 'total'}-{period}-{start}-{end}.csv"
    return Response(table.csv(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blueprint.get("/audit")
@requires("ReadAuditLog")
def audit():
    subject = request.args.get("subject", "")[:100]
    user = request.args.get("user", "")[:64]
    action = request.args.get("action", "")[:64]
    try:
        limit = int(request.args.get("limit", "200"))
    except ValueError:
        limit = 200
    limit = limit if limit in AUDIT_LIMITS else 200
    who = caller("audit review")
    entries, error = run(lambda s: audit_log.read_audit(s, who, limit, subject, user=user, action=action))
    return render_template("audit.html", entries=entries or [], error=error, subject=subject, user_filter=user,
                           action=action, limit=limit, limits=AUDIT_LIMITS)
