"""A ZFM-family fingerprint module on a pseudo-terminal, speaking drivers.devices.fingerprint.protocol.

The emulator holds the master side of a pty pair and answers the host's commands from a thread:
VerifyPassword, GenImg (no finger until one is placed), UpImage (the image in 4-bit data packets).
`place` lays an image on the sensor: a single finger cut to the module's 256 x 288 window, or a
slap (`slap_image`) for an emulator made with a slap-sized window, the same framing carrying more.
"""
from __future__ import annotations

import os
import select
import struct
import threading
import tty

import cv2
import numpy as np

from drivers.devices.fingerprint import protocol
from drivers.devices.fingerprint.protocol import PacketDecoder, ProtocolError
from hardware_sim.fingerprints.impression import Touch, make_impression
from hardware_sim.fingerprints.master import make_master

SLAP_SIZE = (1024, 448)       # four 256 x 448 finger windows side by side


class ScannerEmulator:
    def __init__(self, *, password: int = protocol.DEFAULT_PASSWORD,
                 image_size: tuple[int, int] = (protocol.IMAGE_WIDTH, protocol.IMAGE_HEIGHT)):
        self.password = password
        self.image_size = image_size
        self.commands: list[int] = []          # every command code received, in order
        self._image: np.ndarray | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = self._slave = -1
        self.port = ""

    def start(self) -> ScannerEmulator:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._serve, name="fingerprint scanner emulator", daemon=True)
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

    def __enter__(self) -> ScannerEmulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def place(self, image: np.ndarray) -> None:
        """A finger (or a slap) lies on the sensor: the image is fitted to the sensor's window."""
        with self._lock:
            self._image = fit(image, self.image_size)

    def lift(self) -> None:
        with self._lock:
            self._image = None

    def _serve(self) -> None:
        decoder = PacketDecoder()
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            try:
                packets = decoder.feed(data)
            except ProtocolError:
                self._send(protocol.ack(protocol.RECEIVE_ERROR))
                continue
            for packet in packets:
                if packet.kind == protocol.COMMAND and packet.payload:
                    self._answer(packet.payload[0], packet.payload[1:])

    def _answer(self, code: int, arguments: bytes) -> None:
        self.commands.append(code)
        with self._lock:
            image = self._image
        if code == protocol.VERIFY_PASSWORD:
            given = struct.unpack(">I", arguments[:4])[0] if len(arguments) >= 4 else None
            self._send(protocol.ack(protocol.OK if given == self.password else protocol.WRONG_PASSWORD))
        elif code == protocol.GEN_IMG:
            self._send(protocol.ack(protocol.OK if image is not None else protocol.NO_FINGER))
        elif code == protocol.UP_IMAGE:
            if image is None:
                self._send(protocol.ack(protocol.UPLOAD_FAILED))
                return
            self._send(protocol.ack(protocol.OK))
            for packet in protocol.data_packets(protocol.pack_image(image)):
                self._send(packet)
        else:
            self._send(protocol.ack(protocol.RECEIVE_ERROR))

    def _send(self, packet: protocol.Packet) -> None:
        data = packet.encode()
        while data and not self._stopping.is_set():
            try:
                written = os.write(self._master, data)
            except BlockingIOError:
                select.select([], [self._master], [], 0.05)
                continue
            data = data[written:]


def fit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The image centred on a sensor window of `size` (width, height): cropped, or padded with platen."""
    width, height = size
    window = np.full((height, width), 235, np.uint8)
    h, w = image.shape
    top, left = max((h - height) // 2, 0), max((w - width) // 2, 0)
    crop = image[top:top + height, left:left + width]
    y, x = (height - crop.shape[0]) // 2, (width - crop.shape[1]) // 2
    window[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
    return window


def finger_image(finger_seed: int, touch_seed: int, difficulty: float = 1.0) -> np.ndarray:
    """One impression of a synthetic finger, as a single-finger module would see it."""
    return make_impression(make_master(finger_seed), Touch(touch_seed, difficulty))


def slap_image(finger_seeds: list[int], touch_seed: int, difficulty: float = 0.6) -> np.ndarray:
    """Two or four synthetic fingers pressed side by side on a slap scanner's platen."""
    width, height = SLAP_SIZE
    slot = width // 4
    platen = np.full((height, width), 235, np.uint8)
    offset = (4 - len(finger_seeds)) * slot // 2
    for index, seed in enumerate(finger_seeds):
        finger = fit(make_impression(make_master(seed), Touch(touch_seed, difficulty)), (slot - 16, height - 8))
        outline = np.zeros(finger.shape, np.uint8)   # a slap presses fingers narrower than a single roll
        cv2.ellipse(outline, (finger.shape[1] // 2, finger.shape[0] // 2), (finger.shape[1] // 2 - 20,
                    finger.shape[0] // 2 - 10), 0, 0, 360, 1, -1)
        finger = np.where(outline > 0, finger, 235).astype(np.uint8)
        x = offset + index * slot + 8
        platen[4:height - 4, x:x + slot - 16] = np.minimum(platen[4:height - 4, x:x + slot - 16], finger)
    return platen
