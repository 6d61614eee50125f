"""`limes face ...` and `limes bench face` through the `limes` parser, on the real photos."""
from __future__ import annotations

import json

import pytest

from drivers.face import DEFAULT_MAX_DISTANCE
from limes.cli import build_parser


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    args = build_parser().parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small_set(faces_dir, tmp_path_factory):
    """A pairs file over a few photos, so the command tests stay fast."""
    path = tmp_path_factory.mktemp("pairs") / "pairs.csv"
    path.write_text(
        "a,b,same\n"
        "obama/01.jpg,obama/03.jpg,1\n"
        "biden/01.jpg,biden/02.jpg,1\n"
        "obama/01.jpg,biden/01.jpg,0\n"
        "rose_leslie/01.jpg,kit_harington/02.jpg,0\n"
        "rose_leslie/01.jpg,groups/two_people.jpg,0\n"
    )
    return path


@pytest.mark.faces
def test_evaluate_json_and_plot(small_set, faces_dir, tmp_path, capsys):
    plot = tmp_path / "det.png"
    code, out, _ = run(["face", "evaluate", "--pairs", str(small_set), "--images", str(faces_dir),
                        "--plot", str(plot), "--json"], capsys)
    result = json.loads(out)
    assert code == 0
    assert result["genuine_pairs"] == 2 and result["impostor_pairs"] == 3
    assert result["failed_to_enrol"] == [] and result["threshold"] == DEFAULT_MAX_DISTANCE
    assert result["far"] == 0.0 and result["frr"] == 0.0 and result["eer"] == 0.0
    assert result["frr_at_far_0.1%"]["resolved"] is False
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.faces
def test_evaluate_counts_failure_to_enrol(faces_dir, tmp_path, capsys):
    (tmp_path / "obama").mkdir()
    (tmp_path / "biden").mkdir()
    for name in ("obama/01.jpg", "obama/03.jpg", "biden/02.jpg"):
        (tmp_path / name).write_bytes((faces_dir / name).read_bytes())
    (tmp_path / "biden" / "broken.jpg").write_bytes(b"not an image")
    code, out, _ = run(["face", "evaluate", "--images", str(tmp_path), "--json"], capsys)
    result = json.loads(out)
    assert code == 0
    [failed] = result["failed_to_enrol"]
    assert failed["image"] == "biden/broken.jpg" and failed["reason"].startswith("cannot decode image")
    assert result["failure_to_enrol_rate"] == 0.25 and result["pairs_skipped"] == 3
    assert result["genuine_pairs"] == 1 and result["impostor_pairs"] == 2


@pytest.mark.faces
def test_calibrate_recommends_a_threshold_with_reasoning(small_set, faces_dir, capsys):
    code, out, _ = run(["face", "calibrate", "--pairs", str(small_set), "--images", str(faces_dir)], capsys)
    assert code == 0 and "recommended threshold" in out and "gap" in out


@pytest.mark.faces
def test_quality_and_compare_commands(faces_dir, capsys):
    code, out, _ = run(["face", "quality", str(faces_dir / "obama/09_small.jpg"), "--json"], capsys)
    result = json.loads(out)
    assert code == 0 and result["faces"] == 1 and result["messages"] == ["move closer"]
    code, out, _ = run(["face", "compare", str(faces_dir / "obama/01.jpg"), str(faces_dir / "obama/02.jpg")], capsys)
    assert code == 0 and out.startswith("MATCH")


def test_bad_inputs_exit_2_with_a_message(tmp_path, capsys):
    (tmp_path / "bad.jpg").write_bytes(b"\x00\x01")
    code, _, err = run(["face", "quality", str(tmp_path / "bad.jpg")], capsys)
    assert code == 2 and "cannot decode image" in err
    code, _, err = run(["face", "evaluate", "--pairs", str(tmp_path / "none.csv"), "--images", str(tmp_path)], capsys)
    assert code == 2 and "cannot read pairs file" in err


@pytest.mark.faces
def test_bench_face_json(faces_dir, tmp_path, capsys):
    (tmp_path / "obama").mkdir()
    (tmp_path / "obama" / "09.jpg").write_bytes((faces_dir / "obama/09_small.jpg").read_bytes())
    code, out, _ = run(["bench", "face", "--images", str(tmp_path), "--repeat", "1", "--no-baseline", "--json"],
                       capsys)
    result = json.loads(out)
    assert code == 0 and result["images"] == 1
    assert set(result["stages_ms"]) == {"detect", "quality", "template", "detect+template"}
    assert result["stages_ms"]["template"]["p50"] > 0 and isinstance(result["meets_target"], bool)
