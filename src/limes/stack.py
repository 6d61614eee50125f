"""Start the central and matcher gRPC servers on loopback, in this process.

Used by `limes demo` and by the end-to-end tests: the servers are the real
ones (real gRPC over mutual TLS, SQLite file, FAISS with its log), only
co-located. Their development PKI (proto.dev_pki) is made in `pki/` of the
state folder; a client asks `Services` for the certificate of its station or user.
Port 0 picks free ports; --serve uses the fixed defaults so people can find them.
"""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from common.sealing import Sealer, open_or_create
from proto.dev_pki import DevPki, dev_certs
from proto.tls import TlsFiles

DEFAULT_CENTRAL_PORT = 50051
DEFAULT_MATCHER_PORT = 50052
DEFAULT_WEB_PORT = 8080
# The matcher gallery the gates search and the web desk enrols faces into.
WATCHLIST = "watchlist"
# The matcher gallery of the traveller files' faces, searched and written by central only.
TRAVELLERS = "travellers"
# The demo's administrator: central's bootstrap administrator (AccessPolicy.demo) and the one user the
# demo's matcher lets administer its galleries.
DEMO_ADMINISTRATOR = "demo-admin"
# The matcher's finger gallery of the traveller files' fingers (enrolled at a counter desk), central's only.
TRAVELLER_FINGERS = "traveller-fingers"
# The demo's central treats one nationality as visa-required (the desk-visa-holder scenario's traveller;
# no gate traveller has it): the stay of such a traveller comes from a short-stay visa on record.
DEMO_VISA_REQUIRED = frozenset({"IND"})


def demo_stay_rules():
    from central.stays.regime import StayRules

    return StayRules(visa_required=DEMO_VISA_REQUIRED)


@dataclass(frozen=True)
class Services:
    central_address: str
    matcher_address: str
    database_url: str
    pki_dir: Path
    # The grpc.Server objects, for tests that take a service down.
    central_server: Any = None
    matcher_server: Any = None
    # The officers' web desk (central.web.server.WebServer), when started.
    web: Any = None
    # Central's client of the matcher's TRAVELLERS gallery (it outlives a restarted central).
    traveller_gallery: Any = None
    # Central's client of the matcher's TRAVELLER_FINGERS gallery.
    finger_gallery: Any = None

    @property
    def web_url(self) -> str | None:
        return self.web.url if self.web is not None else None

    @property
    def server_tls(self) -> TlsFiles:
        """The services' own certificate (central presents it to the matcher too)."""
        return DevPki(self.pki_dir).server()

    def station_tls(self, station_id: str) -> TlsFiles:
        """The CA and a certificate of this station (issued on first use)."""
        return DevPki(self.pki_dir).station(station_id)

    def user_tls(self, name: str) -> TlsFiles:
        """The CA and a certificate of this user (issued on first use)."""
        return DevPki(self.pki_dir).user(name)

    def sealer(self) -> Sealer:
        """What central seals its face images with (the key file beside the PKI, made on first use)."""
        return open_or_create(demo_key_file(self.pki_dir.parent))


def demo_key_file(state_dir: Path) -> Path:
    # Beside the demo's state for a demo: a real post keeps it apart from its data (common.settings.key_file).
    return state_dir / "keys" / "at-rest.key"


@contextmanager
def local_services(state_dir: Path, *, central_port: int = 0, matcher_port: int = 0,
                   web_port: int | None = None) -> Iterator[Services]:
    """Central and the matcher; with web_port (0: a free one) also central's web desk, which
    enrols faces into the matcher's WATCHLIST gallery."""
    from central.access.roles import AccessPolicy
    from central.alerts.matcher_client import GrpcFaceMatcher
    from central.rpc.server import serve as serve_central
    from central.travellers.finger_gallery import GrpcFingerGallery
    from matcher.server import serve as serve_matcher

    state_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{state_dir / 'central.sqlite'}"
    tls = dev_certs(state_dir / "pki").server  # the demo gate's and administrator's too (dev_certs defaults)
    sealer = open_or_create(demo_key_file(state_dir))
    # The matcher first: central deduplicates traveller files in its TRAVELLERS gallery.
    matcher, matcher_bound = serve_matcher(f"127.0.0.1:{matcher_port}", state_dir / "matcher", tls=tls,
                                           sealer=sealer, administrators=(DEMO_ADMINISTRATOR,))
    travellers = GrpcFaceMatcher(f"127.0.0.1:{matcher_bound}", TRAVELLERS, tls=tls)
    fingers = GrpcFingerGallery(f"127.0.0.1:{matcher_bound}", TRAVELLER_FINGERS, tls=tls)
    try:
        # The demo opts in to open access, by name: a server is closed unless told otherwise.
        central, central_bound = serve_central(f"127.0.0.1:{central_port}", database_url, tls=tls,
                                               access=AccessPolicy.demo(), sealer=sealer,
                                               traveller_gallery=travellers, stay_rules=demo_stay_rules(),
                                               finger_gallery=fingers)
    except BaseException:
        travellers.close()
        fingers.close()
        matcher.stop(grace=0).wait()
        matcher.registry.close()
        raise
    try:
        web = enroller = None
        try:
            if web_port is not None:
                from central.web.server import serve_web

                enroller = GrpcFaceMatcher(f"127.0.0.1:{matcher_bound}", WATCHLIST, tls=tls, timeout=10)
                web = serve_web(f"127.0.0.1:{web_port}", database_url, enroller=enroller, sealer=sealer)
            yield Services(f"127.0.0.1:{central_bound}", f"127.0.0.1:{matcher_bound}", database_url,
                           state_dir / "pki", central_server=central, matcher_server=matcher, web=web,
                           traveller_gallery=travellers, finger_gallery=fingers)
        finally:
            if web is not None:
                web.stop()
                enroller.close()
    finally:
        central.stop(grace=1).wait()
        travellers.close()
        fingers.close()
        matcher.stop(grace=1).wait()
        matcher.registry.close()


def restart_central(services: Services) -> Services:
    """Central started again on the address and database it had, after a test stopped it.

    The new server is the caller's to stop: local_services stops only the one it started.
    """
    from central.access.roles import AccessPolicy
    from central.rpc.server import serve as serve_central

    server, _ = serve_central(services.central_address, services.database_url, tls=services.server_tls,
                              access=AccessPolicy.demo(), sealer=services.sealer(),
                              traveller_gallery=services.traveller_gallery, stay_rules=demo_stay_rules(),
                              finger_gallery=services.finger_gallery)
    return dataclasses.replace(services, central_server=server)
