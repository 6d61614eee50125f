"""Wire a gate to its devices and services from a configuration.

Devices are named the way an installer names them: the document reader by a
pyserial URL (a device path, or a pty for the simulator), the camera by an
OpenCV source (an index, a file, an RTSP/HTTP URL), the chip reader by its
PC/SC name, the trusted CSCAs by files or folders (PEM/DER, master lists, CRLs).

With a state folder the gate keeps `edge.sqlite` there: the outbox every record
goes through and the cached alert list it checks against while central is down.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from common.sealing import open_or_create
from drivers.devices.camera import Camera
from drivers.devices.docreader import DocumentReader
from drivers.devices.fingerprint.zfm import ZfmScanner
from drivers.emrtd.passiveauth import CscaStore
from drivers.emrtd.passiveauth.store import DEFAULT_CRL_POLICY, CrlLoad
from drivers.face import load_models
from edge.alert_cache import AlertCache
from edge.capture import capture_face, longest_capture_s
from edge.chip import ChipPhotoSource, load_terminal
from edge.fingerprints import GateFingerprints
from edge.gate import Gate, GateStation
from edge.outbox import STATE_FILE, Backoff, Outbox
from edge.policy import Policy
from edge.remote import RemoteCentral, RemoteMatcher
from proto.clients import CentralClient, MatcherClient
from proto.tls import TlsFiles


@dataclass(frozen=True)
class GateConfig:
    station: GateStation
    reader_url: str
    camera_source: str
    chip_reader: str
    csca_paths: tuple[Path, ...]
    central_address: str
    matcher_address: str
    # Mutual TLS with central and the matcher: the CA and this station's certificate and key.
    # Without it, plaintext must be chosen (development only: central then trusts the station id as sent).
    tls: TlsFiles | None = None
    plaintext: bool = False
    capture_budget_s: float = 4.0
    policy: Policy = field(default_factory=Policy)
    # Where edge.sqlite lives; None = no outbox and no alert cache (records are lost while central is down).
    state_dir: Path | None = None
    alert_refresh_s: float = 60.0
    outbox_backoff: Backoff = Backoff()
    # Prometheus metrics (outcomes, step latencies, outbox backlog) on 127.0.0.1:metrics_port; None = not served.
    metrics_port: int | None = None
    # Seconds per transaction step, over edge.gate.DEFAULT_BUDGETS.
    budgets: dict[str, float] = field(default_factory=dict)
    # The key file that seals the outbox's records at rest (common.sealing); kept outside state_dir.
    key_file: Path | None = None
    # What a stale CRL does to dsc.revocation: "refer" (fails it) or "warn" (passes it, saying so).
    crl_policy: str = DEFAULT_CRL_POLICY
    # The fingerprint scanner (pyserial URL of a ZFM-family module) and the folder of the gate's EAC
    # credentials (edge.chip.load_terminal): with both, DG3's fingers are verified 1:1 (edge.fingerprints).
    fingerprint_scanner: str | None = None
    eac_terminal: Path | None = None
    # The quality (0-100, drivers.fingerprint.quality) below which a desk takes a slap again.
    finger_quality: int = 35


log = logging.getLogger(__name__)


class CrlRefresher:
    """Re-reads the CRLs of the trust folders every `every_s` seconds (CscaStore.refresh_crls: changed
    files only, the newest good CRL per issuer kept), on a daemon thread, so that a CRL dropped into
    the folder is used without restarting the gate. A refused CRL is logged and changes nothing."""

    def __init__(self, store: CscaStore, folders: list[Path], every_s: float) -> None:
        self.store, self.folders, self.every_s = store, folders, every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> list[CrlLoad]:
        loads = []
        for folder in self.folders:
            try:
                loads += self.store.refresh_crls(folder)
            except OSError as exc:
                log.warning("CRL refresh of %s failed: %s", folder, exc)
        for load in loads:
            if load.status == "refused":
                log.warning("CRL %s refused: %s", load.path, load.reason)
            elif load.status == "accepted":
                log.info("CRL %s of %s now in use", load.path, load.issuer)
        return loads

    def start(self) -> None:
        if self.folders and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="crl-refresh", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.refresh()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@dataclass
class RunningGate:
    gate: Gate
    reader: DocumentReader
    camera: Camera
    clients: tuple
    outbox: Outbox | None = None
    alerts: AlertCache | None = None
    crls: CrlRefresher | None = None

    def close(self) -> None:
        if self.crls is not None:
            self.crls.close()
        self.gate.close()
        if self.outbox is not None:
            self.outbox.close()
        if self.alerts is not None:
            self.alerts.close()
        self.reader.close()
        self.camera.close()
        for client in self.clients:
            client.close()


def start_gate(config: GateConfig) -> RunningGate:
    if config.tls is not None:
        _check_certificate(config.tls, config.station.station_id)
    store = CscaStore(crl_policy=config.crl_policy)
    for path in config.csca_paths:
        store.load_dir(path) if Path(path).is_dir() else store.load_file(path)
    # CRLs in the trust folders are re-read as often as the alert list is refreshed
    crls = CrlRefresher(store, [Path(p) for p in config.csca_paths if Path(p).is_dir()], config.alert_refresh_s)
    reader = DocumentReader(config.reader_url)
    camera = Camera(config.camera_source)
    # Under TLS the certificate names the station and the metadata only repeats it.
    central = CentralClient(config.central_address, tls=config.tls, plaintext=config.plaintext,
                            metadata=(("x-limes-station", config.station.station_id),))
    matcher = MatcherClient(config.matcher_address, tls=config.tls, plaintext=config.plaintext)
    central_service = RemoteCentral(central)
    outbox = alerts = None
    if config.state_dir is not None:
        config.state_dir.mkdir(parents=True, exist_ok=True)
        database = config.state_dir / STATE_FILE
        sealer = open_or_create(config.key_file) if config.key_file is not None else None
        outbox = Outbox(database, central_service.deliver, backoff=config.outbox_backoff, sealer=sealer)
        alerts = AlertCache(database, central_service.alert_delta)
    load_models()  # now, not while the first traveller waits
    terminal = load_terminal(config.eac_terminal) if config.eac_terminal is not None else None
    fingerprints = None
    if config.fingerprint_scanner is not None:
        scanner_url = config.fingerprint_scanner
        fingerprints = GateFingerprints(lambda: ZfmScanner(scanner_url))
    gate = Gate(
        station=config.station,
        photo_source=ChipPhotoSource(config.chip_reader, store, terminal=terminal),
        fingerprints=fingerprints,
        capture_face=lambda: capture_face(camera, budget_s=config.capture_budget_s),
        central=central_service,
        matcher=RemoteMatcher(matcher),
        policy=config.policy,
        outbox=outbox,
        alerts=alerts,
        # The capture loop ends itself at its own budget; the step's is a guard against a stalled camera.
        budgets={"face_capture": longest_capture_s(config.capture_budget_s) + 2.0, **config.budgets},
    )
    if outbox is not None:
        outbox.start()  # first of all, what a previous run left unsent
        alerts.start(config.alert_refresh_s)
    crls.start()
    if config.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(config.metrics_port, addr="127.0.0.1")
    return RunningGate(gate, reader, camera, (central, matcher), outbox, alerts, crls)


def _check_certificate(tls: TlsFiles, station_id: str) -> None:
    """TlsError unless the files load and the certificate is this station's (central would refuse the rest)."""
    from proto.tls import TlsError, certificate_identity

    _, certificate, _ = tls.read()
    holder = certificate_identity(certificate)
    if (holder.kind, holder.name) != ("station", station_id):
        raise TlsError(f"TLS certificate {tls.certificate} names {holder.kind or 'no station or user'} "
                       f"{holder.name!r}, not station {station_id!r}")
