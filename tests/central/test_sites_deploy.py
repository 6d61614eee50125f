"""`limes deploy stand`: one command stands up issue 23's local multi-site stand (three NATS servers, matcher
processes and a router, headquarters and two posts on PostgreSQL), reports it, and takes it all down.

The whole stand is for the PostgreSQL pass (`.ci/postgres ./limes test tests/central/test_sites_deploy.py`):
it makes three clusters with the server binaries, as tests/central/test_sites.py does, and fails there if
they or nats-server are missing; the SQLite pass skips it, saying so. Status and down of a stand that is
gone run in both.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from limes.cli import main
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles, open_channel
from tests.central.test_sites import POSTGRES_PASS, crossing, record, scalar, wait_for


def running(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and b"zombie" not in Path(f"/proc/{pid}/status").read_bytes().lower()


def test_one_command_stands_up_nats_matchers_headquarters_and_two_posts_and_takes_them_down(capsys):
    if not POSTGRES_PASS:
        pytest.skip("the multi-site stand belongs to the PostgreSQL pass (.ci/postgres ./limes test tests/central)")
    assert shutil.which("nats-server"), "nats-server (Debian package) is missing: ./limes setup installs it"
    folder = Path(tempfile.mkdtemp(prefix="limes-deploy-"))
    folder.chmod(0o755)  # run as root, the clusters run as postgres, who must reach their folders
    root = folder / "stand"
    up = subprocess.Popen([sys.executable, "-m", "limes", "deploy", "stand", "up", str(root), "--sets", "1",
                           "--replicas", "2", "--no-fsync", "--json"], stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in up.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
        assert lines, f"`limes deploy stand up` printed nothing and exited with {up.wait(10)}"
        state = json.loads("".join(lines))
        assert state["state"] == "running" and state["pid"] == up.pid

        assert main(["deploy", "stand", "status", str(root), "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["healthy"] and len(status["nats"]) == 3 and all(n["up"] for n in status["nats"])
        assert sorted(status["members"]) == ["A1", "A2"] and status["router"]["up"]
        assert status["router"]["transport"] == "mutual TLS"  # answered over it, and refused in plaintext
        assert [p["name"] for p in status["sites"]["posts"]] == ["post_a", "post_b"]
        for post in status["sites"]["posts"]:
            assert [(s["name"], s["worker_running"]) for s in post["replication"]["subscriptions"]] == [
                (f"{post['name']}_from_hq", True)]

        # It serves: the matcher through its router, and a post's crossing reaches headquarters.
        admin = state["matcher"]["grpc_tls"]["admin"]
        tls = TlsFiles(Path(state["matcher"]["grpc_tls"]["ca"]), Path(admin["certificate"]), Path(admin["key"]))
        router = matcher_pb2_grpc.MatcherStub(open_channel(state["matcher"]["router"]["address"], tls))
        router.CreateGallery(matcher_pb2.CreateGalleryRequest(gallery="g", model="m", model_version="1",
                                                              dimension=4), timeout=30)
        assert [g.gallery for g in router.ListGalleries(matcher_pb2.ListGalleriesRequest(),
                                                        timeout=10).galleries] == ["g"]
        post_b, hq = state["sites"]["posts"][1]["url"], state["sites"]["hq"]["url"]
        new = crossing("POST_B")
        record(post_b, [new])
        wait_for(lambda: scalar(hq, "SELECT count(*) FROM crossings WHERE crossing_id = :c", c=new.crossing_id) == 1,
                 what="post_b's crossing at headquarters")

        pids = [n["pid"] for n in state["matcher"]["nats"]] + [m["pid"] for m in state["matcher"]["members"].values()]
        assert main(["deploy", "stand", "down", str(root), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["stopped_up"]
        assert up.wait(30) == 0
        assert not root.exists()
        assert not [pid for pid in pids if running(pid)]
        assert main(["deploy", "stand", "status", str(root)]) == 1  # nothing left to report on
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            up.wait(120)
        if root.exists():
            main(["deploy", "stand", "down", str(root)])
        shutil.rmtree(folder, ignore_errors=True)


def test_status_and_down_of_a_stand_whose_process_is_gone_signal_nothing_that_is_not_theirs(tmp_path, capsys):
    """Both passes: a deploy.json whose pids now belong to other processes (here: this test's own)."""
    root = tmp_path / "stand"
    assert main(["deploy", "stand", "status", str(root)]) == 1
    assert "no stand in" in capsys.readouterr().err
    root.mkdir()
    me = os.getpid()
    (root / "deploy.json").write_text(json.dumps({
        "directory": "/", "pid": me, "state": "running",
        "matcher": {"nats": [{"url": "nats://127.0.0.1:1", "pid": me}], "members": {},
                    "router": {"address": "127.0.0.1:1", "pid": me}}}))
    assert main(["deploy", "stand", "status", str(root), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["running"] and not report["healthy"] and report["nats"] == [
        {"url": "nats://127.0.0.1:1", "up": False}]
    assert main(["deploy", "stand", "down", str(root), "--json"]) == 0  # still alive afterwards: not signalled
    done = json.loads(capsys.readouterr().out)
    assert done == {"removed": str(root), "stopped_up": False, "left_over_stopped": []}
    assert not root.exists()
