"""Settings shared by every component, each read from one environment variable.

Nothing here depends on where the code lies: an installed wheel and a checkout behave
alike. The checkout's `./limes` sets both variables to its own folders (var/ and
../shared/faces beside the checkout); services set them in their unit files.
"""
from __future__ import annotations

import os
from pathlib import Path


def faces_dir() -> Path:
    """The real face photos (read-only, never copied into the repository).

    LIMES_FACES_DIR, else `../shared/faces` from the working directory: the shared folder beside
    a checkout, where `./limes` runs.
    """
    return Path(os.environ.get("LIMES_FACES_DIR") or Path.cwd().parent / "shared" / "faces")


def var_dir() -> Path:
    """Where local state lives (SQLite files, matcher logs, certificates); created when missing.

    LIMES_VAR_DIR, else the user's state folder under XDG_STATE_HOME (~/.local/state/limes), or
    /var/lib/limes for root, as services run.
    """
    path = Path(os.environ.get("LIMES_VAR_DIR") or _default_var_dir())
    path.mkdir(parents=True, exist_ok=True)
    return path


def key_file() -> Path:
    """The key file that seals biometric data at rest (common.sealing).

    LIMES_KEY_FILE, else /etc/limes/at-rest.key for root, as services run, or the user's config folder
    (XDG_CONFIG_HOME, ~/.config/limes/at-rest.key): never inside the state folder it protects.
    """
    if os.environ.get("LIMES_KEY_FILE"):
        return Path(os.environ["LIMES_KEY_FILE"])
    if os.geteuid() == 0:
        return Path("/etc/limes/at-rest.key")
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config_home) / "limes" / "at-rest.key"


def _default_var_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/limes")
    state_home = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state_home) / "limes"
