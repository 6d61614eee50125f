"""drivers.face on the real photos: loading, detection, quality, templates, comparison."""
from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from drivers.face import (
    DEFAULT_MAX_DISTANCE,
    FaceError,
    FaceTemplate,
    NoFaceError,
    assess_quality,
    compare,
    default_encoder,
    detect_faces,
    encode_face,
    head_pose,
    load_image,
    score_from_distance,
)

pytestmark = pytest.mark.faces

PORTRAITS = [
    "obama/01.jpg", "obama/02.jpg", "obama/03.jpg", "obama/04.jpg", "obama/08_1080p.jpg", "obama/12_rgba.png",
    "biden/01.jpg", "biden/02.jpg",
    "alex_lacamoire/01.png", "alex_lacamoire/02.jpg", "alex_lacamoire/03.jpg",
    "kit_harington/01.jpg", "kit_harington/02.jpg", "kit_harington/03.jpg",
    "rose_leslie/01.jpg", "rose_leslie/02.jpg",
    "lin_manuel_miranda/01.png",
]


@pytest.fixture(scope="session")
def analysed(faces_dir):
    """name -> (rgb, faces, template of the largest face)."""
    result = {}
    for name in PORTRAITS + ["obama/09_small.jpg", "obama/10_partial.jpg", "obama/11_partial.jpg"]:
        rgb = load_image(faces_dir / name)
        faces = detect_faces(rgb)
        result[name] = (rgb, faces, encode_face(rgb, faces[0]) if faces else None)
    return result


def person(name: str) -> str:
    return name.split("/")[0]


def test_every_portrait_has_exactly_one_face(analysed):
    counts = {name: len(analysed[name][1]) for name in PORTRAITS}
    assert counts == {name: 1 for name in PORTRAITS}


def test_same_person_pairs_verify(analysed):
    pairs = [(a, b) for a, b in itertools.combinations(PORTRAITS, 2) if person(a) == person(b)]
    assert len(pairs) == 15 + 1 + 3 + 3 + 1
    for a, b in pairs:
        result = compare(analysed[a][2], analysed[b][2])
        assert result.match, (a, b, result.distance)
        assert result.score > 0.5


def test_different_person_pairs_do_not_verify(analysed):
    pairs = [(a, b) for a, b in itertools.combinations(PORTRAITS, 2) if person(a) != person(b)]
    for a, b in pairs:
        result = compare(analysed[a][2], analysed[b][2])
        assert not result.match, (a, b, result.distance)
        assert result.distance > DEFAULT_MAX_DISTANCE


def test_template_shape_and_model(analysed):
    template = analysed["obama/01.jpg"][2]
    assert template.vector.shape == (128,) and template.vector.dtype == np.float32
    assert template.model == default_encoder().name == "dlib-resnet-v1"
    assert template.model_version == default_encoder().version


def test_encode_face_without_a_face_uses_the_largest(analysed):
    rgb, faces, template = analysed["obama/01.jpg"]
    again = encode_face(rgb)
    assert compare(template, again).distance < 1e-4


def test_partial_faces_fail_face_in_frame(analysed):
    for name in ("obama/10_partial.jpg", "obama/11_partial.jpg"):
        rgb, faces, _ = analysed[name]
        report = assess_quality(rgb, faces[0], face_count=len(faces))
        metric = report.metric("face_in_frame")
        assert not metric.passed and metric.value < 0.9, name
        assert not report.passed
        assert "step into the middle of the frame" in report.messages


def test_small_face_fails_size_with_guidance(analysed):
    rgb, faces, _ = analysed["obama/09_small.jpg"]
    report = assess_quality(rgb, faces[0])
    metric = report.metric("inter_eye_distance")
    assert not metric.passed and metric.value < metric.threshold
    assert "move closer" in report.messages


def test_good_frontal_portrait_passes_every_metric(analysed):
    rgb, faces, _ = analysed["obama/08_1080p.jpg"]
    report = assess_quality(rgb, faces[0], face_count=1)
    assert report.passed, [(m.name, m.value) for m in report.metrics if not m.passed]
    assert report.messages == []
    assert {m.name for m in report.metrics} == {
        "face_count", "inter_eye_distance", "face_in_frame", "yaw", "pitch", "roll",
        "sharpness", "exposure", "contrast", "eyes_open",
    }


def test_head_pose_is_the_fit_in_front_of_the_camera(analysed):
    """biden/02.jpg is a frontal official portrait. Fitted from nothing, the head model settled behind
    the camera (a mirror solution) and read a pitch of 21.5 degrees, near the 25 allowed; the fit
    started facing the camera reads it level. The other portraits' angles are those of before."""
    rgb, faces, _ = analysed["biden/02.jpg"]
    yaw, pitch, roll = head_pose(faces[0], rgb.shape[:2])
    assert abs(pitch) < 8 and abs(yaw) < 10 and abs(roll) < 5, (yaw, pitch, roll)
    rgb, faces, _ = analysed["obama/08_1080p.jpg"]
    assert head_pose(faces[0], rgb.shape[:2]) == pytest.approx((1.3, 10.3, 0.2), abs=0.5)
    rgb, faces, _ = analysed["kit_harington/02.jpg"]  # turned away: still refused on yaw
    yaw, _, _ = head_pose(faces[0], rgb.shape[:2])
    assert yaw > 40


