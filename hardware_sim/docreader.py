"""An OCR-B document reader on a pseudo-terminal, speaking drivers.devices.docreader's protocol.

The emulator holds the master side of a pty pair and serves it from a thread; the host
opens `port` (the slave path) like a real serial device. Like a real desk reader it
sends one frame at a time and waits for the host's ACK, retransmitting on NAK or when
no answer comes within `ack_timeout`, up to `max_retries` times.
"""
from __future__ import annotations

import collections
import os
import select
import threading
import time
import tty
from collections.abc import Sequence
from dataclasses import dataclass

from drivers.devices.docreader.images import PageImage, image_frames
from drivers.devices.docreader.protocol import (
    Control,
    Frame,
    FrameDecoder,
    FrameKind,
    Status,
    mrz_frame,
    status_frame,
)

_POLL = 0.01


@dataclass
class EmulatorStats:
    frames_sent: int = 0        # distinct frames, first transmissions
    retransmissions: int = 0
    acks_received: int = 0
    naks_received: int = 0
    abandoned: int = 0          # frames given up after max_retries
    inquiries: int = 0


class ReaderEmulator:
    """`link`, when given, is a symlink kept pointing at the current pty, so a host can
    reopen the same path after the emulator is replaced (as udev names do for USB readers)."""

    def __init__(self, *, ack_timeout: float = 0.3, max_retries: int = 5, link: str | None = None):
        self.ack_timeout = ack_timeout
        self.max_retries = max_retries
        self.link = link
        self.stats = EmulatorStats()
        self._lock = threading.Lock()
        self._outbox: collections.deque[Frame | bytes] = collections.deque()
        self._document_present = False
        self._corrupt_next = False
        self._seq = 1
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = self._slave = -1
        self._port = ""

    @property
    def port(self) -> str:
        if not self._port:
            raise RuntimeError("emulator not started")
        return self.link or self._port

    def start(self) -> ReaderEmulator:
        self._master, self._slave = os.openpty()
        # Raw mode: no echo, no CR/LF translation, every byte passes as it is.
        tty.setraw(self._slave)
        self._port = os.ttyname(self._slave)
        if self.link:
            temporary = f"{self.link}.{os.getpid()}.tmp"
            os.symlink(self._port, temporary)
            os.replace(temporary, self.link)
        self._thread = threading.Thread(target=self._serve, name="reader emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1
        if self.link and os.path.islink(self.link) and os.readlink(self.link) == self._port:
            os.unlink(self.link)   # unplugged: the device name goes away with it

    def __enter__(self) -> ReaderEmulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- what happens on the reader's window ----------------------------------------------

    def present(self, mrz_text: str, images: Sequence[PageImage] = ()) -> None:
        """A document is placed: status PRESENT, its page images, then its MRZ.

        `mrz_text` '' stands for a reader whose own OCR could not read the MRZ (an empty
        MRZ frame still ends the document); the host then reads it from the image.
        """
        frames = [frame for image in images for frame in image_frames(image)]
        with self._lock:
            self._document_present = True
            self._outbox.append(status_frame(Status.PRESENT, 0))
            self._outbox.extend(frames)
            self._outbox.append(mrz_frame(mrz_text, 0))

    def remove(self) -> None:
        with self._lock:
            self._document_present = False
            self._outbox.append(status_frame(Status.REMOVED, 0))

    def fail(self, reason: str) -> None:
        """The reader reports a fault, such as a dirty window."""
        with self._lock:
            self._outbox.append(status_frame(Status.ERROR, 0, reason))

    def send_raw(self, data: bytes) -> None:
        """Bytes put on the line as they are, in turn with the queued frames."""
        with self._lock:
            self._outbox.append(bytes(data))

    def corrupt_next_frame(self) -> None:
        """The next frame's first transmission goes out with a wrong checksum."""
        with self._lock:
            self._corrupt_next = True

    # --- the line -------------------------------------------------------------------------

    def _serve(self) -> None:
        decoder = FrameDecoder()
        waiting: bytes | None = None      # the frame sent and not yet acknowledged
        retries = 0
        deadline = 0.0
        while not self._stopping.is_set():
            readable, _, _ = select.select([self._master], [], [], _POLL)
            if readable:
                try:
                    data = os.read(self._master, 4096)
                except OSError:
                    data = b""   # the host side closed; keep serving for the next one
                for event in decoder.feed(data):
                    if isinstance(event, Control) and waiting is not None:
                        if event.is_ack:
                            self.stats.acks_received += 1
                            waiting = None
                        else:
                            self.stats.naks_received += 1
                            deadline = 0.0   # retransmit now
                    elif isinstance(event, Frame) and event.kind == FrameKind.INQUIRY.value:
                        self.stats.inquiries += 1
                        with self._lock:
                            status = Status.PRESENT if self._document_present else Status.READY
                            self._outbox.append(status_frame(status, 0))
            now = time.monotonic()
            if waiting is not None and now >= deadline:
                if retries >= self.max_retries:
                    self.stats.abandoned += 1
                    waiting = None
                else:
                    retries += 1
                    self.stats.retransmissions += 1
                    self._write(waiting)
                    deadline = now + self.ack_timeout
            if waiting is None:
                item = self._next_item()
                if isinstance(item, bytes):
                    self._write(item)
                elif item is not None:
                    waiting, retries = item.encode(), 0
                    self._write(self._maybe_corrupt(waiting))
                    self.stats.frames_sent += 1
                    deadline = now + self.ack_timeout

    def _next_item(self) -> Frame | bytes | None:
        with self._lock:
            if not self._outbox:
                return None
            item = self._outbox.popleft()
        if isinstance(item, Frame):
            self._seq ^= 1   # a new frame flips the alternating bit
            item = Frame(item.kind, self._seq, item.payload)
        return item

    def _maybe_corrupt(self, wire: bytes) -> bytes:
        with self._lock:
            corrupt, self._corrupt_next = self._corrupt_next, False
        if not corrupt:
            return wire
        # Another hex digit in place of the last one: still printable, so only the checksum fails.
        last = wire[-1]
        return wire[:-1] + bytes([ord("0") if last != ord("0") else ord("1")])

    def _write(self, data: bytes) -> None:
        os.write(self._master, data)
