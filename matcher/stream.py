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
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import asdict

import nats
import numpy as np
from nats.js import api
from nats.js.errors import KeyNotFoundError

from matcher.config import GalleryConfig
from matcher.vshards import SUBJECT_PREFIX, Assignment, parse_stream_subject, stream_subject

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


class StreamUnavailable(Exception):
    """JetStream did not acknowledge in time: the change may or may not be recorded; retry it with the same id."""


class NatsLink:
    """One NATS connection and its event loop, in a daemon thread."""

    def __init__(self, servers: list[str], name: str = "limes-matcher"):
        self.servers = servers
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"nats {name}", daemon=True)
        self._thread.start()
        self.nc = self.call(nats.connect(servers=servers, name=name, max_reconnect_attempts=-1,
                                         reconnect_time_wait=0.2, connect_timeout=2), timeout=15)
        self.js = self.nc.jetstream(timeout=5)
        self.kv = None

    def call(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

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
                    await self.js.stream_info(GALLERY_STREAM)
                except nats.js.errors.NotFoundError:
                    await self.js.add_stream(config)
                self.kv = await self.js.create_key_value(bucket=TABLE_BUCKET, history=1, replicas=copies,
                                                         storage=api.StorageType.FILE)
                return
            except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError, nats.errors.NoRespondersError,
                    nats.js.errors.APIError):
                if attempt == 49:
                    raise
                await asyncio.sleep(0.2)

    # ---- the table

    async def get(self, key: str) -> bytes | None:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None
        return entry.value

    async def put(self, key: str, value: bytes) -> None:
        await self.kv.put(key, value)

    async def keys(self, prefix: str) -> list[str]:
        try:
            return [k for k in await self.kv.keys() if k.startswith(prefix)]
        except nats.js.errors.NoKeysError:
            return []

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

    async def members(self, remembered: set[str] | None = None) -> list[dict]:
        """Every member's last report. nats-py lists keys through a watcher that under load has come
        back short, so the keys of members seen before (`remembered`, updated here) are read too."""
        keys = set(await self.keys("member."))
        if remembered is not None:
            remembered.update(keys)
            keys = set(remembered)
        found = []
        for key in sorted(keys):
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
                           window: int = PUBLISH_WINDOW) -> list[int]:
        """Publish (gallery, vshard, op, subject id, vector) changes, at most `window` awaiting their
        acknowledgement at once (thousands at once only queue up and time out); each gets `seconds`
        from when it is sent and a change id of its own."""
        slots = asyncio.Semaphore(window)

        async def one(change):
            async with slots:
                return await self.publish(*change, uuid.uuid4().hex, time.monotonic() + seconds)
        return list(await asyncio.gather(*(one(change) for change in changes)))

    async def last_sequence(self) -> int:
        return (await self.js.stream_info(GALLERY_STREAM)).state.last_seq


def decode(msg) -> tuple[str, int, str, str, np.ndarray | None, int]:
    """(gallery, vshard, op, subject id, vector or None, stream sequence) of a stream message."""

    gallery, vshard = parse_stream_subject(msg.subject)
    op = msg.headers.get(OP_HEADER, "")
    vector = np.frombuffer(msg.data, dtype=np.float32) if op == ENROL else None
    return gallery, vshard, op, msg.headers.get(SUBJECT_HEADER, ""), vector, msg.metadata.sequence.stream
