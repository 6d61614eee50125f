"""Serve the web desk from the central process: waitress (a production WSGI server) on a thread."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from waitress.server import create_server

from central.alerts.face_matcher import FaceEnroller
from central.database.engine import Database
from central.web.app import create_app
from central.web.auth import WebSettings
from common.sealing import Sealer

log = logging.getLogger(__name__)


@dataclass
class WebServer:
    host: str
    port: int
    _server: object
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def stop(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)


def serve_web(address: str, database: Database | str, *, enroller: FaceEnroller | None = None,
              settings: WebSettings | None = None, threads: int = 4, sealer: Sealer | None = None) -> WebServer:
    """Start serving the web desk on host:port (port 0: a free one) and return at once."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"web address {address!r}: give host:port, e.g. 127.0.0.1:8080")
    if isinstance(database, str):
        database = Database(database, sealer=sealer)
    app = create_app(database, enroller=enroller, settings=settings)
    server = create_server(app, host=host.strip("[]"), port=int(port), threads=threads, ident="limes",
                           clear_untrusted_proxy_headers=True)
    thread = threading.Thread(target=server.run, name="web-desk", daemon=True)
    thread.start()
    bound = server.effective_port
    log.info("web desk on http://%s:%d/", host, bound)
    return WebServer(host.strip("[]"), bound, server, thread)
