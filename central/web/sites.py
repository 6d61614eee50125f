"""For administrators: replication between border posts and headquarters (docs/SITES.md, Monitoring).

Subscriptions and slots of this site's database: names of sites, positions and counts, no personal
data, so reading it is not audited. A single site (SQLite, or PostgreSQL without replication) says so.
"""
from __future__ import annotations

from flask import Blueprint, render_template

from central.sites.monitoring import read_state
from central.web.auth import context, requires

blueprint = Blueprint("sites", __name__)


@blueprint.get("/sites")
@requires("ReplicationStatus")
def status():
    state = read_state(context().db.engine)
    return render_template("sites.html", state=state)