def test_blur_and_darkness_fail_their_own_metrics(analysed):
    rgb, faces, _ = analysed["obama/08_1080p.jpg"]
    blurred = cv2.GaussianBlur(rgb, (0, 0), 8)
    report = assess_quality(blurred, detect_faces(blurred)[0])
    assert report.failed == ["sharpness"] and report.messages == ["hold still"]
    dark = (rgb * 0.2).astype(np.uint8)
    report = assess_quality(dark, detect_faces(dark)[0])
    assert "exposure" in report.failed and "sharpness" not in report.failed
    assert "face the light" in report.messages


@pytest.mark.parametrize("name, count", [("two_people.jpg", 2), ("kit_with_rose.jpg", 2), ("obama_and_biden.jpg", 3)])
def test_group_photos_flag_multiple_faces(faces_dir, name, count):
    rgb = load_image(faces_dir / "groups" / name)
    faces = detect_faces(rgb)
    assert len(faces) == count
    assert [f.area for f in faces] == sorted((f.area for f in faces), reverse=True)
    report = assess_quality(rgb, faces[0], face_count=len(faces))
    assert not report.metric("face_count").passed
    assert "one person at a time, please" in report.messages


def test_rgba_png_loads_as_rgb_and_matches_its_jpeg(faces_dir, analysed):
    for name in ("obama/12_rgba.png", "alex_lacamoire/01.png"):
        rgb = load_image(faces_dir / name)
        assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8
    assert compare(analysed["obama/12_rgba.png"][2], analysed["obama/02.jpg"][2]).distance < 0.1


def test_jpeg2000_bytes_load(analysed):
    rgb = analysed["obama/09_small.jpg"][0]
    ok, data = cv2.imencode(".jp2", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    loaded = load_image(data.tobytes())
    assert loaded.shape == rgb.shape
    assert np.abs(loaded.astype(int) - rgb.astype(int)).mean() < 3
    assert len(detect_faces(loaded)) == 1


def test_broken_input_gives_face_error(tmp_path):
    with pytest.raises(FaceError, match="cannot decode image"):
        load_image(b"\xff\xd8\xff\xe0 this is not a jpeg")
    with pytest.raises(FaceError, match="cannot decode image: no data"):
        load_image(b"")
    with pytest.raises(FaceError, match="cannot read image"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(FaceError, match="expected an RGB image"):
        detect_faces(np.zeros((10, 10), np.uint8))


def test_no_face_raises_no_face_error():
    with pytest.raises(NoFaceError):
        encode_face(np.full((240, 320, 3), 128, np.uint8))


def test_templates_of_different_models_are_never_compared(analysed):
    template = analysed["obama/01.jpg"][2]
    other = FaceTemplate(template.vector, "arcface-r100", "1")
    with pytest.raises(FaceError, match="different models"):
        compare(template, other)


def test_threshold_argument_and_score_mapping(analysed):
    a, b = analysed["obama/01.jpg"][2], analysed["obama/03.jpg"][2]
    default = compare(a, b)
    strict = compare(a, b, threshold=default.distance - 0.01)
    assert default.match and not strict.match and strict.score == default.score
    distances = np.linspace(0, 1.5, 31)
    scores = [score_from_distance(d) for d in distances]
    assert all(x > y for x, y in zip(scores, scores[1:])) and 0 < scores[-1] < scores[0] < 1


def test_template_bytes_round_trip(analysed):
    template = analysed["biden/01.jpg"][2]
    again = FaceTemplate.from_bytes(template.to_bytes(), template.model, template.model_version)
    assert np.array_equal(again.vector, template.vector)
    with pytest.raises(FaceError, match="expected 512 bytes"):
        FaceTemplate.from_bytes(b"\0" * 10, template.model, template.model_version)


def test_onnx_resnet_gives_dlibs_own_vectors(analysed):
    from drivers.face import DlibResNetEncoder

    reference = DlibResNetEncoder(backend="dlib")
    for name in ("obama/01.jpg", "biden/02.jpg", "alex_lacamoire/01.png", "obama/10_partial.jpg"):
        rgb, faces, template = analysed[name]
        expected = reference.encode(rgb, faces[0])
        assert np.abs(template.vector - expected).max() < 1e-5, name


def test_resnet_model_parser_rejects_other_files():
    from drivers.face.resnet import descriptor, parse_model

    with pytest.raises(FaceError, match="unexpected layer layout"):
        parse_model(b"no layers here")
    with pytest.raises(FaceError, match="tensor version 0"):
        parse_model(b"\x01\x05con_4\x00 not a model")
    with pytest.raises(FaceError, match="truncated"):
        parse_model(b"\x01\x05con_4\x01\x02\x01\x10\x01\x01\x01\x01\x01\x01\x00\x00")
    with pytest.raises(FaceError, match="150x150"):
        descriptor(np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(FaceError, match="backend"):
        from drivers.face import DlibResNetEncoder

        DlibResNetEncoder(backend="gpu")


def test_small_faces_need_the_upsampled_search(faces_dir):
    rgb = load_image(faces_dir / "groups" / "obama_and_biden.jpg")  # 2000 px wide, faces about 180 px
    assert len(detect_faces(rgb)) == 3
    assert detect_faces(rgb, find_small=False) == []


def test_detections_nested_in_a_larger_face_are_dropped():
    import dlib

    from drivers.face.detection import _without_nested

    face = (dlib.rectangle(100, 100, 300, 300), 1.6)
    chin = (dlib.rectangle(180, 220, 290, 330), 0.03)  # mostly inside the face
    neighbour = (dlib.rectangle(320, 110, 500, 290), 0.9)  # another person beside it
    assert _without_nested([face, chin, neighbour]) == [face, neighbour]
