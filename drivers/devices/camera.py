"""Frames from a camera: a device index, a video file, or a network stream (HTTP MJPEG, RTSP).

Live sources (devices and streams) are read by a background thread that keeps
only the newest frame, so a slow consumer never works on a stale picture, and
that reopens the source with exponential backoff when it drops. Video files are
read in step with the caller, frame by frame.
"""
from __future__ import annotations

import os
import threading
import time

import cv2
import numpy as np

FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


class CameraError(Exception):
    """The camera cannot deliver a frame; the message names the source and the reason."""


def _parse_source(source: str | int) -> tuple[str, str | int]:
    """('device', index) | ('stream', url) | ('file', path)."""
    if isinstance(source, bool):
        raise CameraError(f"camera source must be a device index, file path or URL, got {source!r}")
    if isinstance(source, int):
        return "device", source
    text = str(source).strip()
    if not text:
        raise CameraError("camera source is empty")
    if text.isdigit():
        return "device", int(text)
    if "://" in text:
        return "stream", text
    return "file", text


class Camera:
    """A source of BGR frames; see the module docstring for the kinds of source."""

    def __init__(
        self,
        source: str | int,
        *,
        frame_timeout: float = 2.0,
        open_timeout: float = 5.0,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> None:
        self.kind, self.source = _parse_source(source)
        if frame_timeout <= 0:
            raise CameraError(f"frame_timeout must be positive, got {frame_timeout}")
        self.frame_timeout = frame_timeout
        self.open_timeout = open_timeout
        self._settings = {cv2.CAP_PROP_FRAME_WIDTH: width, cv2.CAP_PROP_FRAME_HEIGHT: height, cv2.CAP_PROP_FPS: fps}
        self._capture: cv2.VideoCapture | None = None
        self._closed = False
        self._condition = threading.Condition()
        self._frame: np.ndarray | None = None
        self._sequence = 0  # frames grabbed so far
        self._delivered = 0  # sequence number of the last frame returned by read()
        self._last_error = "not opened yet"
        self._thread: threading.Thread | None = None
        if self.kind == "file":
            if not os.path.isfile(self.source):
                raise CameraError(f"camera {self.source}: no such video file")
            self._capture = self._open()
            if self._capture is None:
                raise CameraError(f"camera {self.source}: cannot open video file ({self._last_error})")
        else:
            self._thread = threading.Thread(target=self._grab_forever, name=f"camera {self.source}", daemon=True)
            self._thread.start()

    def __enter__(self) -> "Camera":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Camera({self.source!r}, kind={self.kind})"

    def read(self) -> np.ndarray:
        """The next BGR frame (live sources: the newest one not yet returned)."""
        if self._closed:
            raise CameraError(f"camera {self.source}: closed")
        if self.kind == "file":
            return self._read_file()
        timeout = self.frame_timeout if self._delivered else max(self.frame_timeout, self.open_timeout)
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._sequence == self._delivered and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CameraError(
                        f"camera {self.source}: no frame for {timeout:.1f} s (last error: {self._last_error})"
                    )
                self._condition.wait(remaining)
            if self._closed:
                raise CameraError(f"camera {self.source}: closed")
            self._delivered = self._sequence
            return self._frame

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        if self._thread is not None:
            # The grabbing thread owns a live source's capture and releases it on its way out.
            self._thread.join(timeout=self.open_timeout + self.frame_timeout + 1.0)
        elif self._capture is not None:
            self._capture.release()
            self._capture = None

    def _read_file(self) -> np.ndarray:
        ok, frame = self._capture.read()
        if not ok or frame is None:
            raise CameraError(f"camera {self.source}: end of video file")
        return frame

    def _open(self) -> cv2.VideoCapture | None:
        if self.kind == "stream":
            timeouts = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout * 1000),
                cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.frame_timeout * 1000),
            ]
            capture = cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, timeouts)
        else:
            capture = cv2.VideoCapture(self.source)
        if not capture.isOpened():
            capture.release()
            self._last_error = "cannot open source"
            return None
        for prop, value in self._settings.items():
            if value is not None:
                capture.set(prop, float(value))
        if self.kind == "device":
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # we want the present, not a queue of the past
        return capture

    def _grab_forever(self) -> None:
        backoff = FIRST_BACKOFF_S
        while not self._closed:
            if self._capture is None:
                self._capture = self._open()
                if self._capture is None:
                    self._sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    continue
            ok, frame = self._capture.read()
            if not ok or frame is None:
                self._last_error = "stream stopped delivering frames"
                self._capture.release()
                self._capture = None
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = FIRST_BACKOFF_S
            with self._condition:
                self._frame = frame
                self._sequence += 1
                self._condition.notify_all()
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def _sleep(self, seconds: float) -> None:
        with self._condition:
            if not self._closed:
                self._condition.wait(seconds)
