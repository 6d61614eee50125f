"""The Flask application: composes the page modules, sign-in (auth.py), security headers and error pages."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from flask import Flask, Request, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from central.access.roles import Role
from central.alerts.face_matcher import FaceEnroller
from central.database import models as m
from central.database.engine import Database
from central.web import accounts, analysis, auth, desk, intelligence, network, passengers, profiles, trends, watchlists
from central.web import sites as sites_page
from central.web.auth import Context, WebSettings, context, may

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class StrictFormRequest(Request):
    """A request whose form body must parse: Werkzeug reads an unreadable one (bytes that are not UTF-8,
    a broken multipart body) as an empty form, which the CSRF check then calls an expired form."""

    def make_form_data_parser(self):
        parser = super().make_form_data_parser()
        parser.silent = False
        return parser


def create_app(database: Database, *, enroller: FaceEnroller | None = None, settings: WebSettings | None = None,
               clock: Callable[[], dt.datetime] = m.utcnow) -> Flask:
    settings = settings or WebSettings()
    app = Flask(__name__)
    app.request_class = StrictFormRequest
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="limes_csrf", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the signed-in session, which has its own limits
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,  # an uploaded photo
        TEMPLATES_AUTO_RELOAD=False,
    )
    timeouts = settings.timeouts
    failed_sign_ins = accounts.FailedSignInsBySource(timeouts.max_failed_per_source, timeouts.lockout)
    app.extensions["limes"] = Context(database, enroller, settings, clock, failed_sign_ins)
    _register_form_check(app)  # before the CSRF check, which reads the form
    CSRFProtect(app)
    auth.register(app)
    for module in (desk, watchlists, passengers, analysis, intelligence, network, profiles, trends, sites_page):
        app.register_blueprint(module.blueprint)
    _register_filters(app)

    @app.get("/favicon.ico")
    def favicon():
        # Where browsers look for an icon when a page names none (an error page of a proxy, say).
        return app.send_static_file("favicon.svg")

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


def _register_form_check(app: Flask) -> None:
    @app.before_request
    def form_is_readable():
        try:
            request.form  # parsed now, so that nothing after reads an unreadable body as an empty form
        except ValueError:
            return render_template("error.html", title="Form not readable",
                                   message="The form could not be read (it was not sent as UTF-8 form data). "
                                           "Go back, reload the page and try again."), 400
        return None


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
