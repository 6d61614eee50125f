"""A private pcscd with the vpcd reader, for tests that go through real PC/SC.

Where pcscd cannot be started here (not installed, another pcscd running),
those tests skip with the reason; under CI=true that is a failure instead.
"""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from hardware_sim.pcscd import Pcscd, PcscdUnavailable


@pytest.fixture(scope="module")
def pcscd() -> Iterator[Pcscd]:
    try:
        daemon = Pcscd().start()
    except PcscdUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"pcscd with vpcd is required under CI: {error}")
        pytest.skip(f"pcscd with vpcd not available: {error}")
    yield daemon
    daemon.stop()
