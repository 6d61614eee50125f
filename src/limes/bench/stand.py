"""What the benchmarks that run a simulated border post (gate, desk) share before they start."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from common.settings import faces_dir, var_dir


def faces_folder(given: Path | None) -> Path | None:
    """The real face photos (--faces, else the setting); None, with the error printed, when missing."""
    faces = given or faces_dir()
    if not (faces / "obama").is_dir():
        print(f"error: face photos not found in {faces}; set LIMES_FACES_DIR or pass --faces", file=sys.stderr)
        return None
    return faces


def fresh_state(given: Path | None, name: str) -> Path:
    """The benchmark's state folder (--state, else NAME under the var dir), emptied: every run starts alike."""
    state = given or var_dir() / name
    shutil.rmtree(state, ignore_errors=True)
    return state
