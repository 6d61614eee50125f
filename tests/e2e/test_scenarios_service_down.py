"""The scenarios that take a service down, each on a border post of its own."""
from __future__ import annotations

import pytest

from hardware_sim.scenarios import scenarios
from limes.scenarios_cli import run_scenarios
from tests.e2e.conftest import border_post_or_skip

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("scenario", [s for s in scenarios() if s.stops is not None], ids=lambda s: s.name)
def test_scenario_with_a_service_down(faces_dir, tmp_path, scenario):
    with border_post_or_skip(tmp_path, faces_dir, travellers=[scenario.traveller]) as post:
        [result] = run_scenarios(post, [scenario])
    assert result["status"] == "pass", result
    assert any(reason.startswith(f"watchlist.face: could not be checked ({scenario.stops} unavailable")
               for reason in result["reasons"]), result["reasons"]
