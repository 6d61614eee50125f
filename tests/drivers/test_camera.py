"""drivers.devices.camera against files and unreachable streams (the simulator's HTTP stream is tested
in hardware_sim)."""

from __future__ import annotations

import socket
import time

import cv2
import numpy as np
import pytest

from drivers.devices.camera import Camera, CameraError


def write_counting_video(path, frames: int = 5) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
    for index in range(frames):
        writer.write(np.full((120, 160, 3), 40 * index, np.uint8))
    writer.release()


def test_reads_a_video_file_frame_by_frame_then_reports_its_end(tmp_path):
    path = tmp_path / "clip.avi"
    write_counting_video(path)
    with Camera(str(path)) as camera:
        levels = [int(camera.read().mean()) for _ in range(5)]
        with pytest.raises(CameraError, match="end of video file"):
            camera.read()
    assert levels == sorted(levels) and levels[0] < 10 < levels[-1]


def test_missing_file_and_empty_source_are_clear_errors(tmp_path):
    with pytest.raises(CameraError, match="no such video file"):
        Camera(str(tmp_path / "nothing.avi"))
    with pytest.raises(CameraError, match="empty"):
        Camera("  ")
    with pytest.raises(CameraError, match="frame_timeout"):
        Camera(str(tmp_path), frame_timeout=0)


def test_unreachable_stream_times_out_with_the_source_named():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/stream.mjpg"
    camera = Camera(url, frame_timeout=0.5, open_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(CameraError, match=f"camera {url}: no frame for 0.5 s"):
        camera.read()
    assert time.monotonic() - started < 3.0
    camera.close()
    with pytest.raises(CameraError, match="closed"):
        camera.read()


def test_source_kinds():
    from drivers.devices.camera import _parse_source

    assert _parse_source("0") == ("device", 0)
    assert _parse_source(2) == ("device", 2)
    assert _parse_source("rtsp://cam/1") == ("stream", "rtsp://cam/1")
    assert _parse_source("clip.avi") == ("file", "clip.avi")
    with pytest.raises(CameraError):
        _parse_source(True)
