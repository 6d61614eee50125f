"""The clustered matcher's NATS is mutual TLS with a role per certificate (matcher/nats_security.py),
and a member's snapshot is sealed: one changed or out of place is refused and rebuilt from the stream."""
from __future__ import annotations

import asyncio
import shutil
import signal
import ssl
import subprocess
import sys
import time

import grpc
import nats
import numpy as np
import pytest

from common.sealing import SealError, open_or_create
from limes.stand import Stand
from matcher.config import GalleryConfig
from matcher.member import SnapshotSeal, read_snapshot, write_snapshot
from matcher.nats_security import client_context
from matcher.stream import ENROL, StreamUnavailable
from proto.dev_pki import DevPki
from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles

needs_nats = pytest.mark.skipif(shutil.which("nats-server") is None,
                                reason="nats-server (Debian package) not installed: ./limes setup installs it")


def connect(url: str, context: ssl.SSLContext | None):
    """A single attempt to connect (no reconnection), closed again if it succeeds."""
    async def attempt():
        connection = await nats.connect(servers=[url], tls=context, allow_reconnect=False, max_reconnect_attempts=0,
                                        connect_timeout=5)
        await connection.close()
    asyncio.run(attempt())


def server_log_says(stand: Stand, text: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in (stand.root / "nats-0.log").read_text():
            return True
        time.sleep(0.1)
    return False


@needs_nats
def test_nats_admits_only_role_certificates_of_its_own_ca(tmp_path):
    with Stand(tmp_path / "stand") as stand:
        stand.start_nats(size=1)
        url = stand.urls
        connect(url, client_context(stand.roles["member"]))  # the role's certificate gets in

        trusting_only = ssl.create_default_context(cafile=str(stand.server_tls.ca))  # no client certificate
        with pytest.raises(Exception):
            connect(url, trusting_only)
        assert server_log_says(stand, "client didn't provide a certificate")

        stranger = DevPki(tmp_path / "other-ca").service("matcher-router")  # the right name, another CA
        with pytest.raises(Exception):
            connect(url, client_context(TlsFiles(stand.server_tls.ca, stranger.certificate, stranger.key)))
        assert server_log_says(stand, "certificate signed by unknown authority")

        station = stand.pki.station("DEMO-EGATE-01")  # this CA, but no role: a gate has no business here
        with pytest.raises(Exception):
            connect(url, client_context(station))
        assert server_log_says(stand, "authentication error")  # no user of that subject


@needs_nats
def test_only_the_router_role_may_publish_gallery_changes(tmp_path):
    with Stand(tmp_path) as stand:
        stand.start_nats(size=1)
        admin = stand.link("admin", "admin")
        admin.call(admin.ensure(copies=1))
        change = ("g", 3, ENROL, "S1", np.zeros(4, dtype=np.float32))
        member = stand.link("member", "member")
        with pytest.raises(StreamUnavailable):
            member.call(member.publish(*change, "c1", time.monotonic() + 2))
        assert member.call(member.last_sequence()) == 0  # it may read; nothing of its was recorded
        with pytest.raises(Exception):  # nor may it write the assignment
            member.call(member.put("assignment", b"{}"))
        router = stand.link("router", "router")
        assert router.call(router.publish(*change, "c2", time.monotonic() + 5)) == 1
        for link in (admin, member, router):
            link.close()


def test_a_cluster_command_needs_nats_tls_or_plaintext_by_name(tmp_path):
    done = subprocess.run([sys.executable, "-m", "limes", "matcher", "rebalance", "--cluster", "nats://127.0.0.1:1",
                           "--sets", "A"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "NATS" in done.stderr and "mutual TLS" in done.stderr


def snapshot_of(tmp_path, sealer, member="A1"):
    config = GalleryConfig(name="g", model="m", model_version="1", dimension=4)
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4) + 0.5
    directory = tmp_path / "snapshot"
    write_snapshot(directory, {"g": (config, ["S1", "S2", "S3"], vectors)},
                   {"applied": 7, "held": [1, 2], "version": 3, "galleries": {"g": 3}}, SnapshotSeal(sealer, member))
    return directory, vectors


def test_a_sealed_member_snapshot_opens_only_in_its_place(tmp_path):
    sealer = open_or_create(tmp_path / "at-rest.key")
    directory, vectors = snapshot_of(tmp_path, sealer)
    meta, [(config, subjects, read)] = read_snapshot(directory, SnapshotSeal(sealer, "A1"))
    assert (meta["applied"], subjects, config.name) == (7, ["S1", "S2", "S3"], "g")
    np.testing.assert_array_equal(read, vectors)
    every_byte = b"".join(p.read_bytes() for p in directory.iterdir())
    assert vectors.tobytes() not in every_byte and b"S2" not in every_byte  # templates and ids sealed

    with pytest.raises(SealError):  # another member's snapshot
        read_snapshot(directory, SnapshotSeal(sealer, "A2"))
    meta_file = directory / "meta.json"
    meta_file.write_text(meta_file.read_text().replace('"applied": 7', '"applied": 9'))
    with pytest.raises(SealError):  # the position in clear moved: nothing opens at the other position
        read_snapshot(directory, SnapshotSeal(sealer, "A1"))

    directory, _ = snapshot_of(tmp_path, sealer)
    vectors_file = directory / "g.vectors.sealed"
    data = bytearray(vectors_file.read_bytes())
    data[-5] ^= 1
    vectors_file.write_bytes(bytes(data))
    with pytest.raises(SealError):
        read_snapshot(directory, SnapshotSeal(sealer, "A1"))


@needs_nats
def test_a_tampered_member_snapshot_is_refused_and_rebuilt_from_the_stream(tmp_path):
    vectors = np.random.default_rng(3).normal(scale=0.5, size=(60, 8)).astype(np.float32)

    def enrol(router, rows):
        router.EnrolBatch(matcher_pb2.EnrolBatchRequest(gallery="g", items=[matcher_pb2.EnrolRequest(
            subject_id=f"S{i}", template=common_pb2.FaceTemplate(vector=vectors[i].tolist(), model="m",
                                                                 model_version="1")) for i in rows]), timeout=30)

    with Stand(tmp_path) as stand:
        stand.start_nats()
        stand.start_member("A1", "A")
        stand.rebalance(["A"])
        router = matcher_pb2_grpc.MatcherStub(stand.channel(stand.start_router()))
        router.CreateGallery(matcher_pb2.CreateGalleryRequest(gallery="g", model="m", model_version="1", dimension=8,
                                                              threshold=0.01), timeout=10)
        enrol(router, range(50))
        member = matcher_pb2_grpc.MatcherStub(stand.channel(stand.member_ports["A1"]))
        wait_for_size(member, 50)
        stand.kill_member("A1", signal.SIGTERM)  # a clean stop writes the snapshot
        snapshot = tmp_path / "member-A1" / "snapshot"
        sealed = snapshot / "g.vectors.sealed"
        data = bytearray(sealed.read_bytes())
        data[len(data) // 2] ^= 0x40
        sealed.write_bytes(bytes(data))
        enrol(router, range(50, 60))  # while it is down

        stand.start_member("A1", "A")
        wait_for_size(member, 60)
        log = (tmp_path / "member-A1.log").read_text()
        assert "snapshot refused" in log and "does not open" in log
        assert (tmp_path / "member-A1" / "snapshot.refused").exists()
        for i in (0, 25, 49, 59):  # rebuilt from the stream: the templates as enrolled
            got = member.Get(matcher_pb2.GetRequest(gallery="g", subject_id=f"S{i}"), timeout=10)
            np.testing.assert_allclose(got.template.vector, vectors[i], rtol=1e-6)


def wait_for_size(member, size: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if member.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="g"), timeout=5).size == size:
                return
        except grpc.RpcError:  # still catching up (UNAVAILABLE) or not started yet
            pass
        assert time.monotonic() < deadline, f"the member does not hold {size} subjects"
        time.sleep(0.2)
