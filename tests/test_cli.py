"""Every `limes` command answers --help, and every one that prints results takes --json."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from limes.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
# Long-running servers print only where they listen, not results.
SERVERS = {("matcher", "serve"), ("matcher", "router")}


def leaves(parser, path=()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, child in subs[0].choices.items():
        yield from leaves(child, path + (name,))


COMMANDS = list(leaves(build_parser(full=True)))


def test_the_documented_commands_exist():
    paths = {path for path, _ in COMMANDS}
    assert {("demo",), ("bench", "matcher"), ("bench", "face"), ("central", "serve"), ("matcher", "serve"),
            ("face", "evaluate"), ("mrz", "check")} <= paths


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_help(path, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*path, "--help"])
    assert exit_.value.code == 0
    assert "usage: limes " + " ".join(path) in capsys.readouterr().out


@pytest.mark.parametrize("path, parser", [(p, q) for p, q in COMMANDS if p not in SERVERS],
                         ids=[" ".join(p) for p, _ in COMMANDS if p not in SERVERS])
def test_result_commands_take_json(path, parser):
    assert any("--json" in action.option_strings for action in parser._actions)


HEAVY = ("grpc", "numpy", "sqlalchemy", "cv2", "dlib", "faiss", "cryptography")


def _modules_after(argv: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after `limes ARGV` (which must exit 0, as --help does)."""
    code = ("import sys\nfrom limes.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as exit_:\n    assert exit_.code == 0, exit_.code\n"
            "print('MODULES', *sorted(sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split("MODULES", 1)[1].split())


def _loaded(modules: set[str], package: str) -> set[str]:
    return {m for m in modules if m == package or m.startswith(package + ".")}


def test_help_imports_no_command_and_nothing_heavy():
    modules = _modules_after(["--help"])
    assert not _loaded(modules, "limes.commands") and not _loaded(modules, "limes.bench")
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
    assert not {m for m in modules if m.split(".")[0] in ("central", "matcher", "edge", "drivers", "hardware_sim",
                                                           "proto")}


def test_a_command_imports_its_own_module_only():
    assert _loaded(_modules_after(["mrz", "--help"]), "limes.commands") == {"limes.commands", "limes.commands.mrz"}
    modules = _modules_after(["bench", "--help"])
    assert _loaded(modules, "limes.commands") == {"limes.commands", "limes.commands.bench"}
    assert not _loaded(modules, "limes.bench") and not {m for m in modules if m.split(".")[0] in HEAVY}


def test_the_table_names_every_module():
    from limes.cli import COMMANDS
    from limes.commands.bench import BENCHES

    for package, table in (("commands", COMMANDS), ("bench", BENCHES)):
        for module, _ in table.values():
            assert (ROOT / "src" / "limes" / package / f"{module}.py").is_file(), module


def test_root_script_help_needs_no_setup():
    result = subprocess.run([str(ROOT / "limes"), "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "./limes demo" in result.stdout and "./limes test" in result.stdout


def test_matcher_serve_refuses_zero_threads(tmp_path):
    result = subprocess.run([sys.executable, "-m", "limes", "matcher", "serve", "--plaintext", "--threads", "0",
                             "--data", str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2
    assert "--threads must be at least 1" in result.stderr
    assert not any(tmp_path.iterdir())  # refused before any gallery directory was touched


def test_console_script_runs(tmp_path):
    result = subprocess.run([sys.executable, "-m", "limes", "mrz", "generate", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_stop_signals_hear_ctrl_c_even_when_started_with_sigint_ignored():
    """A command started in the background by a shell inherits SIGINT ignored; it must still stop on it."""
    import signal
    import subprocess
    import sys

    code = ("from common.signals import StopSignals\n"
            "with StopSignals() as stop:\n"
            "    print('ready', flush=True)\n"
            "    print(stop.wait(60))\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert child.stdout.readline() == "ready\n"
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=10)
    assert (child.returncode, out) == (0, "True\n")


def test_stop_signals_wait_returns_false_after_its_time():
    from common.signals import StopSignals

    calls = []
    with StopSignals() as stop:
        assert stop.wait(0.1, poll_s=0.02, while_waiting=lambda: calls.append(1)) is False
    assert len(calls) >= 4 and not stop.stopped
