"""Liveness cues on rendered camera scenes (genuine, print and replay), without the HTTP hop."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from drivers.face import detect_faces, eye_aspect_ratio
from edge.liveness import MIN_FRAMES, LivenessObserver, assess_liveness, count_blinks, moire_peak_ratio
from hardware_sim.camera import BLINK_FRAMES, FPS, Scene


def observe(scene: Scene, seconds: float = 2.5):
    """What the capture loop would see: JPEG-compressed frames, the largest face of each."""
    renderer = scene.renderer()
    observer = LivenessObserver()
    for index in range(int(seconds * FPS)):
        frame = renderer.render(index / FPS)
        _, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 88])
        rgb = cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        faces = detect_faces(rgb)
        if faces:
            observer.add(rgb, faces[0])
    return observer.result()


SUBJECTS = ["obama/01.jpg", "biden/02.jpg", "rose_leslie/02.jpg"]


@pytest.mark.faces
@pytest.mark.parametrize("subject", SUBJECTS)
def test_genuine_approach_is_live(faces_dir, subject):
    result = observe(Scene.approach(faces_dir / subject))
    assert result.live, result
    assert result.score >= 0.6
    assert "micro-motion present" in result.reasons


@pytest.mark.faces
@pytest.mark.parametrize("subject", SUBJECTS)
def test_print_attack_is_refused(faces_dir, subject):
    result = observe(Scene.print_attack(faces_dir / subject))
    assert not result.live, result
    assert "no micro-motion: a still picture" in result.reasons
    assert result.cues["blinks"] == 0


@pytest.mark.faces
@pytest.mark.parametrize("subject", SUBJECTS)
def test_replay_attack_is_refused_for_its_screen(faces_dir, subject):
    result = observe(Scene.replay_attack(faces_dir / subject))
    assert not result.live, result
    assert "moire pattern: a face on a screen" in result.reasons
    assert result.score < 0.3


def test_blink_counting():
    open_eyes = [0.30, 0.29, 0.31, 0.30, 0.30, 0.29, 0.31, 0.30]
    assert count_blinks(open_eyes * 3) == 0
    assert count_blinks(open_eyes + [0.2, 0.1, 0.12, 0.25] + open_eyes + [0.11, 0.2] + open_eyes) == 2
    assert count_blinks(open_eyes + [0.1] * 20 + open_eyes) == 0  # eyes kept shut is not a blink


def test_too_few_frames_is_not_live():
    result = assess_liveness([])
    assert not result.live and result.reasons == [f"too few frames with a face (0 < {MIN_FRAMES})"]


def test_moire_peak_ratio_separates_a_grid_from_texture():
    rng = np.random.default_rng(1)
    texture = cv2.GaussianBlur(rng.normal(128, 30, (200, 200)).astype(np.float32), (0, 0), 1.2)
    ys, xs = np.mgrid[0:200, 0:200]
    grid = texture * (1 + 0.15 * np.cos(2 * np.pi * (0.93 * xs + 0.37 * ys) / 3.3))
    assert moire_peak_ratio(texture.clip(0, 255).astype(np.uint8)) < 20
    assert moire_peak_ratio(grid.clip(0, 255).astype(np.uint8)) > 40
    assert moire_peak_ratio(np.zeros((10, 10), np.uint8)) == 0.0


def single_face_photos(faces_dir) -> list:
    """Every photo of one person in the faces folder (groups/ holds several people a photo)."""
    return sorted(p for p in faces_dir.glob("*/*") if p.suffix in (".jpg", ".png") and p.parent.name != "groups")


def ears_around_first_blink(photo) -> list[float]:
    """The eye aspect ratio, as the liveness check computes it, from the start of a portrait scene to
    just after its first painted blink (JPEG frames, as the camera sends): about as many frames as
    a capture that stops at the first blink has seen."""
    renderer = Scene.portrait(photo).renderer()
    first = int(round(renderer.blinks[0] * FPS))
    ears = []
    for index in range(first + len(BLINK_FRAMES) + 3):
        _, jpeg = cv2.imencode(".jpg", renderer.render(index / FPS), [cv2.IMWRITE_JPEG_QUALITY, 88])
        rgb = cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        faces = detect_faces(rgb, find_small=False)
        if faces:
            ears.append((eye_aspect_ratio(faces[0].right_eye) + eye_aspect_ratio(faces[0].left_eye)) / 2.0)
    return ears


@pytest.mark.faces
def test_the_first_simulated_blink_is_seen_on_every_face(faces_dir):
    """The simulated eyelid closes narrow eyes (biden/02.jpg smiles) and wide ones alike, so the blink
    cue sees the first blink of every face; once it missed biden/02's and alex_lacamoire/03's, and
    the capture waited for a later one."""
    photos = [p for p in single_face_photos(faces_dir) if "partial" not in p.name]  # 10, 11: the frame cuts the face
    assert len(photos) >= 15
    missed = {}
    for photo in photos:
        ears = ears_around_first_blink(photo)
        if count_blinks(ears) < 1:
            missed[photo.relative_to(faces_dir).as_posix()] = [round(e, 3) for e in ears]
    assert not missed, missed
