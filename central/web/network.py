"""Link analysis pages: the network around a person (a graph drawn as SVG on the server, no script, and
its edges as a table) and co-travel groups. For the intelligence role; every query is audited. Edges from
passenger data (PNRs) are drawn for those who may read PNR links (ReadPnrLinks)."""
from __future__ import annotations

import datetime as dt

import networkx as nx
from flask import Blueprint, render_template, request, url_for
from sqlalchemy import select

from central.database import models as m
from central.database.keys import parse_key
from central.errors import InvalidArgument
from central.intelligence import clearance
from central.intelligence import network as links
from central.intelligence.network import CoTravelQuery, co_travel_groups, person_network, traveller_by_document
from central.web.auth import caller, context, may, requires, run

blueprint = Blueprint("network", __name__)
WIDTH, HEIGHT, MARGIN = 860, 560, 60


def _query() -> CoTravelQuery:
    try:
        return CoTravelQuery(window=dt.timedelta(minutes=int(request.args.get("window", "10"))),
                             min_together=int(request.args.get("k", "3")),
                             lookback=dt.timedelta(days=int(request.args.get("days", "365"))))
    except ValueError:
        raise InvalidArgument("query", "window, k and days are whole numbers") from None


def drawing(graph: nx.Graph) -> dict:
    """Where each node and edge goes in the SVG (spring layout, fixed seed: the same graph looks the same)."""
    if not graph:
        return {"nodes": [], "edges": []}
    positions = nx.spring_layout(graph, seed=19) if len(graph) > 1 else {n: (0.0, 0.0) for n in graph}
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0

    def place(node):
        x, y = positions[node]
        return (round(MARGIN + (x - min(xs)) / span_x * (WIDTH - 2 * MARGIN), 1),
                round(MARGIN + (y - min(ys)) / span_y * (HEIGHT - 2 * MARGIN), 1))
    nodes = [{"id": n, "x": place(n)[0], "y": place(n)[1], "label": data.get("label", n), "kind": data.get("kind"),
              "centre": data.get("centre", False),
              "href": url_for("network.person", traveller=n[1:]) if data.get("kind") == "person" else None}
             for n, data in graph.nodes(data=True)]
    edges = [{"x1": place(a)[0], "y1": place(a)[1], "x2": place(b)[0], "y2": place(b)[1],
              "reasons": data["reasons"], "kind": _edge_kind(data["reasons"])} for a, b, data in graph.edges(data=True)]
    return {"nodes": nodes, "edges": edges}


def _edge_kind(reasons: list[str]) -> str:
    if any(r.startswith("named in report") for r in reasons):
        return "report"
    if any(r.startswith("same document") for r in reasons):
        return "document"
    return "passenger" if any(links.from_passenger_data(r) for r in reasons) else "travel"


@blueprint.get("/network")
@requires("LinkAnalysis")
def person():
    who = caller("link analysis")
    traveller, document = request.args.get("traveller", "").strip(), request.args.get("document", "").strip()[:40]
    depth = 2 if request.args.get("depth") == "2" else 1
    try:
        query = _query()
    except InvalidArgument as exc:
        return _page(None, str(exc), depth, None), 400
    if not traveller and not document:
        return _page(None, None, depth, query)

    def work(session):
        start = traveller_by_document(session, who, document) if document else parse_key(traveller)
        if start is None:
            return None
        reader = clearance.reader(session, who.user, reviewer=may("ReviewIntelReports"))
        network = person_network(session, who, reader, start, query, context().clock(), depth,
                                 passenger_data=may("ReadPnrLinks"))
        labels = dict(network.graph.nodes(data="label"))
        table = [(labels.get(a, a), labels.get(b, b), reasons) for a, b, reasons in network.edges()]
        return network, table
    if traveller and parse_key(traveller) is None:
        return _page(None, "traveller: a traveller's key (a UUID) is required", depth, query), 400
    result, error = run(work)
    if result is None and error is None:
        error = f"no document {document!r} is known"
    return _page(result, error, depth, query), (400 if error else 200)


def _page(result, error, depth, query):
    network, table = result if result else (None, [])
    return render_template("network.html", network=network, table=table, error=error, depth=depth,
                           query=query or CoTravelQuery(), picture=drawing(network.graph) if network else None,
                           width=WIDTH, height=HEIGHT, args=request.args)


@blueprint.get("/network/groups")
@requires("LinkAnalysis")
def groups():
    who = caller("link analysis: co-travel groups")
    point = request.args.get("border_point", "")[:32]
    try:
        query = _query()
    except InvalidArgument as exc:
        return render_template("groups.html", groups=[], error=str(exc), points=[], point=point,
                               query=CoTravelQuery(), args=request.args), 400

    def work(session):
        points = list(session.scalars(select(m.BorderPoint.code).order_by(m.BorderPoint.code)))
        found = co_travel_groups(session, who, query, context().clock(), point) if "k" in request.args else None
        return render_template("groups.html", groups=found, error=None, points=points, point=point, query=query,
                               args=request.args)
    html, error = run(work)
    if error:
        return render_template("error.html", title="Query refused", message=error), 400
    return html
