"""`limes bench files` end to end on a small travellers gallery (the real figures come from the 1M run):
every new traveller gets a file, every face already in another identity's file is found and refused."""
import json

from limes.cli import main


def test_bench_files_opens_a_file_per_new_traveller_and_refuses_the_duplicates(capsys):
    code = main(["bench", "files", "--gallery", "3000", "--enrolments", "20", "--duplicates", "10", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["gallery"] == 3000 and result["at_rest"] == "sealed"
    # Synthetic populations hold look-alikes (1%): a new traveller may match another's file as a duplicate.
    statuses = result["new_check_statuses"]
    assert set(statuses) <= {"NEW", "DUPLICATE"} and sum(statuses.values()) == 20 and statuses["NEW"] >= 18
    assert result["opened"] == statuses["NEW"]
    # Exact search below 20,000 faces; the synthetic second photos sit well inside the duplicate score.
    assert result["duplicates_found_at_check"] == 10 and result["duplicates_refused_at_enrolment"] == 10
    for figures in (result["enrol_ms"], result["check_ms"], result["duplicate_check_ms"]):
        assert 0 < figures["p50"] <= figures["p95"] <= figures["max"]
    assert result["meets_target"] == (result["enrol_ms"]["p95"] <= 50.0)
