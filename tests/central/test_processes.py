"""Several central server processes on one port (central.rpc.processes), and the SQLite writers' queue."""
from __future__ import annotations

import fcntl
import multiprocessing
import os
import urllib.request
import uuid

import pytest

from central.database.engine import WriterQueue
from central.rpc.processes import serve_processes
from central.rpc.server import serve
from hardware_sim.pcscd import free_port_pair  # any two consecutive free ports: here for two processes' metrics
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.tls import open_channel

from .conftest import GATE_METADATA, TEST_ACCESS


def _answered(metrics_port: int) -> float:
    """CheckDocument calls answered OK by the process whose metrics are on this port."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if line.startswith('limes_central_calls_total{code="OK",method="CheckDocument"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_connections_are_spread_over_the_processes_and_all_answer(database_url, dev_pki):
    metrics_port = free_port_pair()
    group, port = serve_processes(2, "127.0.0.1:0", database_url, tls=dev_pki.server(), access=TEST_ACCESS,
                                  metrics_port=metrics_port)
    channels = []
    try:
        assert len(group.pids) == 1
        before = _answered(metrics_port)
        # 16 connections of their own (no shared subchannel): the kernel gives each to one process.
        for _ in range(16):
            channels.append(open_channel(f"127.0.0.1:{port}", dev_pki.station("FRA-T1-G03"),
                                         options=[("grpc.use_local_subchannel_pool", 1)]))
        for channel in channels:
            response = central_pb2_grpc.CentralStub(channel).CheckDocument(
                pb.CheckDocumentRequest(document_number="C01X00T47", issuing_state="D"),
                metadata=GATE_METADATA, timeout=10)
            assert list(response.hits) == []
        first, second = _answered(metrics_port) - before, _answered(metrics_port + 1)
        assert first + second == 16
        assert first > 0 and second > 0  # all 16 on one of two processes: 1 chance in 32,768
    finally:
        for channel in channels:
            channel.close()
        group.stop(None).wait()
    for pid in group.pids:  # stopped and reaped
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_crossing_recorded_through_one_process_is_found_through_the_other(database_url, dev_pki):
    group, port = serve_processes(2, "127.0.0.1:0", database_url, tls=dev_pki.server(), access=TEST_ACCESS)
    crossing_id = str(uuid.uuid4())
    request = pb.RecordCrossingRequest(
        crossing_id=crossing_id, station_id="FRA-T1-G03", border_point="FRA-T1", direction=pb.Crossing.ENTRY,
        occurred_at="2026-11-30T06:00:00+00:00", decision=pb.Crossing.OPEN,
        document=pb.TravelDocument(number="C01X00T47", type="P", issuing_state="D"),
        traveller=pb.Traveller(surname="MUSTERMANN", given_names="ERIKA", nationality="D"))
    answers = []
    try:
        for _ in range(8):  # the same crossing over connections that land on either process: stored once
            with open_channel(f"127.0.0.1:{port}", dev_pki.station("FRA-T1-G03"),
                              options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
                answers.append(central_pb2_grpc.CentralStub(channel).RecordCrossing(
                    request, metadata=GATE_METADATA, timeout=10))
    finally:
        group.stop(None).wait()
    assert [a.already_recorded for a in answers] == [False] + [True] * 7
    assert {a.crossing_id for a in answers} == {crossing_id}


def test_a_second_lone_server_on_a_taken_port_fails(database_url, dev_pki, tmp_path):
    """Only a group asks for SO_REUSEPORT: two servers started on one port by mistake do not share it."""
    server, port = serve("127.0.0.1:0", database_url, tls=dev_pki.server(), access=TEST_ACCESS)
    try:
        with pytest.raises(RuntimeError):
            serve(f"127.0.0.1:{port}", f"sqlite:///{tmp_path / 'other.sqlite'}", tls=dev_pki.server(),
                  access=TEST_ACCESS)
    finally:
        server.stop(None)


def test_a_group_needs_at_least_one_process(database_url, dev_pki):
    with pytest.raises(ValueError):
        serve_processes(0, "127.0.0.1:0", database_url, tls=dev_pki.server())


def _try_writer_lock(path: str, answer) -> None:
    with open(path, "a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            answer.put("taken")
        except BlockingIOError:
            answer.put("held elsewhere")


def test_the_sqlite_writer_queue_excludes_other_processes_until_released(tmp_path):
    path = tmp_path / "central.sqlite.writer-lock"
    queue = WriterQueue(path)
    context = multiprocessing.get_context("spawn")
    answer = context.Queue()

    def other_process_finds() -> str:
        process = context.Process(target=_try_writer_lock, args=(str(path), answer))
        process.start()
        process.join(timeout=30)
        return answer.get(timeout=5)
    with queue:
        assert other_process_finds() == "held elsewhere"
    assert other_process_finds() == "taken"
