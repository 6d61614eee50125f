"""The scenarios that take a service down, each on a border post of its own."""
from __future__ import annotations

import pytest

from hardware_sim.scenarios import scenarios
from limes.scenarios import run_scenarios
from tests.e2e.conftest import border_post_or_skip

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", [s for s in scenarios() if s.stops is not None], ids=lambda s: s.name)
def test_scenario_with_a_service_down(faces_dir, tmp_path, scenario):
    with border_post_or_skip(tmp_path, faces_dir, travellers=[scenario.traveller]) as post:
        [result] = run_scenarios(post, [scenario])
    assert result["status"] == "pass", (result["note"], result["reasons"])
    if scenario.stops == "matcher":
        assert any(reason.startswith("watchlist.face: could not be checked (matcher unavailable")
                   for reason in result["reasons"]), result["reasons"]
    else:  # central: both alert lists answered from the gate's cache, which does not open the gate by default
        assert result["offline"] and "replayed from the gate's outbox, recorded once" in result["note"]
        for check in ("alerts.document", "alerts.person"):
            assert any(reason.startswith(f"{check}: offline: cached alert list") and
                       reason.endswith("(central unreachable; offline answers do not open the gate)")
                       for reason in result["reasons"]), result["reasons"]
