"""`limes deploy matcher`: the documented stand starts, answers through its router, and stops what it started."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles, open_channel

pytestmark = pytest.mark.skipif(shutil.which("nats-server") is None, reason="nats-server (Debian package) missing")


def test_the_stand_serves_and_stops_its_own_processes(tmp_path):
    deploy = subprocess.Popen([sys.executable, "-m", "limes", "deploy", "matcher", "--sets", "1", "--replicas", "1",
                               "--dir", str(tmp_path), "--json"], stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in deploy.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
        stand = json.loads("".join(lines))
        assert len(stand["nats"]) == 3 and list(stand["members"]) == ["A1"]
        assert set(stand["nats_tls"]) == {"ca", "member", "router", "admin"}  # NATS is mutual TLS by role
        # gRPC is mutual TLS too: the administrator's certificate it printed opens the router.
        admin = stand["grpc_tls"]["admin"]
        tls = TlsFiles(Path(stand["grpc_tls"]["ca"]), Path(admin["certificate"]), Path(admin["key"]))
        stub = matcher_pb2_grpc.MatcherStub(open_channel(stand["router"], tls))
        stub.CreateGallery(matcher_pb2.CreateGalleryRequest(gallery="g", model="m", model_version="1", dimension=4),
                           timeout=10)
        assert [g.gallery for g in stub.ListGalleries(matcher_pb2.ListGalleriesRequest(), timeout=10).galleries] \
            == ["g"]
    finally:
        deploy.send_signal(signal.SIGTERM)
        assert deploy.wait(60) == 0
    with pytest.raises(grpc.RpcError):  # the router is gone with the stand
        stub.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="g"), timeout=2)
    assert (tmp_path / "nats-0.log").exists() and (tmp_path / "member-A1.log").exists()
