"""The scenario library itself: names, selection and the judge, without devices."""
from __future__ import annotations

import dataclasses
import json

import pytest

from hardware_sim.scenarios import Scenario, desk_scenarios, judge, scenarios, select, select_desk


def outcome(decision: str, **statuses: str) -> dict:
    return {"decision": decision, "reasons": [f"{n}: x" for n, s in statuses.items() if s != "pass"],
            "checks": [{"name": n.replace("_", "."), "status": s} for n, s in statuses.items()]}


def test_names_and_documents_are_unique():
    library = scenarios()
    assert len({s.name for s in library}) == len(library)
    assert len({s.traveller.document_number for s in library}) == len(library)


def test_every_referral_names_the_checks_that_decide_it():
    for scenario in scenarios():
        # An open case names a check only to say it must pass (returning-traveller: the file verified).
        assert bool(scenario.because) == (scenario.expected == "refer") or scenario.because_status == "pass", \
            scenario.name


def test_select_keeps_library_order_and_names_unknown_ones():
    assert [s.name for s in select(["two-people", "genuine"])] == ["genuine", "two-people"]
    with pytest.raises(ValueError, match="unknown scenario.*nosuch"):
        select(["genuine", "nosuch"])


def test_judge():
    genuine, stolen = select(["genuine", "stolen"])
    assert judge(genuine, outcome("open", mrz_valid="pass")).status == "pass"
    assert judge(stolen, outcome("refer", alerts_document="fail")).status == "pass"
    # The right decision for the wrong reason is a failure.
    wrong = judge(stolen, outcome("refer", alerts_document="pass", face_liveness="fail"))
    assert wrong.status == "fail" and "alerts.document" in wrong.note
    assert judge(stolen, outcome("open", alerts_document="pass")).status == "fail"


def test_a_check_not_done_does_not_pass_a_scenario_that_needs_it_to_fail():
    impostor, watchlist = select(["impostor", "watchlist"])
    # No face captured: the refer is right, but the comparison that should catch the impostor never ran.
    uncaught = judge(impostor, outcome("refer", face_capture="fail", face_verification="not_done"))
    assert uncaught.status == "fail" and "face.verification not_done" in uncaught.note
    assert "face.verification" in uncaught.not_passed  # still listed as not passed, for the reader
    assert judge(impostor, outcome("refer", face_capture="pass", face_verification="fail")).status == "pass"
    # The matcher down: the wanted traveller is referred, but not because the watchlist found them.
    unsearched = judge(watchlist, outcome("refer", watchlist_face="not_done"))
    assert unsearched.status == "fail" and "watchlist.face not_done" in unsearched.note
    assert judge(watchlist, outcome("refer", watchlist_face="fail")).status == "pass"
    # A check the gate never reported makes no case either.
    missing = judge(watchlist, outcome("refer", face_liveness="fail"))
    assert missing.status == "fail" and "watchlist.face missing" in missing.note


def test_a_scenario_that_declares_not_done_needs_exactly_that():
    [matcher_down] = select(["matcher-down"])
    assert matcher_down.because_status == "not_done"
    assert judge(matcher_down, outcome("refer", watchlist_face="not_done")).status == "pass"
    hit = judge(matcher_down, outcome("refer", watchlist_face="fail"))
    assert hit.status == "fail" and "watchlist.face fail" in hit.note
    assert judge(matcher_down, outcome("refer", watchlist_face="pass", face_liveness="fail")).status == "fail"


def test_only_service_stops_declare_anything_but_a_failure():
    """not_done is the point only where a service is down, offline only where central is."""
    for scenario in scenarios():
        expected = {None: "fail", "matcher": "not_done", "central": "offline"}[scenario.stops]
        if scenario.expected == "open":
            assert scenario.because_status == "pass" or not scenario.because, scenario.name
        elif scenario.because:
            assert scenario.because_status == expected, scenario.name


def test_the_file_scenarios_need_central_s_answer_on_the_file_not_only_a_passed_check():
    returning, twin = select(["returning-traveller", "second-passport-same-face"])
    verified = {"decision": "open", "offline": False, "reasons": [], "traveller_file": {"status": "VERIFIED"},
                "checks": [{"name": "traveller.file", "status": "pass", "reason": "file F: live face matches"}]}
    assert judge(returning, verified).status == "pass"
    # The seeded file not found: the check passes as a new traveller's, which is not this case.
    new = {**verified, "traveller_file": {"status": "NEW"}}
    unverified = judge(returning, new)
    assert unverified.status == "fail" and "traveller file NEW (expected VERIFIED)" in unverified.note
    duplicate = {"decision": "refer", "offline": False, "reasons": ["traveller.file: possible multiple identity"],
                 "traveller_file": {"status": "DUPLICATE"},
                 "checks": [{"name": "traveller.file", "status": "fail", "reason": "possible multiple identity"}]}
    assert judge(twin, duplicate).status == "pass"
    mismatch = {**duplicate, "traveller_file": {"status": "MISMATCH"}}
    assert judge(twin, mismatch).status == "fail"


