"""The outbox against a fake central that is idempotent like the real one:
order, exactly-once recording across failures and restarts, parking of refused records."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.outbox import Backoff, Outbox, Reject, Retry


class FakeCentral:
    """Stores each request once by its key (like central's crossing_id/referral_id) and can be scripted to fail."""

    def __init__(self, script=()):
        self.script = list(script)  # per call: None = answer, an exception = raise it, "lost" = store then fail
        self.stored: dict[bytes, int] = {}  # payload -> times central stored it
        self.arrivals: list[bytes] = []  # first arrivals, in order
        self.calls = 0

    def send(self, method: str, payload: bytes) -> None:
        self.calls += 1
        step = self.script.pop(0) if self.script else None
        if isinstance(step, Exception):
            raise step
        if payload.startswith(b"crossing") and payload.endswith(b"bad"):
            raise Reject("INVALID_ARGUMENT: document.number: is required")
        if payload not in self.stored:
            self.stored[payload] = 1
            self.arrivals.append(payload)
        if step == "lost":  # central stored it, but its answer never reached the gate
            raise Retry("DEADLINE_EXCEEDED")


def crossing(n: int, *, refer: bool = False, bad: bool = False) -> tuple[str, list[tuple[str, bytes]]]:
    requests = [("RecordCrossing", f"crossing {n}{' bad' if bad else ''}".encode())]
    if refer:
        requests.append(("OpenReferral", f"referral {n}".encode()))
    return f"id-{n}", requests


def append(outbox: Outbox, n: int, **kind) -> list[int]:
    crossing_id, requests = crossing(n, **kind)
    return outbox.append(crossing_id, requests)


def test_delivers_in_order_and_drops_payloads(tmp_path):
    central = FakeCentral()
    outbox = Outbox(tmp_path / "edge.sqlite", central.send)
    for n in range(3):
        append(outbox, n, refer=n == 1)
    assert outbox.backlog == 4
    assert outbox.deliver() == 4
    assert central.arrivals == [b"crossing 0", b"crossing 1", b"referral 1", b"crossing 2"]
    assert outbox.backlog == 0 and outbox.online is True
    assert [(e.state, e.payload) for e in outbox.entries()] == [("delivered", None)] * 4
    outbox.close()


def test_unreachable_central_keeps_order_then_delivers_each_once(tmp_path):
    central = FakeCentral(script=[Retry("UNAVAILABLE: connection refused"), Retry("UNAVAILABLE"), None])
    outbox = Outbox(tmp_path / "edge.sqlite", central.send)
    first = append(outbox, 0)
    append(outbox, 1)
    assert outbox.deliver() == 0
    assert outbox.online is False and outbox.backlog == 2
    assert central.calls == 1, "nothing after the head of the queue is tried while central is down"
    assert outbox.pending()[0].error == "UNAVAILABLE: connection refused"
    assert outbox.deliver() == 0
    assert outbox.deliver() == 2
    assert central.arrivals == [b"crossing 0", b"crossing 1"] and set(central.stored.values()) == {1}
    assert outbox.state_of(first[0]) == "delivered"
    assert outbox.entries()[0].attempts == 3
    outbox.close()


def test_refused_record_is_parked_with_its_referral_and_the_rest_goes_on(tmp_path):
    central = FakeCentral()
    outbox = Outbox(tmp_path / "edge.sqlite", central.send)
    append(outbox, 0, refer=True, bad=True)
    append(outbox, 1)
    assert outbox.deliver() == 1
    assert central.arrivals == [b"crossing 1"]
    parked = outbox.rejected()
    assert [(e.method, e.crossing_id) for e in parked] == [("RecordCrossing", "id-0"), ("OpenReferral", "id-0")]
    assert parked[0].error == "INVALID_ARGUMENT: document.number: is required"
    assert parked[1].error.startswith("RecordCrossing of this crossing was rejected: INVALID_ARGUMENT")
    assert parked[0].payload == b"crossing 0 bad", "kept for the officer"
    assert outbox.deliver() == 0 and central.calls == 2, "a refused record is never sent again"
    outbox.close()


def test_a_refused_crossing_resubmitted_is_sent_again_in_its_order(tmp_path):
    outbox = Outbox(tmp_path / "edge.sqlite", FakeCentral().send)
    append(outbox, 0, refer=True, bad=True)
    assert outbox.deliver() == 0 and len(outbox.rejected()) == 2
    sent = []
    outbox.send = lambda method, payload: sent.append((method, payload))  # what central refused is put right
    assert outbox.resubmit("id-0") == 2 and outbox.resubmit("id-0") == 0 and outbox.resubmit("id-9") == 0
    assert [e.state for e in outbox.entries()] == ["pending", "pending"]
    assert outbox.deliver() == 2 and outbox.rejected() == []
    assert sent == [("RecordCrossing", b"crossing 0 bad"), ("OpenReferral", b"referral 0")]
    outbox.close()


def test_a_bug_in_the_sender_keeps_the_record(tmp_path):
    central = FakeCentral(script=[ValueError("oops")])
    outbox = Outbox(tmp_path / "edge.sqlite", central.send)
    append(outbox, 0)
    assert outbox.deliver() == 0
    assert outbox.pending()[0].error == "unexpected error: oops"
    assert outbox.deliver() == 1
    outbox.close()


def test_restart_replays_what_was_pending(tmp_path):
    path = tmp_path / "edge.sqlite"
    down = FakeCentral(script=[Retry("UNAVAILABLE")])
    outbox = Outbox(path, down.send)
    append(outbox, 0, refer=True)
    append(outbox, 1)
    assert outbox.deliver() == 0
    outbox.close()  # the gate stops with three records unsent

    central = FakeCentral()
    reopened = Outbox(path, central.send, backoff=Backoff(first_s=0.01, most_s=0.05))
    assert [e.payload for e in reopened.pending()] == [b"crossing 0", b"referral 0", b"crossing 1"]
    reopened.start()
    assert reopened.wait_until_delivered(timeout=30)
    assert central.arrivals == [b"crossing 0", b"referral 0", b"crossing 1"]
    reopened.close()


def test_answer_lost_after_central_stored_it_is_recorded_once(tmp_path):
    # The gate dies (or times out) after central committed the crossing but before the outbox marked it.
    path = tmp_path / "edge.sqlite"
    central = FakeCentral(script=["lost"])
    outbox = Outbox(path, central.send)
    append(outbox, 0)
    assert outbox.deliver() == 0
    outbox.close()
    reopened = Outbox(path, central.send)
    assert reopened.deliver() == 1
    assert central.stored == {b"crossing 0": 1} and central.calls == 2
    reopened.close()


def test_background_sender_backs_off_then_delivers(tmp_path):
    central = FakeCentral(script=[Retry("UNAVAILABLE")] * 3)
    outbox = Outbox(tmp_path / "edge.sqlite", central.send, backoff=Backoff(first_s=0.01, most_s=0.05))
    append(outbox, 0)
    outbox.start()
    assert outbox.wait_until_delivered(timeout=30)
    assert central.calls == 4 and central.stored == {b"crossing 0": 1}
    outbox.close()


def test_backoff_doubles_up_to_its_ceiling():
    backoff = Backoff(first_s=0.5, most_s=3.0)
    assert [backoff.after(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


# One run: crossings appended, delivery attempts with scripted failures, restarts of the gate in between.
_steps = st.lists(st.one_of(
    st.tuples(st.just("append"), st.booleans()),
    st.tuples(st.just("deliver"), st.lists(st.sampled_from([None, "retry", "lost"]), max_size=4)),
    st.tuples(st.just("restart"), st.none()),
), max_size=25)


@settings(max_examples=40, deadline=None)
@given(steps=_steps)
def test_every_record_reaches_central_once_in_order_whatever_fails(tmp_path_factory, steps):
    path = tmp_path_factory.mktemp("outbox") / "edge.sqlite"
    central = FakeCentral()
    outbox = Outbox(path, central.send)
    written: list[bytes] = []
    for n, (action, argument) in enumerate(steps):
        if action == "append":
            crossing_id, requests = crossing(n, refer=argument)
            outbox.append(crossing_id, requests)
            written.extend(payload for _, payload in requests)
        elif action == "deliver":
            central.script = [Retry("UNAVAILABLE") if s == "retry" else s for s in argument]
            outbox.deliver()
        else:
            outbox.close()
            outbox = Outbox(path, central.send)
    central.script = []
    outbox.deliver()
    assert central.arrivals == written
    assert all(times == 1 for times in central.stored.values())
    assert outbox.backlog == 0
    outbox.close()


def test_limes_edge_outbox_lists_and_resubmits(tmp_path, capsys):
    import json

    from limes.cli import main

    outbox = Outbox(tmp_path / "edge.sqlite", FakeCentral().send)
    append(outbox, 0, refer=True, bad=True)
    append(outbox, 1)
    outbox.deliver()
    outbox.close()
    assert main(["edge", "outbox", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["entries"]
    assert [(e["state"], e["method"], e["crossing_id"]) for e in listed] == [
        ("rejected", "RecordCrossing", "id-0"), ("rejected", "OpenReferral", "id-0")]
    assert listed[0]["error"] == "INVALID_ARGUMENT: document.number: is required"
    assert main(["edge", "outbox", str(tmp_path), "--all", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["entries"]) == 3  # and the delivered crossing 1
    assert main(["edge", "outbox", str(tmp_path), "--resubmit", "id-0"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "resubmitted: 2 record(s)"
    assert main(["edge", "outbox", str(tmp_path), "--resubmit", "id-0", "--json"]) == 1  # none refused now
    assert json.loads(capsys.readouterr().out)["resubmitted"] == 0
    assert main(["edge", "outbox", str(tmp_path / "nowhere"), "--json"]) == 2
    assert "no outbox at" in json.loads(capsys.readouterr().out)["error"]


def test_sealed_records_are_unreadable_on_disk_and_delivered_in_clear(tmp_path):
    import sqlite3

    from common.sealing import Sealer, add_key

    add_key(tmp_path / "keys" / "gate.key")
    sealer = Sealer.from_file(tmp_path / "keys" / "gate.key")
    central = FakeCentral()
    outbox = Outbox(tmp_path / "edge.sqlite", central.send, sealer=sealer)
    outbox.append("id-1", [("RecordCrossing", b"crossing 1"), ("OpenReferral", b"referral 1 face crop")])
    on_disk = [row[0] for row in sqlite3.connect(tmp_path / "edge.sqlite").execute("SELECT payload FROM outbox")]
    assert on_disk and not any(b"face crop" in payload or b"crossing 1" in payload for payload in on_disk)
    assert [e.payload for e in outbox.pending()] == [b"crossing 1", b"referral 1 face crop"]
    assert outbox.deliver() == 2
    assert central.arrivals == [b"crossing 1", b"referral 1 face crop"]
    outbox.close()


def test_a_sealed_record_without_its_key_is_kept_not_lost(tmp_path):
    from common.sealing import Sealer, add_key

    add_key(tmp_path / "gate.key")
    sealed = Outbox(tmp_path / "edge.sqlite", FakeCentral().send, sealer=Sealer.from_file(tmp_path / "gate.key"))
    append(sealed, 1)
    sealed.close()
    central = FakeCentral()
    keyless = Outbox(tmp_path / "edge.sqlite", central.send)
    assert keyless.deliver() == 0 and central.calls == 0
    assert keyless.backlog == 1
    keyless.close()
    reopened = Outbox(tmp_path / "edge.sqlite", central.send, sealer=Sealer.from_file(tmp_path / "gate.key"))
    assert reopened.deliver() == 1 and central.arrivals == [b"crossing 1"]
    reopened.close()


def test_limes_edge_outbox_lists_sealed_records_with_the_gate_key_only(tmp_path, capsys, monkeypatch):
    import json

    from common.sealing import Sealer, add_key
    from limes.cli import main

    key = tmp_path / "keys" / "gate.key"
    add_key(key)
    (tmp_path / "state").mkdir()
    outbox = Outbox(tmp_path / "state" / "edge.sqlite", FakeCentral().send, sealer=Sealer.from_file(key))
    append(outbox, 0)
    outbox.close()
    monkeypatch.setenv("LIMES_KEY_FILE", str(tmp_path / "no-such.key"))
    assert main(["edge", "outbox", str(tmp_path / "state"), "--json"]) == 2
    assert "give the gate's --key-file" in json.loads(capsys.readouterr().out)["error"]
    assert main(["edge", "outbox", str(tmp_path / "state"), "--key-file", str(key), "--json"]) == 0
    assert [e["crossing_id"] for e in json.loads(capsys.readouterr().out)["entries"]] == ["id-0"]
