"""matcher.stream against one real nats-server: the reader hands out every message once, in order,
whatever happens to its consumer, and no call waits for ever (docs/MATCHER.md, Cluster mode)."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import numpy as np
import pytest

from limes.stand import free_port, wait_for_port
from matcher import stream
from matcher.stream import GALLERY_STREAM, NatsLink, StreamReader

pytestmark = pytest.mark.skipif(shutil.which("nats-server") is None,
                                reason="nats-server (Debian package) not installed: ./limes setup installs it")


@pytest.fixture
def link(tmp_path):
    port = free_port()
    server = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 20, server)
        link = NatsLink([f"nats://127.0.0.1:{port}"], name="test")
        link.call(link.ensure(copies=1))
        yield link
        link.close()
    finally:
        server.terminate()
        server.wait(10)


def publish(link: NatsLink, count: int) -> None:
    changes = [("g", i % 7, stream.ENROL, f"S{i}", np.zeros(4, dtype=np.float32)) for i in range(count)]
    link.call(link.publish_many(changes, seconds=20))


def read_to_end(link: NatsLink, reader: StreamReader, seconds: float = 30) -> list[int]:
    """Stream sequences handed out until the reader reaches the stream's end, checking for stalls as a member does."""
    async def read():
        last, got = await link.last_sequence(), []
        deadline = time.monotonic() + seconds
        while reader.position < last:
            assert time.monotonic() < deadline, f"reader stuck at {reader.position} of {last}"
            got += [m.metadata.sequence.stream for m in await reader.next_batch(100, wait=0.25)]
            await reader.notice_last(last)
        return got
    return link.call(read(), timeout=seconds + 10)


def test_a_reader_hands_out_each_message_once_in_order_from_its_position(link):
    publish(link, 250)
    reader = StreamReader(link, 40)
    assert read_to_end(link, reader) == list(range(41, 251))
    publish(link, 30)
    assert read_to_end(link, reader) == list(range(251, 281))
    assert reader.renewals == 1


def test_a_consumer_deleted_under_the_reader_is_made_again_from_where_it_was(link, monkeypatch):
    """What a member sees when the server holding its consumer is killed: the consumer is gone."""
    monkeypatch.setattr(stream, "STALL_AFTER", 0.5)
    publish(link, 300)
    reader = StreamReader(link, 0)
    first = link.call(reader.next_batch(120, wait=1.0))
    consumer = reader._consumer
    link.call(link.js.delete_consumer(GALLERY_STREAM, consumer))
    publish(link, 50)
    rest = read_to_end(link, reader)
    assert [m.metadata.sequence.stream for m in first] + rest == list(range(1, 351))
    assert reader.renewals >= 2 and reader._consumer != consumer


def test_a_lost_delivery_is_read_again_rather_than_skipped(link):
    """A message lost on the way (a reconnect) shows as a gap in the consumer's sequence: the reader stops
    before it and reads on from there with a new consumer, so the lost change is not skipped."""
    publish(link, 100)
    reader = StreamReader(link, 0)
    link.call(reader.next_batch(1, wait=1.0))  # the consumer exists now
    fetch = reader._subscription.fetch

    async def fetch_losing_the_fifth(batch, timeout):
        messages = await fetch(batch, timeout=timeout)
        return [m for m in messages if m.metadata.sequence.stream != 5]
    reader._subscription.fetch = fetch_losing_the_fifth
    second = link.call(reader.next_batch(20, wait=1.0))
    assert [m.metadata.sequence.stream for m in second] == [2, 3, 4] and reader.position == 4
    assert read_to_end(link, reader) == list(range(5, 101))


def test_a_fetch_that_never_answers_ends_within_its_bound(link, monkeypatch):
    monkeypatch.setattr(stream, "CALL_TIMEOUT", 0.5)
    publish(link, 10)
    reader = StreamReader(link, 0)
    link.call(reader.next_batch(1, wait=1.0))

    async def silent(batch, timeout):
        await asyncio.sleep(3600)
    reader._subscription.fetch = silent
    started = time.monotonic()
    assert link.call(reader.next_batch(100, wait=0.25), timeout=10) == []
    assert time.monotonic() - started < 2


def test_the_table_lists_keys_by_prefix(link):
    for key in ("member.B1", "member.A1", "gallery.g"):
        link.call(link.put(key, b"{}"))
    assert link.call(link.keys("member.")) == ["member.A1", "member.B1"]
    assert link.call(link.keys("nothing.")) == []


def test_a_pause_of_the_readers_own_is_not_taken_for_a_stall(link, monkeypatch):
    """A member writing its snapshot stops fetching for seconds while the stream grows: its consumer is
    kept (before, every snapshot made a new one); a real stall is still seen."""
    monkeypatch.setattr(stream, "STALL_AFTER", 0.3)
    publish(link, 20)
    reader = StreamReader(link, 0)
    assert len(link.call(reader.next_batch(10, wait=1.0))) == 10
    time.sleep(0.5)  # the snapshot
    reader.held_up()
    link.call(reader.notice_last(20))
    assert reader.renewals == 1 and reader._subscription is not None
    time.sleep(0.5)  # nothing fetched and nothing said: a stall
    link.call(reader.notice_last(20))
    assert reader._subscription is None
