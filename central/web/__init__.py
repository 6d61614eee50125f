"""The officers' web desk, served by the central process over central's database.

Server-rendered pages (Flask, Jinja2 with autoescaping) with a little
JavaScript that only improves them (the live queue refreshes itself); every
page works without it. See docs/WEB.md.

    from central.web import create_app
    app = create_app(Database(url), enroller=GrpcFaceMatcher(address, "watchlist", tls=tls))

central.web.server runs it in the central process (waitress).
"""
from central.web.app import create_app
from central.web.auth import WebSettings

__all__ = ["WebSettings", "create_app"]
