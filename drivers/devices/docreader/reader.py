"""The host side of the document reader link, over any pyserial URL.

A background thread owns the port: it decodes frames, ACKs good ones, NAKs garbled
ones, drops retransmitted copies, and reopens the port with a growing delay when it
vanishes. Callers only see ReaderEvents and the reader's last known status.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

import serial

from drivers.devices.docreader.images import IMAGE_KIND, ImageAssembler, LostImage, PageImage
from drivers.devices.docreader.protocol import (
    ACK,
    NAK,
    Control,
    Frame,
    FrameDecoder,
    FrameKind,
    Garbled,
    Noise,
    Status,
    mrz_text,
    read_status,
)

log = logging.getLogger(__name__)

_READ_SLICE = 0.05          # how long one read may block, so close() is prompt
_BACKOFF_FIRST = 0.05
_BACKOFF_MAX = 2.0


class ReaderError(RuntimeError):
    """The reader cannot be used: port unavailable, reader fault, or reader closed."""


@dataclass(frozen=True)
class ReaderEvent:
    # 'mrz' | 'image' | 'image_lost' | 'present' | 'removed' | 'ready' | 'error' | 'disconnected' | 'connected'
    kind: str
    mrz: str | None = None  # the MRZ lines joined by '\n', for kind 'mrz' ('' when the reader could not read it)
    detail: str = ""        # for 'image_lost': why
    image: PageImage | None = None   # for kind 'image'


@dataclass(frozen=True)
class DocumentCapture:
    """What the reader sent for one document: its page images, then its MRZ text.

    `mrz` is '' when the reader's own OCR could not read the MRZ: the host then reads it from
    the visible-light image (drivers.pageimage). `lost_images` says why an image did not arrive.
    """

    mrz: str
    images: tuple[PageImage, ...] = ()
    lost_images: tuple[str, ...] = ()

    def image(self, light: str = "V") -> PageImage | None:
        """The image under `light` (a docreader Light or its letter), if one came."""
        return next((image for image in self.images if image.light.value == getattr(light, "value", light)), None)


@dataclass
class LinkStats:
    frames: int = 0         # good frames taken (duplicates excluded)
    duplicates: int = 0     # retransmitted copies of frames already taken
    naks_sent: int = 0      # garbled frames refused
    noise_bytes: int = 0    # bytes outside any frame, discarded
    reconnects: int = 0
    images: int = 0         # page images put together
    images_lost: int = 0    # page images malformed, cut short or failing their CRC
    last_garbled: str = field(default="")


_STATUS_EVENTS = {Status.READY: "ready", Status.PRESENT: "present",
                  Status.REMOVED: "removed", Status.ERROR: "error"}


class DocumentReader:
    """An OCR-B document reader on a serial line.

    `url` is anything serial.serial_for_url accepts: a device path, a pty, 'loop://'.
    `frame_timeout` is the longest silence tolerated inside a frame before it is NAKed.
    """

    def __init__(self, url: str, *, baudrate: int = 115200, frame_timeout: float = 1.0):
        self.url = url
        self.baudrate = baudrate
        self.frame_timeout = frame_timeout
        self.stats = LinkStats()
        self._events: queue.Queue[ReaderEvent] = queue.Queue()
        self._write_lock = threading.Lock()
        self._closing = threading.Event()
        self._status_seen = threading.Condition()
        self._status_count = 0
        self._status = "unknown"
        self._last_error = ""
        self._failure = ""
        self._images = ImageAssembler()
        self._port = self._open()   # fail fast on a wrong path rather than retry forever
        self._thread = threading.Thread(target=self._run, name=f"docreader {url}", daemon=True)
        self._thread.start()

    # --- public ---------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """'unknown', 'ready', 'present', 'error' or 'disconnected'."""
        return self._status

    @property
    def connected(self) -> bool:
        return self._port is not None

    def next_event(self, timeout: float) -> ReaderEvent | None:
        """The next event, or None when none came within `timeout` seconds."""
        self._ensure_open()
        try:
            return self._events.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def wait_for_document(self, timeout: float) -> str | None:
        """The MRZ text of the next document read, or None after `timeout` seconds.

        Other events are consumed on the way. Raises ReaderError when the reader reports
        a fault, or when its port stayed unavailable for the whole wait.
        """
        deadline = time.monotonic() + timeout
        was_connected = self.connected
        while True:
            event = self.next_event(deadline - time.monotonic())
            if event is None:
                if not (was_connected or self.connected):
                    raise ReaderError(f"document reader at {self.url} unavailable: {self._last_error}")
                return None
            if event.kind == "mrz":
                return event.mrz
            if event.kind == "error":
                raise ReaderError(f"document reader at {self.url} reports a fault: {event.detail}")
            was_connected = was_connected or event.kind == "connected"

    def wait_for_capture(self, timeout: float) -> DocumentCapture | None:
        """The next document's images and MRZ text, or None after `timeout` seconds.

        Images that arrive before the MRZ frame belong to its document; a PRESENT status
        starts a new one. Raises ReaderError as wait_for_document does.
        """
        deadline = time.monotonic() + timeout
        was_connected = self.connected
        images: list[PageImage] = []
        lost: list[str] = []
        while True:
            event = self.next_event(deadline - time.monotonic())
            if event is None:
                if not (was_connected or self.connected):
                    raise ReaderError(f"document reader at {self.url} unavailable: {self._last_error}")
                return None
            if event.kind == "mrz":
                return DocumentCapture(event.mrz or "", tuple(images), tuple(lost))
            if event.kind == "error":
                raise ReaderError(f"document reader at {self.url} reports a fault: {event.detail}")
            if event.kind in ("present", "removed", "disconnected"):
                images, lost = [], []
            elif event.kind == "image" and event.image is not None:
                images.append(event.image)
            elif event.kind == "image_lost":
                lost.append(event.detail)
            was_connected = was_connected or event.kind == "connected"

    def ping(self, timeout: float = 1.0) -> bool:
        """Ask the reader for its status; True when it answered within `timeout`."""
        self._ensure_open()
        with self._status_seen:
            before = self._status_count
        try:
            self._write(Frame(FrameKind.INQUIRY.value, 0).encode())
        except (serial.SerialException, OSError):
            return False
        with self._status_seen:
            return self._status_seen.wait_for(lambda: self._status_count > before, timeout)

    def close(self) -> None:
        self._closing.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._close_port()

    def __enter__(self) -> DocumentReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- the port thread ------------------------------------------------------------------

    def _open(self) -> serial.SerialBase:
        try:
            return serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=_READ_SLICE)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ReaderError(f"cannot open document reader at {self.url}: {exc}") from exc

    def _run(self) -> None:
        try:
            while not self._closing.is_set():
                if self._port is None and not self._reconnect():
                    return
                try:
                    self._serve()
                except (serial.SerialException, OSError) as exc:
                    self._lost(exc)
        except Exception as exc:  # a bug must surface to the caller, not leave it waiting forever
            log.exception("document reader %s: port thread failed", self.url)
            self._failure = f"{type(exc).__name__}: {exc}"
            self._close_port()
            self._status = "disconnected"
            self._events.put(ReaderEvent("disconnected", detail=self._failure))   # wakes any waiter

    def _serve(self) -> None:
        decoder = FrameDecoder()
        self._images = ImageAssembler()   # an image half-sent on the last connection is lost
        last_taken: Frame | None = None   # the alternating-bit memory, reset per connection
        last_byte = time.monotonic()
        while not self._closing.is_set():
            port = self._port
            if port is None:
                return
            data = port.read(port.in_waiting or 1)
            now = time.monotonic()
            if data:
                last_byte = now
                events = decoder.feed(data)
            elif decoder.in_frame and now - last_byte > self.frame_timeout:
                events = [decoder.expire()]
            else:
                continue
            for event in events:
                last_taken = self._handle(event, last_taken)

    def _handle(self, event, last_taken: Frame | None) -> Frame | None:
        if isinstance(event, Garbled):
            log.warning("document reader %s: garbled frame NAKed: %s", self.url, event.reason)
            self.stats.naks_sent += 1
            self.stats.last_garbled = event.reason
            self._write(bytes([NAK]))
            return last_taken
        if isinstance(event, Noise):
            self.stats.noise_bytes += len(event.raw)
            return last_taken
        if isinstance(event, Control):
            return last_taken   # the host sends no frames that await an ACK
        self._write(bytes([ACK]))
        if event == last_taken:
            self.stats.duplicates += 1   # our ACK was lost and the reader sent it again
            return last_taken
        self.stats.frames += 1
        self._take(event)
        return event

    def _take(self, frame: Frame) -> None:
        if frame.kind == IMAGE_KIND:
            for settled in self._images.take(frame):
                self._put_image(settled)
            return
        if frame.kind in (FrameKind.MRZ.value, FrameKind.STATUS.value):
            lost = self._images.cut_short()   # a document's images come before its MRZ frame
            if lost is not None:
                self._put_image(lost)
        if frame.kind == FrameKind.MRZ.value:
            self._events.put(ReaderEvent("mrz", mrz=mrz_text(frame)))
        elif frame.kind == FrameKind.STATUS.value:
            status, detail = read_status(frame)
            if status is None:
                log.warning("document reader %s: unknown status %r", self.url, detail)
                return
            self._status = "ready" if status in (Status.READY, Status.REMOVED) else _STATUS_EVENTS[status]
            self._events.put(ReaderEvent(_STATUS_EVENTS[status], detail=detail))
            with self._status_seen:
                self._status_count += 1
                self._status_seen.notify_all()
        else:
            log.warning("document reader %s: ignoring frame kind %r", self.url, frame.kind)

    def _put_image(self, settled: PageImage | LostImage) -> None:
        if isinstance(settled, LostImage):
            log.warning("document reader %s: image lost: %s", self.url, settled.reason)
            self.stats.images_lost += 1
            self._events.put(ReaderEvent("image_lost", detail=settled.reason))
        else:
            self.stats.images += 1
            self._events.put(ReaderEvent("image", image=settled))

    def _lost(self, exc: Exception) -> None:
        self._last_error = str(exc) or type(exc).__name__
        log.warning("document reader %s lost: %s", self.url, self._last_error)
        self._close_port()
        self._status = "disconnected"
        self._events.put(ReaderEvent("disconnected", detail=self._last_error))

    def _reconnect(self) -> bool:
        delay = _BACKOFF_FIRST
        while not self._closing.wait(delay):
            try:
                port = self._open()
            except ReaderError as exc:
                self._last_error = str(exc.__cause__ or exc)
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            with self._write_lock:
                self._port = port
            self.stats.reconnects += 1
            self._status = "unknown"
            self._events.put(ReaderEvent("connected"))
            return True
        return False

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            if self._port is None:
                raise serial.SerialException(f"document reader at {self.url} is disconnected")
            self._port.write(data)

    def _close_port(self) -> None:
        with self._write_lock:
            port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass   # already gone: closing is all that was left to do

    def _ensure_open(self) -> None:
        if self._closing.is_set():
            raise ReaderError(f"document reader at {self.url} is closed")
        if self._failure:
            raise ReaderError(f"document reader at {self.url} stopped: {self._failure}")
