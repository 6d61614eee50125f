"""Start the central gRPC server: migrations to head, the Central service, health and reflection."""
from __future__ import annotations

import logging
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from central.access.roles import AccessPolicy, apply_bootstrap
from central.alerts.face_matcher import FaceMatcher
from central.database.engine import Database, default_url
from central.records import evidence
from central.risk.rules import RiskRules
from central.rpc.desk import DeskServicer
from central.rpc.fingerprints import FingerprintServicer
from central.rpc.headquarters import HeadquartersLink
from central.rpc.servicer import CentralServicer
from central.stays.regime import StayRules
from central.travellers import files, fingerprints
from central.travellers.files import TravellerGallery
from common.sealing import Sealer
from proto.limes.v1 import (
    central_pb2,
    central_pb2_grpc,
    desk_pb2,
    desk_pb2_grpc,
    fingerprints_pb2,
    fingerprints_pb2_grpc,
)
from proto.tls import TlsFiles, add_port, require_choice

log = logging.getLogger(__name__)
SERVICE_NAME = central_pb2.DESCRIPTOR.services_by_name["Central"].full_name  # "limes.v1.Central"
DESK_SERVICE_NAME = desk_pb2.DESCRIPTOR.services_by_name["Desk"].full_name  # "limes.v1.Desk"
FINGERPRINTS_SERVICE_NAME = fingerprints_pb2.DESCRIPTOR.services_by_name["TravellerFingerprints"].full_name


def reseal_in_background(database: Database, batch: int = 200, pause_s: float = 1.0) -> int:
    """Seal, a batch per transaction with a pause between, every face image (and traveller file template)
    kept in clear or under
    an older key, until none is left; how many. So a key rotation (`limes central rotate-key`, then a
    restart) completes by itself without holding the writer for long."""
    resealed = 0
    try:
        while done := database.run(lambda session: evidence.reseal_images(session, batch)
                                   + files.reseal_templates(session, batch)
                                   + fingerprints.reseal_fingers(session, batch)):
            resealed += done
            time.sleep(pause_s)
    except Exception:  # a failed batch must not stop the server: the next start tries again
        log.exception("resealing face images stopped after %d", resealed)
        return resealed
    if resealed:
        log.info("resealed %d face image(s) under key %s", resealed, database.sealer.current)
    return resealed


def serve(address: str = "127.0.0.1:0", database_url: str | None = None, *,
          tls: TlsFiles | None = None, plaintext: bool = False,
          risk_rules: Path | None = None, face_matcher: FaceMatcher | None = None,
          max_workers: int = 16, metrics_port: int | None = None,
          access: AccessPolicy | None = None, role_cache_s: float = 5.0, reuse_port: bool = False,
          database_ready: bool = False, sealer: Sealer | None = None,
          stay_rules: StayRules | None = None,
          traveller_gallery: TravellerGallery | None = None,
          finger_gallery: fingerprints.FingerGallery | None = None,
          headquarters: HeadquartersLink | None = None) -> tuple[grpc.Server, int]:
    """Start serving and return at once: (the started server, the port it listens on).

    `tls`: the server's CA, certificate and key; callers must then present a
    certificate from that CA, and who they are comes from it (proto.tls).
    Without TLS, `plaintext=True` must be given: callers then name themselves
    in metadata, unverified (development only). TlsError when neither is given.
    The database (default: var/central.sqlite) is migrated to head first, so
    a new or old file is always usable. Stop with server.stop(grace).
    With metrics_port, Prometheus metrics are served on 127.0.0.1:metrics_port.
    `access` (default: AccessPolicy(), closed: nobody registered, no open access,
    whatever the database) says who may call what; AccessPolicy.demo() opens it for
    the demo. A caller's roles are read again after `role_cache_s` seconds at the latest.
    `max_workers` threads serve calls, each with a database connection of its own.
    `reuse_port`: other processes may listen on the same port (SO_REUSEPORT, the kernel spreads
    connections among them: central.rpc.processes); otherwise a second server on the port fails to start.
    `database_ready`: the database is migrated and the identities registered already (by the first process).
    `sealer`: seals the face images central keeps (common.sealing); None keeps them in clear.
    `stay_rules`: who the short-stay rule applies to, and who needs no traveller file
    (central.stays.regime); None: the defaults.
    `traveller_gallery`: the matcher's travellers gallery, where traveller files are deduplicated
    (central.travellers.files); without it no file is opened (CheckTravellerFile answers UNAVAILABLE
    for a traveller without one).
    `finger_gallery`: the matcher's finger gallery of the files' fingers (central.travellers.fingerprints,
    limes.v1.TravellerFingerprints); without it no finger is enrolled (UNAVAILABLE).
    `headquarters`: at a border post, headquarters' central, asked first for the stay on every post's
    crossings (central.rpc.headquarters); None: stays are judged on this database's crossings.
    """
    require_choice(tls, plaintext, "central")
    url = database_url or default_url()
    database = Database(url, pool_size=max_workers, sealer=sealer)
    policy = access if access is not None else AccessPolicy()
    if not database_ready:
        database.migrate()
        database.run(lambda session: apply_bootstrap(session, policy))
    if policy.open_access and not database_ready:
        log.warning("central OPEN ACCESS on %s: callers registered nowhere may read traveller histories, "
                    "referrals and crossings as officers. For the demo only: started without --open-access "
                    "(serve(access=AccessPolicy())) it is closed.", url)
    servicer = CentralServicer(database, RiskRules.load(risk_rules), face_matcher, policy=policy,
                               role_cache_s=role_cache_s, stay_rules=stay_rules,
                               traveller_gallery=traveller_gallery, headquarters=headquarters)
    # grpc turns SO_REUSEPORT on by default: two servers started on one port by mistake would share
    # its callers silently. Only a group of central processes (central.rpc.processes) asks for it.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="central"),
                         options=[("grpc.so_reuseport", int(reuse_port))])
    central_pb2_grpc.add_CentralServicer_to_server(servicer, server)
    desk_pb2_grpc.add_DeskServicer_to_server(DeskServicer(servicer), server)
    fingerprints_pb2_grpc.add_TravellerFingerprintsServicer_to_server(FingerprintServicer(servicer, finger_gallery),
                                                                      server)

    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", SERVICE_NAME, DESK_SERVICE_NAME, FINGERPRINTS_SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (SERVICE_NAME, DESK_SERVICE_NAME, FINGERPRINTS_SERVICE_NAME,
         health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server)

    port = add_port(server, address, tls, plaintext)
    if plaintext:
        log.warning("central on %s in PLAINTEXT: callers name themselves in metadata, unverified. "
                    "For development only; give it TLS files for anything else.", address)
    server.start()
    if sealer is not None and not database_ready:  # the first process of a group; one resealer is enough
        threading.Thread(target=reseal_in_background, args=(database,), name="central-reseal", daemon=True).start()
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from central.sites.monitoring import export as export_replication

        export_replication(database.engine)
        start_http_server(metrics_port, addr="127.0.0.1")
    return server, port
