"""The Flask application: settings, sign-in, roles on every page, security headers.

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

from flask import Flask, abort, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from central.access import roles as access
from central.database import models as m
from central.access.roles import Role
from central.database.engine import Database
from central.errors import CentralError
from central.alerts.face_matcher import FaceEnroller
from central.access.audit import Caller, audit
from central.web import accounts

SESSION_COOKIE = "limes_session"
# Where the web desk's audit rows say the call came from (gRPC callers name their station).
WEB_STATION = "web-desk"
POLL_HEADER = "X-Limes-Poll"

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


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


def create_app(database: Database, *, enroller: FaceEnroller | None = None, settings: WebSettings | None = None,
               clock: Callable[[], dt.datetime] = m.utcnow) -> Flask:
    settings = settings or WebSettings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="limes_csrf", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the signed-in session, which has its own limits
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,  # an uploaded photo
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["limes"] = Context(database, enroller, settings, clock)
    CSRFProtect(app)

    from central.web import analysis, desk, watchlists

    for module in (desk, watchlists, analysis):
        app.register_blueprint(module.blueprint)
    _register_sign_in(app)
    _register_filters(app)

    @app.before_request
    def load_user() -> None:
        g.user = None
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            ctx = context()
            touch = request.headers.get(POLL_HEADER) != "1"
            g.user = ctx.db.run(lambda s: accounts.resume(s, token, ctx.clock(), touch=touch,
                                                          timeouts=ctx.settings.timeouts))

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        # Personal data: never kept in a browser or proxy cache.
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(error):
        return render_template("error.html", title="Form expired",
                               message="The form was not accepted (its security token is missing or expired). "
                                       "Go back, reload the page and try again."), 400

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("error.html", title="Not permitted",
                               message="Your role does not permit this page or action. It has been logged."), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title="Not found", message="There is nothing here."), 404

    @app.errorhandler(413)
    def too_large(error):
        return render_template("error.html", title="Too large",
                               message="The upload is larger than 8 MB."), 413

    return app


@dataclass(frozen=True)
class Context:
    db: Database
    enroller: FaceEnroller | None
    settings: WebSettings
    clock: Callable[[], dt.datetime]


def context() -> Context:
    from flask import current_app

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
    """Run service work in one transaction; central's errors come back as (None, message)."""
    try:
        return context().db.run(work), None
    except CentralError as exc:
        return None, str(exc)


def home_for(roles) -> str:
    if Role.OFFICER in roles or Role.SUPERVISOR in roles:
        return url_for("desk.queue")
    if Role.ADMINISTRATOR in roles:
        return url_for("watchlists.search")
    return url_for("analysis.statistics")


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site: never another host (an open redirect would help phishing).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _register_sign_in(app: Flask) -> None:
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
            result = ctx.db.run(lambda s: accounts.sign_in(s, caller("web desk sign-in"), name, password,
                                                           ctx.clock(), ctx.settings.timeouts))
            if result.token is None:
                error = result.refusal
            else:
                response = redirect(_safe_next(request.args.get("next")) or url_for("index"))
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
        response = redirect(url_for("sign_in"))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def _register_filters(app: Flask) -> None:
    @app.context_processor
    def helpers():
        return {"may": may, "user": g.get("user"), "Role": Role}

    @app.template_filter("when")
    def when(instant: dt.datetime | None) -> str:
        if instant is None:
            return ""
        instant = instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant
        return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    @app.template_filter("ago")
    def ago(instant: dt.datetime | None) -> str:
        if instant is None:
            return ""
        instant = instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant
        minutes = int((context().clock() - instant).total_seconds() // 60)
        if minutes < 1:
            return "just now"
        if minutes < 120:
            return f"{minutes} min ago"
        hours = minutes // 60
        return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"

    @app.template_filter("percent")
    def percent(score: float | None) -> str:
        return "" if score is None else f"{score * 100:.0f}%"
