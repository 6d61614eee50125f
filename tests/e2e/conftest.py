from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from hardware_sim.pcscd import PcscdUnavailable
from limes.borderpost import demo_border_post


@contextmanager
def border_post_or_skip(state_dir, faces_dir, **options):
    """The demo border post; skips where pcscd cannot run here, except under CI."""
    try:
        manager = demo_border_post(state_dir, faces_dir, **options)
        post = manager.__enter__()
    except PcscdUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"pcscd with vpcd is required under CI: {error}")
        pytest.skip(f"pcscd with vpcd not available: {error}")
    try:
        yield post
    finally:
        manager.__exit__(None, None, None)
