"""Every scenario of the library is a test: its traveller through one shared
border post (real gRPC servers, pty reader, vpcd chip, MJPEG camera), the
gate's decision and failing checks judged against the scenario's.

Scenarios that take a service down have their own post
(test_scenarios_service_down.py)."""
from __future__ import annotations

import pytest

from hardware_sim.scenarios import scenarios
from limes.scenarios import run_scenario
from tests.e2e.conftest import border_post_or_skip

pytestmark = pytest.mark.slow

WHOLE_POST = [s for s in scenarios() if s.stops is None]


@pytest.fixture(scope="module")
def post(faces_dir, tmp_path_factory):
    with border_post_or_skip(tmp_path_factory.mktemp("scenarios"), faces_dir,
                             travellers=[s.traveller for s in WHOLE_POST]) as post:
        yield post


@pytest.mark.parametrize("scenario", WHOLE_POST, ids=lambda s: s.name)
def test_scenario(post, scenario):
    result = run_scenario(post, scenario)
    # A pending scenario must still fail the way its reason says; once it passes ("fixed"), drop the mark.
    assert result["status"] == ("pending" if scenario.pending else "pass"), (result["note"], result["reasons"])
