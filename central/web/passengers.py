"""Advance passenger data on the desk: flights with data, a flight's targeting list, its reconciliation, links.

Officers and supervisors see the targeting lists (ViewTargeting); supervisors also reconcile a flight
with its crossings (ReconcileApi) and see the values PNRs share (ReadPnrLinks). Every page is audited
by central.passengers (the flight or PNR it showed).
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request

from central.passengers.links import KINDS, linked_pnrs, shared_values
from central.passengers.reconciliation import reconcile
from central.passengers.targeting import list_flights, targeting_list
from central.web.auth import caller, requires, run

blueprint = Blueprint("passengers", __name__)


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


@blueprint.get("/flights")
@requires("ViewTargeting")
def flights():
    day = _day(request.args.get("date", ""))
    who = caller("advance passenger information: flights")
    rows, error = run(lambda s: list_flights(s, who, day))
    return render_template("flights.html", flights=rows or [], error=error, day=day), (400 if error else 200)


@blueprint.get("/flights/targets")
@requires("ViewTargeting")
def targets():
    flight = request.args.get("flight", "")[:80]
    everyone = request.args.get("everyone") == "1"
    who = caller("advance passenger information: targeting")
    rows, error = run(lambda s: targeting_list(s, who, flight, everyone))
    return (render_template("targets.html", flight=flight, targets=rows or [], error=error, everyone=everyone),
            404 if error else 200)


@blueprint.get("/flights/reconciliation")
@requires("ReconcileApi")
def reconciliation():
    flight = request.args.get("flight", "")[:80]
    border_point = request.args.get("border_point", "")[:32]
    result, error = None, None
    if border_point:
        who = caller("advance passenger information: reconciliation")
        result, error = run(lambda s: reconcile(s, who, flight, border_point))
    return (render_template("reconciliation.html", flight=flight, border_point=border_point, result=result,
                            error=error), 400 if error else 200)


@blueprint.get("/flights/links")
@requires("ReadPnrLinks")
def links():
    locator = request.args.get("locator", "").strip()[:16]
    kind = request.args.get("kind", "")
    kinds = (kind,) if kind in KINDS else KINDS
    who = caller("advance passenger information: network analysis")
    if locator:
        rows, error = run(lambda s: linked_pnrs(s, who, locator))
    else:
        rows, error = run(lambda s: shared_values(s, who, kinds))
    return (render_template("pnr_links.html", locator=locator, kind=kind, kinds=KINDS, rows=rows or [],
                            error=error), 404 if error else 200)
