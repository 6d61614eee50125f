"""`limes bench ocr` on two pages: it counts each page once, as exact, flagged or silently wrong,
and times it in wall-clock and CPU time; --ink-spread draws the same pages heavier. --real reads
page images Limes did not make."""
import json
import shutil
from pathlib import Path

import pytest

from hardware_sim.datapage.handheld import HANDHELD
from limes.cli import main


def test_the_ocr_benchmark_accounts_for_every_page(capsys):
    code = main(["bench", "ocr", "--pages", "2", "--ink-spread", "1", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["exact"] + result["flagged"] + result["silently_wrong"] == 2
    assert result["silently_wrong"] == 0 and result["ink_spread_px"] == 1
    assert result["ms_per_page"]["p50"] > 0 and result["cpu_ms_per_page"]["p50"] > 0
    assert code == (0 if result["met"] else 1)


def test_the_ink_spread_is_bounded(capsys):
    with pytest.raises(SystemExit) as refused:
        main(["bench", "ocr", "--ink-spread", "9"])
    assert refused.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


REAL = Path(__file__).parents[1] / "fixtures" / "pages" / "real"


def test_the_real_pages_benchmark_counts_a_reading_that_differs_from_the_print_as_silently_wrong(tmp_path, capsys):
    # The British specimen, said to carry another MRZ: what it is read as can only be flagged or wrong.
    shutil.copy(REAL / "gbr-specimen-td3.jpg", tmp_path)
    other = json.loads((REAL / "printed.json").read_text())["isl-specimen-photo-td3.jpg"]
    (tmp_path / "printed.json").write_text(json.dumps({"gbr-specimen-td3.jpg": other}))
    code = main(["bench", "ocr", "--real", str(tmp_path), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["readings"] == 1 + len(HANDHELD) == len(result["per_image"])
    assert result["silently_wrong"] >= 1 and not result["met"] and code == 1
    assert result["exact"] == 0
    assert result["per_image"][0] == {**result["per_image"][0], "made": "as it is", "outcome": "silently wrong"}


def test_the_real_pages_benchmark_refuses_a_folder_without_printed_mrzs(tmp_path, capsys):
    assert main(["bench", "ocr", "--real", str(tmp_path)]) == 2
    assert "printed.json" in capsys.readouterr().err
