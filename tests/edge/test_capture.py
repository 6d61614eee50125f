"""The gate's capture loop against the simulated IP camera, over HTTP, and on a virtual clock."""
from __future__ import annotations

import time

import numpy as np
import pytest

from drivers.devices.camera import Camera, CameraError
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


class SteppedCamera:
    """Renders scenes on a virtual clock that advances `step_s` a frame read: the frame rate of a
    gate that needs `step_s` per frame, exactly repeatable whatever the machine's load."""

    def __init__(self, scene: Scene, step_s: float, then: Scene | None = None, switch_s: float = 0.0):
        self.now, self.step_s, self.switch_s = 0.0, step_s, switch_s
        self.first, self.then = scene.renderer(), then.renderer() if then else None

    def read(self) -> np.ndarray:
        self.now += self.step_s
        if self.then is None or self.now < self.switch_s:
            return self.first.render(self.now)
        return self.then.render(self.now - self.switch_s)

    def clock(self) -> float:
        return self.now


# (frame step, moment of the step into the light, seed): each of these once ended the capture on a
# frame whose landmarks, refitted in the shadow's box, outlined nothing, encoded as another person.
@pytest.mark.parametrize("step_s, switch_s, seed", [(0.066, 1.10, 2), (0.066, 1.12, 1), (0.066, 1.18, 2),
                                                    (0.2, 1.0, 1), (0.2, 1.2, 1)])
def test_stepping_out_of_the_shadow_yields_the_travellers_own_face(faces_dir, step_s, switch_s, seed):
    live = faces_dir / "obama/03.jpg"
    camera = SteppedCamera(Scene.poor_light(live).with_seed(seed), step_s,
                           then=Scene.approach(live).with_seed(seed), switch_s=switch_s)
    result = capture_face(camera, clock=camera.clock)
    assert result.ok, result.failure
    passport_photo = encode_face(load_image(faces_dir / "obama/01.jpg"))
    verification = compare(result.template, passport_photo)
    assert verification.match, f"distance {verification.distance:.2f}"


def test_a_slow_gate_looks_longer_rather_than_judge_liveness_on_too_few_frames(faces_dir, caplog):
    # 5 frames a second: 3 s would give 15 frames; the capture goes on to 24 (3 s x MIN_FPS).
    camera = SteppedCamera(Scene.print_attack(faces_dir / "obama/01.jpg"), 0.2)
    with caplog.at_level("WARNING", logger="edge.capture"):
        result = capture_face(camera, budget_s=3.0, clock=camera.clock)
    assert result.frames == 24 and 4.7 < result.elapsed_s < 6.0, (result.frames, result.elapsed_s)
    assert result.liveness is not None and not result.liveness.live
    assert "face capture took 4.8 s of a 3.0 s budget: 24 frames read, 5.0 a second" in caplog.text


def test_a_slow_gate_stops_at_twice_its_budget(faces_dir):
    camera = SteppedCamera(Scene.print_attack(faces_dir / "obama/01.jpg"), 0.5)
    result = capture_face(camera, budget_s=3.0, clock=camera.clock)
    assert result.elapsed_s == pytest.approx(6.0) and result.frames == 12


def test_a_gate_at_full_frame_rate_keeps_to_its_budget_and_says_nothing(faces_dir, caplog):
    camera = SteppedCamera(Scene.print_attack(faces_dir / "obama/01.jpg"), 1 / 16)  # exact in binary
    with caplog.at_level("WARNING", logger="edge.capture"):
        result = capture_face(camera, budget_s=2.0, clock=camera.clock)
    assert result.frames == 32 and result.elapsed_s == pytest.approx(2.0) and not caplog.text


def test_a_live_traveller_passes_at_five_frames_a_second(faces_dir):
    for seed in (1, 2, 3):
        camera = SteppedCamera(Scene.approach(faces_dir / "obama/03.jpg").with_seed(seed), 0.2)
        result = capture_face(camera, budget_s=3.0, clock=camera.clock)
        assert result.ok and result.liveness.live, (seed, result.liveness)


@pytest.mark.slow
def test_over_every_shared_photo_attacks_fail_liveness_and_approaches_keep_their_own_face(faces_dir):
    """The capture loop at 15 frames a second on the virtual clock, one seed, every single-face photo.

    Measured 2026-12-04: 16 of 18 approaches live (biden/02: no blink in the frames it saw; obama/02:
    head turned, refused for yaw), no print or replay attack live.
    """
    photos = [p for p in sorted(faces_dir.glob("*/*")) if p.parent.name != "groups" and p.suffix in (".jpg", ".png")
              and not any(word in p.name for word in ("partial", "small", "240p", "rgba"))]
    assert len(photos) >= 10, photos
    missed, accepted, strangers = [], [], []
    for photo in photos:
        for scene in ("approach", "print_attack", "replay_attack"):
            camera = SteppedCamera(getattr(Scene, scene)(photo).with_seed(1), 1 / 15)
            result = capture_face(camera, clock=camera.clock)
            live = result.liveness is not None and result.liveness.live
            name = f"{photo.parent.name}/{photo.name}"
            if scene == "approach":
                if not live:
                    missed.append(name)
                if result.template is not None and not compare(result.template, encode_face(load_image(photo))).match:
                    strangers.append(name)
            elif live:
                accepted.append(f"{scene}: {name}")
    assert not accepted, accepted
    assert not strangers, f"templates of another face: {strangers}"
    assert len(missed) <= max(3, len(photos) // 6), f"live travellers refused: {missed}"
