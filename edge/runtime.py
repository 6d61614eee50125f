"""Wire a gate to its devices and services from a configuration.

Devices are named the way an installer names them: the document reader by a
pyserial URL (a device path, or a pty for the simulator), the camera by an
OpenCV source (an index, a file, an RTSP/HTTP URL), the chip reader by its
PC/SC name, the trusted CSCAs by files or folders (PEM/DER, master lists, CRLs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drivers.camera import Camera
from drivers.docreader import DocumentReader
from drivers.passiveauth import CscaStore
from edge.capture import capture_face
from edge.chip import ChipPhotoSource
from edge.gate import Gate, Station
from edge.policy import Policy
from edge.services import CentralService, MatcherService
from proto.clients import CentralClient, MatcherClient


@dataclass(frozen=True)
class GateConfig:
    station: Station
    reader_url: str
    camera_source: str
    chip_reader: str
    csca_paths: tuple[Path, ...]
    central_address: str
    matcher_address: str
    capture_budget_s: float = 4.0
    policy: Policy = field(default_factory=Policy)


@dataclass
class RunningGate:
    gate: Gate
    reader: DocumentReader
    camera: Camera
    clients: tuple

    def close(self) -> None:
        self.gate.close()
        self.reader.close()
        self.camera.close()
        for client in self.clients:
            client.close()


def start_gate(config: GateConfig) -> RunningGate:
    store = CscaStore()
    for path in config.csca_paths:
        store.load_dir(path) if Path(path).is_dir() else store.load_file(path)
    reader = DocumentReader(config.reader_url)
    camera = Camera(config.camera_source)
    central = CentralClient(config.central_address,
                            metadata=(("x-limes-station", config.station.station_id),))
    matcher = MatcherClient(config.matcher_address)
    gate = Gate(
        station=config.station,
        photo_source=ChipPhotoSource(config.chip_reader, store),
        capture_face=lambda: capture_face(camera, budget_s=config.capture_budget_s),
        central=CentralService(central),
        matcher=MatcherService(matcher),
        policy=config.policy,
    )
    return RunningGate(gate, reader, camera, (central, matcher))
