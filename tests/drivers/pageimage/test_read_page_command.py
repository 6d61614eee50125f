"""`limes docreader read-page`: a page image file in, the MRZ (or a clear error) out."""
import json

import cv2
import pytest

from hardware_sim.datapage import encode_jpeg, render_page
from limes.cli import build_parser
from tests.drivers.pageimage.test_read_mrz import ICAO_SPECIMEN_MRZ, SPECIMEN


def run(argv, capsys):
    args = build_parser().parse_args(argv)
    return args.func(args), capsys.readouterr()


def test_a_page_image_is_read_to_json(tmp_path, capsys):
    path = tmp_path / "page.jpg"
    path.write_bytes(encode_jpeg(render_page(SPECIMEN), 85))
    code, out = run(["docreader", "read-page", str(path), "--json"], capsys)
    result = json.loads(out.out)
    assert code == 0 and result["mrz"] == ICAO_SPECIMEN_MRZ
    assert result["flagged"] is False and result["check_digits_valid"] is True and result["uncertain"] == []


def test_a_flagged_reading_exits_1_and_says_why(tmp_path, capsys):
    path = tmp_path / "page.png"
    misprinted = render_page(type(SPECIMEN)(**{**SPECIMEN.__dict__, "mrz": ICAO_SPECIMEN_MRZ[:-1] + "9"}))
    cv2.imwrite(str(path), misprinted[..., ::-1])
    code, out = run(["docreader", "read-page", str(path)], capsys)
    assert code == 1 and out.out.startswith("FLAGGED: ")


@pytest.mark.parametrize(("content", "message"), [
    (b"GIF89a not really", "not a readable JPEG or PNG"),
    (b"\xff\xd8\xff\xe0 broken jpeg", "broken"),
    (b"", "empty"),
])
def test_bad_files_get_a_clear_error_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    code, out = run(["docreader", "read-page", str(path), "--json"], capsys)
    assert code == 2 and message in json.loads(out.out)["error"]


def test_a_missing_file_is_a_clear_error(tmp_path, capsys):
    code, out = run(["docreader", "read-page", str(tmp_path / "nowhere.png")], capsys)
    assert code == 2 and "No such file" in out.out
