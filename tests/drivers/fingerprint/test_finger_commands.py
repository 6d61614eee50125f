"""`limes finger ...` through the `limes` parser, on a small synthetic data set."""
from __future__ import annotations

import json

import pytest

from drivers.fingerprint import ansi_nist, iso19794_2
from limes.cli import build_parser


def run(argv: list[str], capsys) -> tuple[int, dict | str, str]:
    args = build_parser().parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--json" in argv and out else out), err


@pytest.fixture(scope="module")
def data_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fingers")
    args = build_parser().parse_args(["finger", "synth", "--out", str(folder), "--fingers", "3",
                                      "--difficulty", "0.5", "--seed", "40"])
    assert args.func(args) == 0
    return folder


def test_synth_writes_impressions_and_labelled_pairs(data_set):
    lines = (data_set / "pairs.csv").read_text().splitlines()
    assert lines[0] == "a,b,mated"
    assert len(lines) == 1 + 3 + 3 * 2            # three mated pairs, six non-mated
    assert len(list(data_set.glob("*.png"))) == 6


def test_compare_mates_and_non_mates(data_set, capsys):
    code, mate, _ = run(["finger", "compare", str(data_set / "f00040_0.png"), str(data_set / "f00040_1.png"),
                         "--json"], capsys)
    assert code == 0 and mate["match"] is True and mate["score"] >= mate["threshold"]
    code, other, _ = run(["finger", "compare", str(data_set / "f00040_0.png"), str(data_set / "f00041_1.png"),
                          "--json"], capsys)
    assert code == 0 and other["match"] is False and other["score"] < mate["score"]
    code, strict, _ = run(["finger", "compare", str(data_set / "f00040_0.png"), str(data_set / "f00040_1.png"),
                           "--threshold", "100.5", "--json"], capsys)
    assert strict["match"] is False and strict["threshold"] == 100.5 and strict["score"] == mate["score"]


def test_template_records_compare_like_their_images(data_set, tmp_path, capsys):
    record, transaction = tmp_path / "a.fmr", tmp_path / "a.an2"
    code, template, _ = run(["finger", "template", str(data_set / "f00040_0.png"), "--position", "2",
                             "--iso", str(record), "--ansi-nist", str(transaction), "--json"], capsys)
    assert code == 0 and template["position"] == 2
    (view,) = iso19794_2.decode(record.read_bytes())
    assert len(view.minutiae) == len(template["minutiae"])
    (finger,) = ansi_nist.decode(transaction.read_bytes())
    assert finger.position == 2 and finger.compression == "WSQ" and finger.quality == template["quality"]
    code, result, _ = run(["finger", "compare", str(record), str(data_set / "f00040_1.png"), "--json"], capsys)
    assert code == 0 and result["match"] is True


def test_quality_json_and_the_recapture_prompt(data_set, capsys):
    code, result, _ = run(["finger", "quality", str(data_set / "f00041_0.png"), "--json"], capsys)
    assert code == 0 and 0 <= result["score"] <= 100 and result["recapture"] is False
    code, strict, _ = run(["finger", "quality", str(data_set / "f00041_0.png"), "--threshold", "101", "--json"],
                          capsys)
    assert strict["recapture"] is True


def test_evaluate_reports_rates_and_det_points(data_set, tmp_path, capsys):
    scores = tmp_path / "scores.csv"
    code, result, _ = run(["finger", "evaluate", "--pairs", str(data_set / "pairs.csv"), "--images", str(data_set),
                           "--scores", str(scores), "--json"], capsys)
    assert code == 0
    assert (result["mated_pairs"], result["non_mated_pairs"], result["failed_to_enrol"]) == (3, 6, [])
    assert result["fmr"] == 0.0 and result["fnmr"] == 0.0
    assert result["det"] and all({"threshold", "fmr", "fnmr"} <= point.keys() for point in result["det"])
    assert [entry["measurable"] for entry in result["fnmr_at_fmr"]] == [False, False, False]
    rows = scores.read_text().splitlines()
    assert rows[0] == "a,b,mated,score" and len(rows) == 1 + 9
    assert sum(row.split(",")[2] == "1" for row in rows[1:]) == 3


def test_a_broken_image_fails_to_enrol_and_its_pairs_are_skipped(data_set, tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (tmp_path / "good.png").write_bytes((data_set / "f00040_0.png").read_bytes())
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a,b,mated\ngood.png,broken.png,1\ngood.png,good.png,1\n")
    code, result, _ = run(["finger", "evaluate", "--pairs", str(pairs), "--images", str(tmp_path), "--json"], capsys)
    assert code == 0 and result["pairs_skipped"] == 1 and result["mated_pairs"] == 1
    assert result["failed_to_enrol"][0]["image"] == "broken.png"


@pytest.mark.parametrize("content, reason", [(b"not an image", "not an image"),
                                             (b"FMR\x00 20\x00\x00\x00", "truncated"),
                                             (b"{\"minutiae\": 3}", "malformed template")])
def test_unusable_inputs_are_a_clear_error(tmp_path, capsys, content, reason):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(content)
    code, result, err = run(["finger", "compare", str(bad), str(bad), "--json"], capsys)
    assert code == 2 and reason in result["error"] and reason in err


def test_a_malformed_pairs_file_is_refused(tmp_path, capsys):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a,b,mated\nx.png,y.png,maybe\n")
    code, result, _ = run(["finger", "evaluate", "--pairs", str(pairs), "--images", str(tmp_path), "--json"], capsys)
    assert code == 2 and "line 2" in result["error"]
