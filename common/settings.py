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
    explicit = os.environ.get("LIMES_KEY_FILE")
    return Path(explicit) if explicit else _system_or_user("/etc/limes/at-rest.key", "XDG_CONFIG_HOME", ".config",
                                                           "at-rest.key")


def key_file_of(args) -> Path:
    """The key file a command's --key-file names (add_key_file_flag), else key_file()."""
    return args.key_file or key_file()


def add_key_file_flag(parser, protects: str, *, made_when_missing: bool = True) -> None:
    """--key-file for a command that seals or opens `protects` at rest; one help text for every command."""
    made = ", made (mode 600) when missing" if made_when_missing else ""
    parser.add_argument("--key-file", metavar="PATH", type=Path, default=None,
                        help=f"the key file sealing {protects} at rest{made}; keep it outside the data it protects "
                             f"(default: $LIMES_KEY_FILE, /etc/limes/at-rest.key as root, else "
                             f"~/.config/limes/at-rest.key)")


def _default_var_dir() -> Path:
    return _system_or_user("/var/lib/limes", "XDG_STATE_HOME", ".local/state")


def _system_or_user(system: str, xdg_variable: str, home_default: str, *inside: str) -> Path:
    """A service's path as root; otherwise the user's XDG folder of that kind (~/home_default when unset)."""
    if os.geteuid() == 0:
        return Path(system)
    return Path(os.environ.get(xdg_variable) or Path.home() / home_default, "limes", *inside)
