"""`limes stay check` and `limes bench stay`, run in process."""
from __future__ import annotations

import json

from limes.cli import main

LEGAL = {"id": "a", "stays": [["2014-08-15", "2014-09-30"], ["2014-11-01", None]], "on": "2014-11-30"}
ANSWER = {"id": "a", "days_used": 77, "latest_exit": "2014-12-13", "days_remaining": 14, "overstay_days": 0}


def test_one_case_from_the_command_line(capsys):
    assert main(["stay", "check", "--stays", "2014-08-15:2014-09-30,2014-11-01:", "--on", "2014-11-30",
                 "--id", "a", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [ANSWER]


def test_one_case_in_words(capsys):
    assert main(["stay", "check", "--stays", "2014-08-15:2014-09-30,2014-11-01:", "--on", "2014-11-30"]) == 0
    out = capsys.readouterr().out
    assert "You may stay until 13 December 2014." in out and "77 of 90 days used" in out and "14 remaining" in out


def test_no_stays_at_all(capsys):
    assert main(["stay", "check", "--stays", "", "--on", "2025-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["latest_exit"] == "2025-03-31"


def test_stays_not_written_entry_colon_exit_are_a_usage_error(capsys):
    assert main(["stay", "check", "--stays", "2014-08-15", "--json"]) == 2
    assert "ENTRY:EXIT" in capsys.readouterr().err


def test_a_batch_answers_every_line_in_order(tmp_path, capsys):
    batch = tmp_path / "cases.jsonl"
    batch.write_text(json.dumps(LEGAL) + "\nnot json\n\n" + json.dumps({**LEGAL, "id": "b", "on": "2014-10-01"}))
    assert main(["stay", "check", "--batch", str(batch), "--json"]) == 1  # a line in error
    answers = json.loads(capsys.readouterr().out)
    assert answers[0] == ANSWER and answers[1] == {"id": None, "error": "not JSON"}
    assert answers[2] == {"id": "b", "error": "stay 2 begins after on (2014-11-01 > 2014-10-01)"}


def test_an_empty_batch_is_an_empty_list(tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert main(["stay", "check", "--batch", str(tmp_path / "empty.jsonl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_batch_that_cannot_be_read(tmp_path, capsys):
    assert main(["stay", "check", "--batch", str(tmp_path / "missing.jsonl"), "--json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_batch_over_its_bound_closes_the_list_and_fails(tmp_path, capsys, monkeypatch):
    from central.stays import batch

    monkeypatch.setattr(batch, "MAX_LINES", 2)
    (tmp_path / "long.jsonl").write_text((json.dumps(LEGAL) + "\n") * 3)
    assert main(["stay", "check", "--batch", str(tmp_path / "long.jsonl"), "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [ANSWER, ANSWER] and "more than 2 lines" in captured.err


def test_the_bench_runs_small_and_gives_its_keys(capsys):
    assert main(["bench", "stay", "--repeat", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"stays", "crossings", "on", "repeat", "answer", "authorise_ms", "target_ms_p95", "meets_target",
            "machine", "load_average"} <= set(result)
    assert (result["stays"], result["crossings"], result["authorise_ms"]["count"]) == (250, 500, 3)
    assert {"p50", "p95", "p99"} <= set(result["authorise_ms"])
