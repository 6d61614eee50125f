"""Settings shared by every component, each read from one environment variable.

Defaults are the embedded ones: everything on this machine, state under ./var.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # src/limes/settings.py


def faces_dir() -> Path:
    """The real face photos (read-only, never copied into the repository)."""
    return Path(os.environ.get("LIMES_FACES_DIR", PROJECT_ROOT.parent / "shared" / "faces"))


def var_dir() -> Path:
    """Where local state lives (SQLite files, matcher logs, certificates)."""
    path = Path(os.environ.get("LIMES_VAR_DIR", PROJECT_ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path
