"""The simulated IP camera, read through drivers.devices.camera over HTTP exactly as the gate reads a real one."""
from __future__ import annotations

import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from drivers.devices.camera import Camera, CameraError
from drivers.face import detect_faces
from hardware_sim.camera import HEIGHT, WIDTH, CameraSimulator, Scene, write_video

pytestmark = pytest.mark.faces


def faces_seen(camera: Camera) -> int:
    return len(detect_faces(cv2.cvtColor(camera.read(), cv2.COLOR_BGR2RGB)))


def settle(camera: Camera, seconds: float = 0.25) -> None:
    """Skip the frames already in flight when the scene changed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        camera.read()


def test_mjpeg_stream_is_read_by_opencv_ffmpeg(faces_dir):
    with CameraSimulator() as sim:
        assert sim.url.startswith("http://127.0.0.1:") and sim.url.endswith("/stream.mjpg")
        with Camera(sim.url, frame_timeout=2.0) as camera:
            sim.show(Scene.portrait(faces_dir / "obama/01.jpg"))
            settle(camera)
            frame = camera.read()
            assert frame.shape == (HEIGHT, WIDTH, 3)
            assert faces_seen(camera) == 1
            sim.show(Scene.empty())
            settle(camera)
            assert faces_seen(camera) == 0
            sim.show(Scene.two_faces(faces_dir / "obama/01.jpg", faces_dir / "biden/02.jpg"))
            settle(camera)
            assert faces_seen(camera) == 2
            started, count = time.monotonic(), 0
            while time.monotonic() - started < 1.0:
                camera.read()
                count += 1
            assert 8 <= count <= 20  # about the simulator's 15 frames per second


def test_camera_reports_a_stopped_simulator(faces_dir):
    sim = CameraSimulator().start()
    camera = Camera(sim.url, frame_timeout=0.5, open_timeout=1.0)
    try:
        camera.read()
        sim.stop()
        with pytest.raises(CameraError, match="no frame"):
            for _ in range(30):  # frames already buffered may still arrive
                camera.read()
    finally:
        camera.close()


def test_unknown_path_is_404():
    with CameraSimulator() as sim:
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(sim.url.replace("stream.mjpg", "nope"), timeout=2)
        assert error.value.code == 404


def test_written_video_is_read_back_by_camera(faces_dir, tmp_path):
    path = write_video(Scene.portrait(faces_dir / "rose_leslie/02.jpg"), tmp_path / "rose.avi", seconds=1.0)
    with Camera(str(path)) as camera:
        frames = []
        while True:
            try:
                frames.append(camera.read())
            except CameraError:
                break
    assert len(frames) == 15
    assert len(detect_faces(cv2.cvtColor(frames[7], cv2.COLOR_BGR2RGB))) == 1


def test_scene_needs_a_face(tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100, 3), 128, np.uint8))
    with pytest.raises(ValueError, match="no face"):
        Scene.portrait(blank).renderer()


def test_camera_reconnects_when_the_stream_comes_back(faces_dir):
    first = CameraSimulator().start()
    port = int(first.url.split(":")[2].split("/")[0])
    camera = Camera(first.url, frame_timeout=0.5, open_timeout=1.0)
    try:
        camera.read()
        first.stop()
        with pytest.raises(CameraError):
            for _ in range(30):
                camera.read()
        second = CameraSimulator(port=port).start()  # the camera comes back at the same address
        try:
            second.show(Scene.portrait(faces_dir / "kit_harington/03.jpg"))
            deadline = time.monotonic() + 8.0
            while True:
                try:
                    frame = camera.read()
                    break
                except CameraError:
                    assert time.monotonic() < deadline, "camera did not reconnect"
            assert frame.shape == (HEIGHT, WIDTH, 3)
        finally:
            second.stop()
    finally:
        camera.close()


def test_scene_by_name_and_module_entry_point(faces_dir, tmp_path):
    from hardware_sim.camera import main, scene_named

    assert scene_named("empty", []).name == "empty"
    with pytest.raises(ValueError, match="needs 2 photo"):
        scene_named("two_faces", [str(faces_dir / "obama/01.jpg")])
    with pytest.raises(ValueError, match="unknown scene"):
        scene_named("fog", [])
    out = tmp_path / "approach.avi"
    assert main(["approach", str(faces_dir / "obama/01.jpg"), "--video", str(out), "--seconds", "0.4"]) == 0
    with Camera(str(out)) as camera:
        assert camera.read().shape == (HEIGHT, WIDTH, 3)
