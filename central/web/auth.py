"""Who is asking, and may they: the signed-in user, sign-in and sign-out, roles on every page.

The page modules (desk, watchlists, analysis) take from here what they need:
the request's context, the caller for audit rows, `@requires(...)` and
`run(...)`; app.py only composes them, so no page module imports app.py.

Every page names the access operation it needs (central.access.roles.PERMISSIONS):
`@requires("ListReferrals")`. The user's roles are read again on every
request, so a revoked role takes effect at once. A refusal is answered 403
and audited, like a refused gRPC call.
"""
from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for

from central.access import roles as access
from central.access.audit import Caller, audit
from central.access.roles import Role
from central.access.scope import NeedToKnowDenied
from central.alerts.face_matcher import FaceEnroller
from central.database.engine import Database
from central.errors import CentralError
from central.stays.regime import StayRules
from central.web import accounts

SESSION_COOKIE = "limes_session"
# Where the web desk's audit rows say the call came from (gRPC callers name their station).
WEB_STATION = "web-desk"
POLL_HEADER = "X-Limes-Poll"


@dataclass(frozen=True)
class WebSettings:
    # Signs the CSRF cookie; random per start unless given (LIMES_WEB_SECRET_KEY): a restart then
    # invalidates forms left open, not sessions.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    # Mark cookies Secure: set when served over HTTPS (behind a TLS-terminating proxy).
    secure_cookies: bool = False
    timeouts: accounts.Timeouts = accounts.Timeouts()
    # Seconds between refreshes of the live referral queue.
    queue_refresh_s: int = 5
    # Who the 90/180 rule applies to, as for central's servicer: a refusal replays the traveller's stays.
    stay_rules: StayRules = field(default_factory=StayRules)


@dataclass(frozen=True)
class Context:
    db: Database
    enroller: FaceEnroller | None
    settings: WebSettings
    clock: Callable[[], dt.datetime]
    failed_sign_ins: accounts.FailedSignInsBySource


def context() -> Context:
    return current_app.extensions["limes"]


def caller(purpose: str = "") -> Caller:
    return Caller(station=WEB_STATION, user=g.user.user_name if g.get("user") else "", purpose=purpose)


def may(operation: str) -> bool:
    user = g.get("user")
    return user is not None and access.permits(set(user.roles), operation)


def requires(*operations: str):
    """The page needs a signed-in user whose roles permit every operation; else sign-in, or 403 (audited)."""
    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if g.get("user") is None:
                if request.method == "GET" and request.headers.get(POLL_HEADER) != "1":
                    return redirect(url_for("sign_in", next=request.full_path.rstrip("?")))
                abort(401)
            missing = [op for op in operations if not may(op)]
            if missing:
                deny(f"{request.method} {request.path}: {', '.join(missing)} not permitted to roles "
                     f"{', '.join(sorted(r.value for r in g.user.roles))}", missing[0])
            return view(*args, **kwargs)
        return guarded
    return decorate


def deny(outcome: str, operation: str):
    ctx = context()
    who = caller("access control")
    ctx.db.run(lambda s: audit(s, who, operation, request.path[:400], f"PERMISSION_DENIED: {outcome}"[:200],
                               "access control"))
    abort(403)


def run(work):
    """Run service work in one transaction; central's errors come back as (None, message).

    A refusal of need to know (central.access.scope: a record of another agency, a border point not the
    user's) is answered 403 and audited, as a refused role is: its message starts with the operation.
    """
    try:
        return context().db.run(work), None
    except NeedToKnowDenied as exc:
        deny(str(exc), str(exc).split(":", 1)[0][:64])
    except CentralError as exc:
        return None, str(exc)


def home_for(roles) -> str:
    if Role.OFFICER in roles or Role.SUPERVISOR in roles:
        return url_for("desk.queue")
    if Role.ADMINISTRATOR in roles:
        return url_for("watchlists.search")
    if Role.INTELLIGENCE in roles:
        return url_for("intel.reports")
    return url_for("analysis.statistics")


def same_site_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: never another host (an open redirect helps phishing).

    Judged as a browser would read it: browsers drop tabs and newlines anywhere in a URL and take a
    backslash for a slash, so `/<tab>/evil.example` and `/<backslash>evil.example` both mean
    `//evil.example`, another host. Whitespace and control characters are refused outright (a
    newline in a Location header would be header injection), the rest judged with backslashes as slashes.
    """
    if not target or any(char.isspace() or not char.isprintable() for char in target):
        return None
    as_browser_reads_it = target.replace("\\", "/")
    parts = urlsplit(as_browser_reads_it)
    if parts.scheme or parts.netloc or not as_browser_reads_it.startswith("/") or as_browser_reads_it.startswith("//"):
        return None
    return target


def register(app: Flask) -> None:
    """The user of every request, the start page, sign-in and sign-out."""
    @app.before_request
    def load_user() -> None:
        g.user = None
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            ctx = context()
            touch = request.headers.get(POLL_HEADER) != "1"
            g.user = ctx.db.run(lambda s: accounts.resume(s, token, ctx.clock(), touch=touch,
                                                          timeouts=ctx.settings.timeouts))

    @app.get("/")
    def index():
        if g.user is None:
            return redirect(url_for("sign_in"))
        return redirect(home_for(g.user.roles))

    @app.route("/sign-in", methods=["GET", "POST"])
    def sign_in():
        error = None
        if request.method == "POST":
            ctx = context()
            name, password = request.form.get("user", ""), request.form.get("password", "")
            source = request.remote_addr or ""
            result = ctx.db.run(lambda s: accounts.sign_in(s, caller("web desk sign-in"), name, password,
                                                           ctx.clock(), ctx.settings.timeouts, source=source,
                                                           failures=ctx.failed_sign_ins))
            if result.token is None:
                error = result.refusal
            else:
                # A new signed-in session gets a new CSRF token: one seen before sign-in is worth nothing after.
                session.clear()
                response = redirect(same_site_path(request.args.get("next")) or url_for("index"))
                response.set_cookie(SESSION_COOKIE, result.token, httponly=True, samesite="Strict",
                                    secure=ctx.settings.secure_cookies, path="/")
                return response
        return render_template("sign_in.html", error=error), (401 if error else 200)

    @app.post("/sign-out")
    def sign_out():
        ctx = context()
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            who = caller("web desk sign-in")
            ctx.db.run(lambda s: accounts.sign_out(s, who, token, ctx.clock()))
        # Nor does the signed-out browser keep its CSRF token (a form left open elsewhere no longer posts).
        session.clear()
        response = redirect(url_for("sign_in"))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
