"""`limes demo --serve` stops on SIGINT and SIGTERM, even started in the background (SIGINT ignored),
and unwinds its border post (pcscd and its temporary folder) either way. The border post is a stand-in
whose clean-up removes a temporary folder, as pcscd's does, and so is the counter desk beside it (whose
clean-up says so); the rest is demo._run itself."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent("""
    import argparse, contextlib, shutil, sys, tempfile, types
    from pathlib import Path
    from limes.commands import demo

    @contextlib.contextmanager
    def border_post(state, faces, *, fixed_ports, web):
        folder = tempfile.mkdtemp(prefix="limes-pcscd-test-")  # what Pcscd.start makes
        services = types.SimpleNamespace(central_address="c", matcher_address="m", pki_dir=Path(folder),
                                         database_url=f"sqlite:///{state}/central.sqlite", web_url=None)
        post = types.SimpleNamespace(services=services, reader_port="/dev/null", camera_url="http://x",
                                     run_travellers=lambda progress: [], travellers=[])
        try:
            print(folder, flush=True)
            yield post
        finally:
            shutil.rmtree(folder)  # what Pcscd.stop does
            print("cleaned up", flush=True)

    @contextlib.contextmanager
    def desk(post, state, faces, *, screen, nationalities, sign_in):
        try:
            yield types.SimpleNamespace(url="http://" + screen + "/", officer=("officer-1", "pw"))
        finally:
            print("desk closed", flush=True)

    state = Path(sys.argv[1])
    state.mkdir()
    from central.database.engine import Database
    database = Database(f"sqlite:///{state}/central.sqlite")
    database.migrate()  # what the border post's central does
    database.dispose()
    args = argparse.Namespace(serve=True, json=True, faces=None, state=state)
    try:
        code = demo._run(args, state, Path("."), border_post, desk)
    except demo.Stopped:
        code = 130
    print("exit", code, flush=True)
    sys.exit(code)
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_on_signal_and_cleans_up(tmp_path, sig):
    # As a background job of a non-interactive shell is started: with SIGINT ignored, inherited over exec.
    process = subprocess.Popen(["sh", "-c", 'trap "" INT; exec "$0" -c "$1" "$2"', sys.executable, SCRIPT,
                                str(tmp_path / "state")], stdout=subprocess.PIPE, text=True)
    try:
        folder = Path(process.stdout.readline().strip())
        assert folder.is_dir()
        while True:  # the travellers' summary, the web users, then the announcement
            line = process.stdout.readline()
            assert line, "the demo ended before it served"
            if line.startswith("services are up"):
                break
        process.send_signal(sig)
        out, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, out
    assert "desk closed" in out and "cleaned up" in out
    assert out.index("desk closed") < out.index("cleaned up")  # the desk, beside the post, goes first
    assert not folder.exists()
