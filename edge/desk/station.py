"""A desk station wired from a gate's configuration (edge.config, edge.runtime): the same devices,
checks, outbox and cached alert lists, with the officer's screen served on loopback (waitress) and the
document reader watched on a thread: a document placed on the reader starts its checks at once."""
from __future__ import annotations

import ipaddress
import logging
import threading
from dataclasses import dataclass

from waitress.server import create_server

from drivers.devices.docreader.reader import ReaderError
from edge.desk.counter import Counter, DeskError
from edge.desk.remote import DeskCentral
from edge.desk.screen import create_screen
from edge.runtime import GateConfig, RunningGate, start_gate

log = logging.getLogger(__name__)


@dataclass
class RunningDesk:
    running: RunningGate
    counter: Counter
    host: str
    port: int
    _server: object
    _threads: list[threading.Thread]
    _stop: threading.Event

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.counter.close()
        self.running.close()


def start_desk(config: GateConfig, screen: str = "127.0.0.1:0", *, watch_reader: bool = True) -> RunningDesk:
    """Start the desk: devices, services, the screen on `screen` (loopback only), the reader's watch."""
    host, _, port = screen.rpartition(":")
    if not port.isdigit() or not _is_loopback(host.strip("[]")):
        raise ValueError(f"screen address {screen!r}: give a loopback host:port, e.g. 127.0.0.1:8090 (the screen "
                         "is the officer's, on this machine only)")
    running = start_gate(config)
    counter = Counter(running.gate, DeskCentral(running.gate.central), outbox=running.outbox,
                      finger_quality=config.finger_quality)
    server = create_server(create_screen(counter), host=host.strip("[]"), port=int(port), threads=8, ident="limes",
                           clear_untrusted_proxy_headers=True)
    stop = threading.Event()
    threads = [threading.Thread(target=server.run, name="desk-screen", daemon=True)]
    if watch_reader:
        threads.append(threading.Thread(target=_watch_reader, args=(running, counter, stop), name="desk-reader",
                                        daemon=True))
    for thread in threads:
        thread.start()
    return RunningDesk(running, counter, host.strip("[]"), server.effective_port, server, threads, stop)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # not an address (a name, or none): refused with the screen's own message
        return False


def _watch_reader(running: RunningGate, counter: Counter, stop: threading.Event) -> None:
    """Each document the reader reads starts its checks (once an officer is signed in), with the page
    image under visible light when the reader sent one."""
    while not stop.is_set():
        try:
            capture = running.reader.wait_for_capture(0.5)
        except ReaderError as exc:  # reported, then waited out: the reader may come back
            log.warning("document reader: %s", exc)
            stop.wait(1.0)
            continue
        if capture is None:
            continue
        page = capture.image("V")
        try:
            counter.present(capture.mrz, page_image=page.data if page is not None else None)
        except DeskError as exc:
            log.warning("a document was read but not checked: %s", exc)
