"""Fixtures shared by the whole suite.

The real face photos live outside the repository (LIMES_FACES_DIR, default
../shared/faces). Where they are absent, tests that need them skip with the
reason, except under CI=true, where their absence is a failure.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from common.settings import faces_dir as configured_faces_dir
from proto.dev_pki import DevPki

# The checkout's own folders, as ./limes sets them, for a suite run straight through pytest.
ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LIMES_FACES_DIR", str(ROOT.parent / "shared" / "faces"))
os.environ.setdefault("LIMES_VAR_DIR", str(ROOT / "var"))
os.environ.setdefault("LIMES_KEY_FILE", str(ROOT / "var" / "keys" / "at-rest.key"))


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    path = configured_faces_dir()
    if not (path / "obama").is_dir():
        message = f"real face photos not found at {path} (set LIMES_FACES_DIR)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory) -> DevPki:
    """One development CA for the run (proto.dev_pki): `.server()` for the services, and
    `.station(id)` or `.user(name)` for a client, each issued on first use."""
    return DevPki(tmp_path_factory.mktemp("pki"))
