"""The gate's capture loop against the simulated IP camera, over HTTP."""
from __future__ import annotations

import time

import numpy as np
import pytest

from drivers.camera import Camera, CameraError
from drivers.face import compare, encode_face, load_image
from edge.capture import capture_face
from hardware_sim.camera import CameraSimulator, Scene

pytestmark = pytest.mark.faces


@pytest.fixture(scope="module")
def gate(faces_dir):
    with CameraSimulator() as sim, Camera(sim.url) as camera:
        def run(scene: Scene, **options):
            sim.show(scene)
            deadline = time.monotonic() + 0.25  # frames of the previous scene still in flight
            while time.monotonic() < deadline:
                camera.read()
            return capture_face(camera, **options)

        yield run


def test_genuine_traveller_is_captured_live_and_verifies(gate, faces_dir):
    result = gate(Scene.approach(faces_dir / "obama/01.jpg"), budget_s=4.0)
    assert result.failure is None and result.ok, result.messages
    assert result.quality.passed and result.faces_max == 1
    assert result.liveness is not None and result.liveness.live, result.liveness
    assert result.image.shape == (480, 640, 3)
    passport_photo = encode_face(load_image(faces_dir / "obama/03.jpg"))
    assert compare(result.template, passport_photo).match
    impostor = encode_face(load_image(faces_dir / "biden/01.jpg"))
    assert not compare(result.template, impostor).match
    assert result.elapsed_s < 4.2


def test_empty_scene_is_no_face(gate):
    result = gate(Scene.empty(), budget_s=1.0)
    assert result.failure == "no face" and result.template is None and result.faces_max == 0
    assert result.frames >= 3 and result.messages == ["look at the camera"]


def test_two_travellers_are_refused_as_tailgating(gate, faces_dir):
    result = gate(Scene.two_faces(faces_dir / "obama/01.jpg", faces_dir / "biden/02.jpg"), budget_s=1.5)
    assert result.failure == "multiple faces" and result.faces_max == 2 and result.template is None
    assert result.messages == ["one person at a time, please"]


@pytest.mark.parametrize(
    "scene, metric, guidance",
    [
        (Scene.poor_light, "exposure", "face the light"),
        (Scene.blur, "sharpness", "hold still"),
        (Scene.looking_away, "yaw", "look straight at the camera"),
    ],
)
def test_poor_captures_fail_with_the_metric_and_guidance(gate, faces_dir, scene, metric, guidance):
    result = gate(scene(faces_dir / "obama/01.jpg"), budget_s=1.5)
    assert result.failure is not None and result.failure.startswith("poor quality: ")
    assert metric in result.failure and guidance in result.messages
    assert result.template is None and result.image is not None and not result.quality.passed


def test_print_attack_yields_a_template_but_not_liveness(gate, faces_dir):
    # Never live, so it runs to its budget: 3 s leaves enough frames to judge even on a loaded machine.
    result = gate(Scene.print_attack(faces_dir / "obama/01.jpg"), budget_s=3.0)
    assert result.template is not None and result.quality.passed, (result.failure, result.frames)
    assert result.liveness is not None, f"too few frames to judge liveness: {result.frames}"
    assert not result.liveness.live and "no micro-motion: a still picture" in result.liveness.reasons


class BrokenCamera:
    def read(self) -> np.ndarray:
        raise CameraError("camera http://gate-cam/stream.mjpg: no frame for 2.0 s (last error: cannot open source)")


def test_camera_error_is_reported_as_failure():
    result = capture_face(BrokenCamera(), budget_s=1.0)
    assert result.failure.startswith("camera error: camera http://gate-cam/stream.mjpg: no frame")
    assert result.frames == 0 and result.template is None
