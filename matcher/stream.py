"""The clustered matcher's I/O with NATS JetStream: the gallery stream and the key-value table.

* Stream GALLERY_STREAM, subjects `limes.gallery.<gallery>.<vshard>` (matcher.vshards), file
  storage, 3 copies: every enrolment and removal, in order; the gallery's source of truth. A
  publish is acknowledged once a quorum of the copies has it. Each message carries the enrolment
  id in `Nats-Msg-Id`, so a publish retried after a lost acknowledgement is dropped by the
  server's duplicate filter (DUPLICATE_WINDOW) rather than recorded twice.
* Key-value bucket TABLE_BUCKET, 3 copies: `assignment` (matcher.vshards.Assignment),
  `gallery.<name>` (a GalleryConfig as JSON), `member.<process>` (each matcher process's
  heartbeat: set, address, stream position, whether it serves).

nats-py is asyncio; the matcher serves gRPC from threads, so a NatsLink runs one event loop in a
thread of its own and `call` runs a coroutine there and waits for it.

Every request to NATS here is bounded (CALL_TIMEOUT): when a server is killed, the client moves
to another, and an answer that will never come must end in an error the caller retries, never
in a wait for ever. The stream is read through a StreamReader, which notices a consumer that lost
a delivery, vanished with its server or stalled, and makes a new one from where it was.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import threading
import time
import uuid
from dataclasses import asdict

import nats
import numpy as np
from nats.js import api
from nats.js.errors import KeyNotFoundError

from matcher.config import GalleryConfig
from matcher.nats_security import client_context
from matcher.vshards import SUBJECT_PREFIX, Assignment, parse_stream_subject, stream_subject
from proto.tls import TlsFiles

log = logging.getLogger(__name__)

GALLERY_STREAM = "LIMES_GALLERY"
TABLE_BUCKET = "limes_matcher"
COPIES = 3
DUPLICATE_WINDOW = 600.0  # seconds a Nats-Msg-Id is remembered: far longer than any retry
ASSIGNMENT_KEY = "assignment"
OP_HEADER = "Limes-Op"  # "E" enrol (payload: float32 template), "R" remove (empty payload)
SUBJECT_HEADER = "Limes-Subject"
ENROL, REMOVE = "E", "R"
PUBLISH_WINDOW = 256  # changes of one batch awaiting JetStream's acknowledgement at once
TABLE_REFRESH = 0.5  # seconds between a router's readings of the table (and a member's of the assignment)
CALL_TIMEOUT = 5.0  # seconds any one request to NATS may take (a JetStream API call, a table read or write)
# Seconds a reader may get nothing while the stream has more for it before its consumer is made again.
# A consumer lives on one server (one copy, in memory: it is only a cursor): when that server dies,
# its fetches time out with no error at all, and this is how that is seen.
STALL_AFTER = 3.0
# Seconds the server keeps a reader's consumer after its last fetch: one a member dropped without
# deleting it (its server was away) goes by itself.
READER_INACTIVE = 10.0


class StreamUnavailable(Exception):
    """JetStream did not acknowledge in time: the change may or may not be recorded; retry it with the same id."""


class NatsLink:
    """One NATS connection and its event loop, in a daemon thread."""

    def __init__(self, servers: list[str], name: str = "limes-matcher", tls: TlsFiles | None = None):
        """`tls`: the CA, certificate and key of this process's NATS role (matcher.nats_security);
        None only for a server that takes plaintext (a test's own single server)."""
        self.servers = servers
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"nats {name}", daemon=True)
        self._thread.start()
        self.name = name
        self.nc = self.call(nats.connect(servers=servers, name=name, max_reconnect_attempts=-1,
                                         tls=client_context(tls) if tls is not None else None,
                                         reconnect_time_wait=0.2, connect_timeout=2, error_cb=self._connection_error,
                                         reconnected_cb=self._reconnected), timeout=15)
        self.js = self.nc.jetstream(timeout=CALL_TIMEOUT)
        self.kv = None

    async def _connection_error(self, exc: Exception) -> None:
        # one line (nats-py's default prints a traceback for each server that goes away)
        log.warning("%s: NATS connection: %r", self.name, exc)

    async def _reconnected(self) -> None:
        url = self.nc.connected_url
        log.warning("%s: NATS reconnected to %s", self.name, url.netloc if url else "a server")

    def call(self, coroutine, timeout: float = 30):
        """Run `coroutine` on the link's loop and wait for it; after `timeout` it is cancelled, not left running."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        try:
            self.call(self.nc.close(), timeout=5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)

    # ---- set-up (idempotent: every process may call it)

    async def ensure(self, copies: int = COPIES) -> None:
        config = api.StreamConfig(name=GALLERY_STREAM, subjects=[SUBJECT_PREFIX + ".>"], num_replicas=copies,
                                  storage=api.StorageType.FILE, duplicate_window=DUPLICATE_WINDOW)
        for attempt in range(50):  # a cluster just started elects its meta leader first
            try:
                try:
                    await bounded(self.js.stream_info(GALLERY_STREAM))
                except nats.js.errors.NotFoundError:
                    await bounded(self.js.add_stream(config))
                self.kv = await bounded(self.js.create_key_value(bucket=TABLE_BUCKET, history=1, replicas=copies,
                                                                 storage=api.StorageType.FILE))
                return
            except (nats.errors.Error, asyncio.TimeoutError):  # no leader yet, no responders, a server busy
                if attempt == 49:
                    raise
                await asyncio.sleep(0.2)

    # ---- the table

    async def get(self, key: str) -> bytes | None:
        try:
            entry = await bounded(self.kv.get(key))
        except KeyNotFoundError:
            return None
        return entry.value

    async def put(self, key: str, value: bytes) -> None:
        await bounded(self.kv.put(key, value))

    async def keys(self, prefix: str) -> list[str]:
        """The table's keys that start with `prefix` (deleted ones included: `get` says None for them).

        Read from the bucket's stream information in one request, not through nats-py's
        `KeyValue.keys()`: that reads a watcher with no time limit, so a watcher whose consumer died
        with its server hangs for ever (and under load it has come back short)."""
        subjects_prefix = f"$KV.{TABLE_BUCKET}."
        info = await bounded(self.js.stream_info(f"KV_{TABLE_BUCKET}", subjects_filter=f"{subjects_prefix}{prefix}>"))
        return sorted(subject[len(subjects_prefix):] for subject in (info.state.subjects or {}))

    async def assignment(self) -> Assignment | None:
        raw = await self.get(ASSIGNMENT_KEY)
        return Assignment.from_json(raw) if raw else None

    async def galleries(self) -> dict[str, GalleryConfig]:
        found = {}
        for key in await self.keys("gallery."):
            raw = await self.get(key)
            if raw:
                config = GalleryConfig(**json.loads(raw))
                found[config.name] = config
        return found

    async def members(self) -> list[dict]:
        """Every member's last report."""
        found = []
        for key in await self.keys("member."):
            raw = await self.get(key)
            if raw:
                found.append(json.loads(raw))
        return found

    async def put_gallery(self, config: GalleryConfig) -> None:
        await self.put(f"gallery.{config.name}", json.dumps(asdict(config)).encode())

    # ---- the stream

    async def publish(self, gallery: str, vshard: int, op: str, subject_id: str, vector: np.ndarray | None,
                      change_id: str, deadline: float) -> int:
        """Record one change; its stream sequence. Retried with the same id until `deadline` (monotonic),
        so a publish whose acknowledgement was lost (a server killed, a leader elected) is not doubled."""
        headers = {"Nats-Msg-Id": change_id, OP_HEADER: op, SUBJECT_HEADER: subject_id}
        payload = vector.astype(np.float32).tobytes() if vector is not None else b""
        while True:
            try:
                ack = await self.js.publish(stream_subject(gallery, vshard), payload, headers=headers,
                                            timeout=max(0.2, min(5.0, deadline - time.monotonic())))
                return ack.seq
            except (nats.errors.Error, asyncio.TimeoutError) as exc:  # a server gone, a leader being elected
                if time.monotonic() + 0.1 >= deadline:
                    raise StreamUnavailable(f"JetStream did not acknowledge {change_id}: {exc!r}") from None
                await asyncio.sleep(0.1)

    async def publish_many(self, changes: list[tuple[str, int, str, str, np.ndarray | None]], seconds: float,
                           window: int = PUBLISH_WINDOW, change_ids: list[str] | None = None) -> list[int]:
        """Publish (gallery, vshard, op, subject id, vector) changes, at most `window` awaiting their
        acknowledgement at once (thousands at once only queue up and time out); each gets `seconds`
        from when it is sent and a change id of its own (`change_ids`, or fresh ones: a loader that
        may send a batch again gives the same ids, and the duplicate filter records each once)."""
        slots = asyncio.Semaphore(window)
        ids = change_ids or [uuid.uuid4().hex for _ in changes]

        async def one(change, change_id):
            async with slots:
                return await self.publish(*change, change_id, time.monotonic() + seconds)
        return list(await asyncio.gather(*(one(change, change_id) for change, change_id in zip(changes, ids))))

    async def last_sequence(self) -> int:
        return (await bounded(self.js.stream_info(GALLERY_STREAM))).state.last_seq


