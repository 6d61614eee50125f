"""The demo's travellers and how their `because` checks must end, without devices."""
from __future__ import annotations

import dataclasses

import pytest

from hardware_sim.travellers import (
    BECAUSE_STATUSES,
    GENUINE_FACES,
    check_status,
    demo_travellers,
    genuine_travellers,
    unmet_because,
)


def traveller(label: str):
    return next(t for t in demo_travellers() if t.label == label)


def check(name: str, status: str, reason: str = "x") -> dict:
    return {"name": name, "status": status, "reason": reason}


def test_a_check_not_done_does_not_make_a_case_that_needs_a_failure():
    impostor = traveller("impostor with someone else's passport")
    assert impostor.because == ("face.verification",) and impostor.because_status == "fail"
    # No live face: the comparison was never made, so the impostor was not caught by it.
    assert unmet_because(impostor, [check("face.capture", "fail"),
                                    check("face.verification", "not_done", "no live face")]) \
        == {"face.verification": "not_done"}
    assert unmet_because(impostor, [check("face.verification", "fail", "does not match")]) == {}


def test_a_watchlist_case_is_not_made_by_a_matcher_that_was_down():
    wanted = traveller("on the watchlist")
    assert unmet_because(wanted, [check("watchlist.face", "not_done", "matcher unavailable")]) \
        == {"watchlist.face": "not_done"}
    assert unmet_because(wanted, [check("watchlist.face", "pass")]) == {"watchlist.face": "pass"}
    assert unmet_because(wanted, []) == {"watchlist.face": "missing"}
    assert unmet_because(wanted, [check("watchlist.face", "fail", "watchlist hit")]) == {}


def test_a_declared_not_done_is_met_only_by_not_done():
    down = dataclasses.replace(traveller("on the watchlist"), because_status="not_done")
    assert unmet_because(down, [check("watchlist.face", "not_done", "matcher unavailable")]) == {}
    assert unmet_because(down, [check("watchlist.face", "fail", "watchlist hit")]) == {"watchlist.face": "fail"}


def test_an_offline_answer_is_its_own_status():
    assert check_status(check("alerts.document", "pass", "offline: cached alert list version 3")) == "offline"
    assert check_status(check("alerts.document", "fail", "offline: cached alert list version 3: stolen")) == "fail"
    assert check_status(check("alerts.document", "pass", "no document alert")) == "pass"
    stolen = traveller("passport reported stolen")
    # A pass on the offline copy refers, but it is not the stolen-document hit the case needs.
    assert unmet_because(stolen, [check("alerts.document", "pass", "offline: cached alert list version 3")]) \
        == {"alerts.document": "offline"}


def test_every_demo_referral_declares_a_known_status_and_only_failures():
    # The demo stops no service: every referral it shows is made by a failed check, the traveller
    # with nobody in front of the camera included (the capture fails "no face").
    for t in demo_travellers():
        assert t.because_status in BECAUSE_STATUSES
        assert bool(t.because) == (t.expected == "refer"), t.label
        assert t.because_status == "fail", t.label


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="because_status"):
        dataclasses.replace(traveller("on the watchlist"), because_status="failed")


def test_genuine_travellers_cycle_through_other_people_each_with_a_document_of_their_own(faces_dir):
    travellers = genuine_travellers(2 * len(GENUINE_FACES) + 1, scene="portrait")
    assert len({t.document_number for t in travellers}) == len(travellers)
    first_round = travellers[:len(GENUINE_FACES)]
    assert len({t.live_face for t in first_round}) == len({t.surname for t in first_round}) == len(GENUINE_FACES)
    cycle = len(GENUINE_FACES)
    assert [t.live_face for t in travellers[cycle:]] == [t.live_face for t in travellers[:cycle + 1]]
    for t in travellers:
        assert (t.expected, t.because, t.scene, t.chip_profile) == ("open", (), "portrait", "passport")
        # Another photo of the same person: the same folder, not the same file; both in the shared folder.
        assert t.document_photo != t.live_face and t.document_photo.split("/")[0] == t.live_face.split("/")[0]
        assert (faces_dir / t.document_photo).is_file() and (faces_dir / t.live_face).is_file()