def test_judge_of_an_offline_decision():
    [central_down] = select(["central-down"])
    offline = {"decision": "refer", "offline": True, "reasons": ["..."], "checks": [
        {"name": "alerts.document", "status": "pass", "reason": "offline: cached alert list version 3, 0 minutes old"},
        {"name": "alerts.person", "status": "pass", "reason": "offline: cached alert list version 3, 0 minutes old"}]}
    assert judge(central_down, offline).status == "pass"
    online = {**offline, "offline": False, "checks": [
        {"name": "alerts.document", "status": "not_done", "reason": "central unavailable"},
        {"name": "alerts.person", "status": "not_done", "reason": "central unavailable"}]}
    refused = judge(central_down, online)
    assert refused.status == "fail" and "expected a decision from the gate's alert cache" in refused.note
    assert "alerts.document not_done" in refused.note
    # Decided offline, but a stale copy answered nothing (not_done): not the offline answer declared.
    stale = {**offline, "checks": [{**c, "status": "not_done"} for c in offline["checks"]]}
    assert judge(central_down, stale).status == "fail"


def test_pending_scenario_is_pending_while_failing_and_fixed_once_passing():
    person = dataclasses.replace(select(["person-alert"])[0], pending="the gate lacks the person check")
    assert judge(person, outcome("open", alerts_document="pass")).status == "pending"
    fixed = judge(person, outcome("refer", alerts_person="fail"))
    assert fixed.status == "fixed" and not fixed.ok


def test_a_scenario_can_only_stop_known_services():
    genuine = select(["genuine"])[0]
    with pytest.raises(ValueError, match="cannot stop"):
        dataclasses.replace(genuine, stops="camera")
    with pytest.raises(ValueError, match="expected"):
        Scenario("x", dataclasses.replace(genuine.traveller, expected="maybe"))


def test_sim_run_lists_the_library(capsys):
    from limes.cli import main

    assert main(["sim", "run", "--list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    # The gate's library, then the officer desk's.
    assert [item["scenario"] for item in listing] == [s.name for s in scenarios()] + [
        s.name for s in desk_scenarios()]
    assert [bool(item["pending"]) for item in listing] == [bool(s.pending) for s in scenarios()] + [
        bool(s.pending) for s in desk_scenarios()]
    assert [item.get("at") for item in listing if item["scenario"].startswith("desk-")] == ["desk"] * 5


def test_the_desk_scenarios_are_chosen_by_name_beside_the_gates():
    assert [s.name for s in select(["genuine", "desk-offline"])] == ["genuine"]
    assert [s.name for s in select_desk(["genuine", "desk-offline"])] == ["desk-offline"]
    assert [s.name for s in select_desk(None)] == ["desk-refusal", "desk-visa-holder", "desk-no-chip",
                                                   "desk-fingerprints", "desk-offline"]


def test_sim_run_refuses_an_unknown_scenario(capsys):
    from limes.cli import main

    assert main(["sim", "run", "--scenario", "nosuch"]) == 2
    assert "unknown scenario(s) nosuch" in capsys.readouterr().err


class _Post:
    """Hands back the outcomes given, one per approach, as the demo post's pass_through would."""

    def __init__(self, *outcomes: dict) -> None:
        self.outcomes = list(outcomes)

    def pass_through(self, traveller) -> dict:
        found = self.outcomes.pop(0)
        return {"outcome": {"timings_ms": {}, "offline": False, "crossing_id": "c", "traveller": {}, **found},
                "seconds": 1.0}


def test_a_traveller_whose_face_was_refused_on_quality_walks_up_once_more():
    from limes.scenarios import run_scenario

    [genuine] = select(["genuine"])
    refused = {**outcome("refer", face_capture="fail", mrz_valid="pass"),
               "reasons": ["face.capture: poor quality: yaw"]}
    post = _Post(refused, outcome("open", mrz_valid="pass"))
    result = run_scenario(post, genuine)
    assert result["status"] == "pass" and result["approaches"] == 2 and "poor quality: yaw" in result["note"]
    # Only once: a second refusal is the scenario's result.
    post = _Post(refused, refused, outcome("open", mrz_valid="pass"))
    again = run_scenario(post, genuine)
    assert again["status"] == "fail" and again["approaches"] == 2 and len(post.outcomes) == 1
    # A scenario that is about the capture's refusal is judged on its first approach.
    [no_face] = [s for s in scenarios() if "face.capture" in s.because][:1]
    post = _Post({**outcome("open", face_capture="fail"), "reasons": ["face.capture: poor quality: yaw"]},
                 outcome("open"))
    assert "approaches" not in run_scenario(post, no_face) and len(post.outcomes) == 1