async def bounded(awaitable, seconds: float = CALL_TIMEOUT):
    """`awaitable`, or asyncio.TimeoutError after `seconds` (nats-py's own timeouts are per request;
    this also covers the calls that make several, and the waits it has no limit for)."""
    return await asyncio.wait_for(awaitable, seconds)


class StreamReader:
    """The gallery stream in order, from the message after `position`.

    It reads over an ephemeral pull consumer: no acknowledgements, in memory, one copy. That is
    only a cursor; the stream is what is kept. The consumer is dropped, and a new one made from
    the message after the last one handed out, when:
    - a delivery is missing (the consumer sequence skips: lost while the client reconnected);
    - a fetch or the making fails (a server gone, the consumer deleted with it);
    - `notice_last` is told the stream has more and nothing came for STALL_AFTER seconds (the
      consumer's server is dead: its fetches just time out).
    So `next_batch` hands out each message once, in stream order, with no gap, whatever the servers do.
    """

    def __init__(self, link: NatsLink, position: int):
        self.link = link
        self.position = position  # stream sequence of the last message handed out
        self.renewals = 0  # consumers made again after the first
        self._subscription = None
        self._consumer = ""  # its name
        self._delivered = 0  # consumer sequence of the last message handed out
        self._progress_at = time.monotonic()

    async def next_batch(self, batch: int, wait: float) -> list:
        """Up to `batch` messages right after `position`; none if nothing came within about `wait` seconds."""
        if self._subscription is None and not await self._open():
            await asyncio.sleep(min(wait, 0.2))
            return []
        try:
            messages = await bounded(self._subscription.fetch(batch, timeout=wait), wait + CALL_TIMEOUT)
        except asyncio.TimeoutError:  # nothing new (nats-py raises both its own and asyncio's on an empty fetch)
            return []
        except nats.errors.Error as exc:
            await self.drop(f"fetch failed: {exc!r}")
            return []
        taken = []
        for message in messages:
            sequence = message.metadata.sequence
            if sequence.consumer != self._delivered + 1:
                await self.drop(f"delivery {self._delivered + 1} missing (got {sequence.consumer})")
                break
            self._delivered, self.position = sequence.consumer, sequence.stream
            taken.append(message)
        if taken:
            self._progress_at = time.monotonic()
        return taken

    async def notice_last(self, last: int) -> None:
        """The stream's last sequence, read just now: a consumer that gave nothing for STALL_AFTER
        seconds while the stream has more is made again."""
        if last <= self.position:
            self._progress_at = time.monotonic()
        elif time.monotonic() - self._progress_at > STALL_AFTER:
            await self.drop(f"stalled at {self.position} of {last}")

    def held_up(self) -> None:
        """The caller stopped reading for a while of its own accord (a member writing its snapshot): that
        time is not a stall, so the consumer is not made again for it."""
        self._progress_at = time.monotonic()

    async def drop(self, why: str = "closed") -> None:
        """Forget the consumer (deleting it if its server answers); the next batch comes from a new one."""
        subscription, self._subscription = self._subscription, None
        if subscription is None:
            return
        if why != "closed":
            log.warning("stream reader: %s; reading again after %d", why, self.position)
        try:
            await bounded(subscription.unsubscribe())
            await bounded(self.link.js.delete_consumer(GALLERY_STREAM, self._consumer))
        except (nats.errors.Error, asyncio.TimeoutError, ValueError):
            pass  # its server is gone or busy: READER_INACTIVE removes it

    async def _open(self) -> bool:
        config = api.ConsumerConfig(name=uuid.uuid4().hex, filter_subject=SUBJECT_PREFIX + ".>",
                                    deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
                                    opt_start_seq=self.position + 1, ack_policy=api.AckPolicy.NONE,
                                    inactive_threshold=READER_INACTIVE, mem_storage=True, num_replicas=1)
        try:
            await bounded(self.link.js.add_consumer(GALLERY_STREAM, config))
            self._subscription = await bounded(self.link.js.pull_subscribe_bind(consumer=config.name,
                                                                                stream=GALLERY_STREAM))
        except (nats.errors.Error, asyncio.TimeoutError) as exc:
            log.warning("stream reader: no consumer after %d (%r); trying again", self.position, exc)
            return False
        self._consumer = config.name
        self._delivered = 0
        self._progress_at = time.monotonic()
        self.renewals += 1
        return True


def decode(msg) -> tuple[str, int, str, str, np.ndarray | None, int]:
    """(gallery, vshard, op, subject id, vector or None, stream sequence) of a stream message."""

    gallery, vshard = parse_stream_subject(msg.subject)
    op = msg.headers.get(OP_HEADER, "")
    vector = np.frombuffer(msg.data, dtype=np.float32) if op == ENROL else None
    return gallery, vshard, op, msg.headers.get(SUBJECT_HEADER, ""), vector, msg.metadata.sequence.stream
