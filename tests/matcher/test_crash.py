"""Durability with a real `limes matcher serve` process killed with SIGKILL mid-enrolment."""
import os
import signal
import subprocess
import sys
import threading
import time

import grpc
import numpy as np

from matcher.wal import iter_logs
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import open_channel

from .conftest import create, template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start_server(data_dir, pki):
    tls = pki.server()
    process = subprocess.Popen(
        [sys.executable, "-m", "limes", "matcher", "serve", "--listen", "127.0.0.1:0", "--data", str(data_dir),
         "--snapshot-every", "150", "--threads", "2", "--tls-ca", str(tls.ca), "--tls-cert", str(tls.certificate),
         "--tls-key", str(tls.key), "--administrator", "tester"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # "matcher (mutual TLS) listening on 127.0.0.1:PORT"
    assert "mutual TLS) listening on" in line, process.stderr.read()
    channel = open_channel(line.split()[-1], pki.user("tester"))
    grpc.channel_ready_future(channel).result(timeout=20)
    return process, channel


def vector(i):
    return np.random.default_rng(i).normal(0, 0.05, 128)


def test_every_acknowledged_enrolment_survives_kill_9(tmp_path, dev_pki):
    process, channel = start_server(tmp_path, dev_pki)
    acknowledged: list[str] = []
    refusals: list[grpc.RpcError] = []
    try:
        stub = matcher_pb2_grpc.MatcherStub(channel)
        create(stub, index_factory="IVF4,Flat", exact_until=100)  # trained and swapped in while enrolling

        def enrol_until_refused():
            for i in range(100_000):
                try:
                    if i % 10 == 9:  # some batches too
                        ids = [f"b{i}-{j}" for j in range(5)]
                        stub.EnrolBatch(matcher_pb2.EnrolBatchRequest(gallery="watchlist", items=[
                            matcher_pb2.EnrolRequest(subject_id=s, template=template(vector(hash(s) % 10**6)))
                            for s in ids]), timeout=5)
                        acknowledged.extend(ids)
                    else:
                        stub.Enrol(matcher_pb2.EnrolRequest(gallery="watchlist", subject_id=f"s{i}",
                                                            template=template(vector(i))), timeout=5)
                        acknowledged.append(f"s{i}")
                except grpc.RpcError as exc:
                    refusals.append(exc)
                    return

        client = threading.Thread(target=enrol_until_refused)
        client.start()
        while len(acknowledged) < 400 and client.is_alive():
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)  # mid-enrolment: the client is still sending
        client.join(timeout=30)
        process.wait(timeout=10)
        assert refusals[0].code() == grpc.StatusCode.UNAVAILABLE, refusals[0]  # refused only by the kill
    finally:
        channel.close()
        if process.poll() is None:
            process.kill()
            process.wait()

    gallery_dir = tmp_path / "galleries" / "watchlist"
    assert any(p.name.startswith("snapshot-") for p in gallery_dir.iterdir())  # logs and snapshots both in play
    _, last_log = list(iter_logs(gallery_dir))[-1]
    with open(last_log, "ab") as log:
        log.write(b"\x40\x02\x00\x00\x99\x99")  # a torn record: header of a 576-byte payload, 2 bytes of it

    process, channel = start_server(tmp_path, dev_pki)
    try:
        stub = matcher_pb2_grpc.MatcherStub(channel)
        stats = stub.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="watchlist"))
        assert stats.size >= len(acknowledged) >= 400
        for subject in acknowledged[::7] + acknowledged[-5:]:
            got = stub.Get(matcher_pb2.GetRequest(gallery="watchlist", subject_id=subject))
            assert got.subject_id == subject
        last = acknowledged[-1]
        seed = int(last[1:]) if last.startswith("s") else hash(last) % 10**6
        np.testing.assert_allclose(
            stub.Get(matcher_pb2.GetRequest(gallery="watchlist", subject_id=last)).template.vector,
            vector(seed),
            rtol=1e-6,
        )
        found = stub.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(vector(seed))))
        assert found.candidates[0].subject_id == last
        # Enrolling after the torn tail was cut must survive the next restart too.
        stub.Enrol(matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="after", template=template(vector(1))))
    finally:
        channel.close()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    process, channel = start_server(tmp_path, dev_pki)
    try:
        stub = matcher_pb2_grpc.MatcherStub(channel)
        assert stub.Get(matcher_pb2.GetRequest(gallery="watchlist", subject_id="after")).subject_id == "after"
    finally:
        channel.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
