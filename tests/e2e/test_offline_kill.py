"""A gate process killed (SIGKILL) in the middle of recording: nothing lost, nothing twice.

The child process is the gate's recording path alone (edge.outbox with
edge.remote delivering to a real central over gRPC), writing crossings as
fast as it can so that the kill lands anywhere: in an append, between the send
and the mark, in SQLite's commit. Every crossing it reported committed must
then be at central exactly once after the outbox is reopened and replayed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from edge.outbox import Outbox
from edge.remote import RemoteCentral
from proto.clients import CentralClient, central_pb2

pytestmark = pytest.mark.slow

# Runs in the child: append a crossing, say so, deliver; again and again until killed.
CHILD = textwrap.dedent("""
    import sys, uuid
    from edge.outbox import Outbox
    from edge.remote import RemoteCentral
    from proto.clients import CentralClient, central_pb2
    from proto.tls import TlsFiles

    address, path, tls = sys.argv[1], sys.argv[2], TlsFiles(*sys.argv[3:6])
    gate = CentralClient(address, timeout=10, tls=tls)
    outbox = Outbox(path, RemoteCentral(gate).deliver)
    outbox.deliver()  # what the previous run left
    while True:
        crossing_id = str(uuid.uuid4())
        request = central_pb2.RecordCrossingRequest(
            crossing_id=crossing_id, station_id="DEMO-EGATE-01", border_point="DEMO-AIRPORT",
            direction=central_pb2.Crossing.ENTRY, occurred_at="2026-11-25T07:00:00Z",
            document=central_pb2.TravelDocument(number="K" + crossing_id[:8].upper(), type="P",
                                                issuing_state="UTO"),
            traveller=central_pb2.Traveller(surname="ERIKSSON", given_names="ANNA"),
            decision=central_pb2.Crossing.REFER, reasons=["test"])
        referral = central_pb2.OpenReferralRequest(referral_id=crossing_id, crossing_id=crossing_id,
                                                   station_id="DEMO-EGATE-01", reasons=["test"])
        outbox.append(crossing_id, [("RecordCrossing", request.SerializeToString()),
                                    ("OpenReferral", referral.SerializeToString())])
        print(crossing_id, flush=True)
        outbox.deliver()
""")


def run_and_kill(address: str, path, tls, after: int) -> list[str]:
    """Start the child, SIGKILL it once it has committed `after` crossings; the ids it reported."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, address, str(path), str(tls.ca), str(tls.certificate),
                              str(tls.key)], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    reported = []
    try:
        while len(reported) < after:
            line = child.stdout.readline()
            if not line:
                pytest.fail(f"the child stopped after {len(reported)} crossings (exit {child.wait()})")
            reported.append(line.strip())
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    return reported


def test_killed_twice_mid_recording_every_crossing_once(tmp_path, dev_pki):
    from central.access.roles import AccessPolicy
    from central.rpc.server import serve

    server, port = serve("127.0.0.1:0", f"sqlite:///{tmp_path / 'central.sqlite'}", tls=dev_pki.server(),
                         access=AccessPolicy.demo())
    address = f"127.0.0.1:{port}"
    # The demo's gate station (registered by the demo policy, asked for); reads as an officer (open access).
    station = dev_pki.station("DEMO-EGATE-01")
    gate = CentralClient(address, timeout=10, tls=station)
    client = CentralClient(address, timeout=10, tls=dev_pki.user("test"))
    path = tmp_path / "edge.sqlite"
    try:
        reported = run_and_kill(address, path, station, after=15) + run_and_kill(address, path, station, after=15)

        outbox = Outbox(path, RemoteCentral(gate).deliver)
        outbox.deliver()
        entries = outbox.entries()
        outbox.close()
        assert {e.state for e in entries} == {"delivered"}
        committed = [e.crossing_id for e in entries if e.method == "RecordCrossing"]
        assert set(reported) <= set(committed), "a crossing reported committed was lost"
        assert len(committed) == len(set(committed))
        for crossing_id in committed:
            history = client.call("GetTravellerHistory", central_pb2.GetTravellerHistoryRequest(
                document=central_pb2.TravelDocument(number="K" + crossing_id[:8].upper(), issuing_state="UTO")))
            assert [c.crossing_id for c in history.crossings] == [crossing_id]
            assert [r.referral_id for r in history.referrals] == [crossing_id]
    finally:
        gate.close()
        client.close()
        server.stop(grace=0).wait()
