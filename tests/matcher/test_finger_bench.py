"""`limes bench finger --gallery N` end to end on a gallery of a few synthetic fingers (the real figures come
from big runs), and the template cache it reads: only the touches asked for, kept across runs."""
import json

from limes.bench import finger_data, finger_search
from limes.cli import main


def test_the_cache_makes_only_missing_touches_and_keeps_them(tmp_path, monkeypatch):
    monkeypatch.setenv("LIMES_VAR_DIR", str(tmp_path))
    assert finger_data.prepare([7001, 7002], 1.0, workers=1, touches=(0,)) == 2
    assert finger_data.prepare([7001, 7002], 1.0, workers=1, touches=(0,)) == 0   # kept: nothing made again
    first = finger_data.fingers([7001], 1.0, touches=())[7001]
    assert set(first) == {0} and len(first[0].minutiae) >= 10
    assert finger_data.prepare([7001], 1.0, workers=1, touches=(0, 1)) == 1     # the second touch added
    both = finger_data.fingers([7001], 1.0, touches=())[7001]
    assert set(both) == {0, 1} and both[0] == first[0]                           # the first left as it was
    assert both[1] != both[0]
    assert len(finger_data.generation_cpu_s([7001, 7002], 1.0)) == 2
    assert not list(finger_data.cache_dir(1.0).glob("*.tmp"))


def test_bench_reports_shortlist_recall_apart_from_fnir_at_fpir(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIMES_VAR_DIR", str(tmp_path))
    code = main(["bench", "finger", "--gallery", "4", "--searches", "2", "--shortlist", "4",
                 "--seeds", "7101-7104", "--non-mated-seeds", "7201-7202", "--workers", "1", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["data_set"]["gallery_seeds"] == "7101-7104" and result["data_set"]["non_mated_seeds"] == "7201-7202"
    assert result["generation"]["fingers_made_now"] == 6 and result["generation"]["cpu_s_a_finger"]["count"] == 6
    assert result["encoding"]["version"] == "mcc-bits-8x8x6-1" and result["encoding"]["cylinder_rows"] > 4 * 10
    assert list(result["by_search_fingers"]) == ["1"]        # --per-subject 1: single-finger searches only
    single = result["by_search_fingers"]["1"]
    recall = single["shortlist_recall"]
    assert set(recall) == {"at_1", "at_8", "at_32", "at_4"} and recall["at_4"] == 1.0   # all four subjects voted on
    assert 0 <= single["at_fpir_1pct"]["fnir"] <= 1 and single["at_fpir_1pct"]["measurable"] is False
    assert single["search_ms"]["count"] == 4 and single["search_cpu_ms"]["p50"] > 0
    assert result["measured_at_target_size"] is False
    assert single["shortlist_cpu_ms"]["count"] == 4
    assert single["shortlist_cpu_ms"]["p50"] <= single["search_cpu_ms"]["p50"]
    # each search's best scores are kept, so a decision rule can be recomputed from the JSON later
    kept = single["searches"]
    assert len(kept["mated"]) == 2 and len(kept["non_mated"]) == 2
    assert all(s["mate_place"] is None for s in kept["non_mated"])
    assert all(1 <= len(s["best"]) <= 3 and s["best"] == sorted(s["best"], reverse=True)
               for s in kept["mated"] + kept["non_mated"])
    # made once: a second run reads the cache
    main(["bench", "finger", "--gallery", "4", "--searches", "2", "--seeds", "7101-7104",
          "--non-mated-seeds", "7201-7202", "--json"])
    again = json.loads(capsys.readouterr().out)
    assert again["generation"]["fingers_made_now"] == 0
    assert again["by_search_fingers"]["1"]["shortlist"] == 32     # none asked: the matcher's for one finger


def test_one_gallery_answers_searches_of_each_finger_count(tmp_path, monkeypatch, capsys):
    """Two-finger subjects searched with both fingers and with each finger alone: a subject's two fingers make
    two single-finger searches, each fused search uses the sum threshold of its own finger count."""
    monkeypatch.setenv("LIMES_VAR_DIR", str(tmp_path))
    code = main(["bench", "finger", "--gallery", "6", "--per-subject", "2", "--search-fingers", "1,2",
                 "--searches", "2", "--shortlist", "3", "--seeds", "7101-7106", "--non-mated-seeds", "7201-7204",
                 "--workers", "1", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["data_set"]["gallery_subjects"] == 3
    both, single = result["by_search_fingers"]["2"], result["by_search_fingers"]["1"]
    assert (both["mated_searches"], both["non_mated_searches"]) == (2, 2)
    assert (single["mated_searches"], single["non_mated_searches"]) == (4, 4)
    assert both["shortlist"] == single["shortlist"] == 3                    # asked for, whatever the count
    assert both["at_shipped_threshold"]["threshold"] > single["at_shipped_threshold"]["threshold"]
    # the mate is among the three subjects there are, whichever of its fingers searched
    assert both["shortlist_recall"]["at_3"] == 1.0 and single["shortlist_recall"]["at_3"] == 1.0
    text = finger_search.render(result)
    assert "1-finger searches (4 mated, 4 non-mated, 3 subjects re-ranked)" in text
    assert "2-finger searches (2 mated" in text


def test_search_fingers_beyond_what_subjects_enrol_is_refused(capsys):
    code = main(["bench", "finger", "--gallery", "4", "--per-subject", "1", "--search-fingers", "1,4", "--json"])
    assert code == 2 and "--search-fingers" in capsys.readouterr().err
