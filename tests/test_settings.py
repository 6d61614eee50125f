"""Settings come from the environment, never from where the code lies (an installed wheel works)."""
from __future__ import annotations

import os

from common import settings


def test_the_environment_names_the_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("LIMES_VAR_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LIMES_FACES_DIR", str(tmp_path / "faces"))
    assert settings.var_dir() == tmp_path / "state"
    assert (tmp_path / "state").is_dir()
    assert settings.faces_dir() == tmp_path / "faces"


def test_without_the_environment_state_goes_to_the_system_or_user_state_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("LIMES_VAR_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert settings.var_dir() == tmp_path / "limes"
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert settings._default_var_dir() == settings.Path("/var/lib/limes")


def test_without_the_environment_the_faces_are_beside_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("LIMES_FACES_DIR")
    monkeypatch.chdir(tmp_path)
    assert settings.faces_dir() == tmp_path.parent / "shared" / "faces"
