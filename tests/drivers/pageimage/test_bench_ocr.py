"""`limes bench ocr` on two pages: it counts each page once, as exact, flagged or silently wrong,
and times it in wall-clock and CPU time; --ink-spread draws the same pages heavier."""
import json

import pytest

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
