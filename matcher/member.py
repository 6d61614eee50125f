"""One matcher process of a cluster: it serves the vshards its set holds, fed from the gallery stream.

The process's set holds the vshards the assignment gives it (served or warming,
matcher.vshards). It reads the whole stream in order from the position after its
snapshot and applies the changes of its vshards to in-memory galleries (FAISS as in
the embedded mode, without the local log: the stream is the log). When the assignment
gives it more vshards, it first replays those from the start of the stream up to where it
is, then goes on; vshards taken away are dropped. It takes a new assignment only in its turn
among its set's replicas, and says `moving` for the routers' grace before it does
(matcher.handover), so that each vshard always has a replica answering in full. Every
HEARTBEAT seconds it writes its state under `member.<name>` in the table: the router asks only
members that say `serving` (caught up with the stream once since start and holding what their
set should), and those that say `moving` last.

Snapshot: every `snapshot_every` applied changes and at a clean stop, the live templates of
every gallery and the stream position they include, written to a temporary folder and
renamed. A restart loads it and replays the stream after that position. With a sealer (the
`limes matcher serve` key file) every file of it is sealed (common.sealing), bound to the member,
the position and its part, so a file changed, swapped with another snapshot's or another
member's does not open: such a snapshot is refused (logged, set aside as `snapshot.refused`)
and the member rebuilds from the stream's start instead.

Writes come through the router (matcher.cluster_router), which publishes to the stream; a
member refuses them (FAILED_PRECONDITION) so nothing bypasses the log.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import grpc
import nats
import numpy as np

from common.sealing import Sealer, SealError
from matcher import handover
from matcher.config import GalleryConfig
from matcher.errors import NotLoaded
from matcher.gallery import Gallery, open_rows_into, seal_rows
from matcher.servicer import MatcherServicer
from matcher.stream import ENROL, TABLE_REFRESH, NatsLink, StreamReader, decode
from matcher.vshards import vshard_of
from matcher.wal import ENROL as LOG_ENROL
from matcher.wal import REMOVE as LOG_REMOVE

log = logging.getLogger(__name__)

HEARTBEAT = 0.5  # seconds between a member's reports in the table
FETCH_BATCH = 1000
SNAPSHOT_EVERY = 100_000
STARTUP_WAIT = 60.0  # seconds a starting member waits for the table to take its first report
# Seconds a member says `moving` while still reading, before it replays or drops: four of the routers'
# table readings (TABLE_REFRESH), so every router asks the other replicas first before this one lags,
# and every router has read a flip before the old owner drops what it gave away.
ROUTER_GRACE = 4 * TABLE_REFRESH
# What a NATS call may raise when a server is killed, a leader is being elected or an answer does not
# come in time (matcher.stream bounds every call): the member goes on from where it was.
NATS_TROUBLE = (nats.errors.Error, asyncio.TimeoutError, OSError)


class Member:
    """The galleries of one clustered matcher process; also the Registry its MatcherServicer reads."""

    def __init__(self, link: NatsLink, name: str, set_name: str, address: str, data_dir: Path,
                 snapshot_every: int = SNAPSHOT_EVERY, sealer: Sealer | None = None, **gallery_options):
        self.link, self.name, self.set_name, self.address = link, name, set_name, address
        self.sealer = sealer
        self.data_dir = Path(data_dir)
        self.snapshot_every = snapshot_every
        self._options = {**gallery_options, "snapshot_every": 1 << 62}  # the stream is the log: no gallery log
        self._galleries: dict[str, Gallery] = {}
        self.applied = 0  # stream sequence of the last change read (applied or not ours)
        self.held: frozenset[int] = frozenset()
        self.version = 0  # the assignment version `held` follows
        self.serving = False
        self.moving = False  # taking a new assignment, from the announcement until caught up after it
        self._announced_at: float | None = None  # when `moving` was first reported for the pending move
        self._since_snapshot = 0
        self._stopping = asyncio.Event()
        self._task = None

    @property
    def answering(self) -> bool:
        """Reported as `serving`: caught up with the stream since it started, and holding an assignment."""
        return self.serving and self.version > 0

    # ---- Registry API for MatcherServicer

    def get(self, name: str) -> Gallery:
        gallery = self._galleries.get(name)
        if gallery is None:
            # the router has checked that the gallery exists: this member has not read it yet
            raise NotLoaded(f"gallery: {name!r} not loaded on this member yet")
        return gallery

    def all(self) -> list[Gallery]:
        return sorted(self._galleries.values(), key=lambda g: g.config.name)

    def close(self) -> None:
        for gallery in self.all():
            gallery.close()

    # ---- running

    def start(self) -> None:
        self.link.call(self.link.ensure())
        # at once, so a router stops asking a killed predecessor whose last heartbeat said "serving"; a
        # cluster just started may still be electing the table's leader, so this is retried a while
        self.link.call(self._retrying(self._report, STARTUP_WAIT), timeout=STARTUP_WAIT + 10)
        self._load_snapshot()
        self._task = asyncio.run_coroutine_threadsafe(self._run(), self.link.loop)

    def stop(self, snapshot: bool = True) -> None:
        self.link.loop.call_soon_threadsafe(self._stopping.set)
        self._task.result(60)
        if snapshot:
            self.link.call(self._snapshot())

    async def _retrying(self, step, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                return await step()
            except NATS_TROUBLE:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._follow_assignment()
                await self._consume()
            except NATS_TROUBLE as exc:  # a table read failed: go on from `applied`, nothing skipped
                log.warning("member %s: stream read interrupted (%r); resuming after %d", self.name, exc, self.applied)
                await asyncio.sleep(0.2)
            except Exception:
                log.exception("member %s: unexpected error; resuming after %d", self.name, self.applied)
                await asyncio.sleep(1)

    async def _consume(self) -> None:
        """Read the stream after `applied` until stopped; returns when the assignment changed (to follow
        it first). A change is read, then applied, then counted in `applied`: if applying fails (a table
        read), the error leaves here with the reader, and the next reader starts after `applied`."""
        reader = StreamReader(self.link, self.applied)
        last_report = 0.0
        try:
            while not self._stopping.is_set():
                messages = await reader.next_batch(FETCH_BATCH, wait=0.25)
                if messages:
                    await self._apply(messages, self.held)
                    if self._since_snapshot >= self.snapshot_every:
                        await self._snapshot()
                        reader.held_up()  # seconds without fetching while the stream grew: not a stall
                if time.monotonic() - last_report >= HEARTBEAT:
                    last_report = time.monotonic()
                    try:
                        if await self._heartbeat(reader):
                            return
                    except NATS_TROUBLE as exc:  # the table is away for now: read on, report next time
                        log.warning("member %s: heartbeat failed (%r); reading on after %d", self.name, exc,
                                    self.applied)
        finally:
            await reader.drop()

    async def _heartbeat(self, reader: StreamReader) -> bool:
        """Compare with the stream's end, pick up new galleries, report; True if the assignment changed."""
        last = await self.link.last_sequence()
        await reader.notice_last(last)
        if self.applied >= last and not self.serving:
            self.serving = True
            log.info("member %s: caught up at %d, serving", self.name, self.applied)
        if self.applied >= last and self.moving and self._announced_at is None:
            self.moving = False  # moved and caught up since: answering in full again
            log.info("member %s: caught up at %d after taking assignment %d", self.name, self.applied, self.version)
        for name, config in (await self.link.galleries()).items():
            if name not in self._galleries:  # created, nothing of ours enrolled yet
                self._new_gallery(config)
        assignment = await self.link.assignment()
        if assignment is not None and assignment.version != self.version and await self._may_take(assignment):
            return True
        await self._report()
        return False

    async def _may_take(self, assignment) -> bool:
        """Whether to take `assignment` now (matcher.handover). In its turn, a member that will lag first
        says `moving` and reads on for ROUTER_GRACE; False meanwhile, and while an earlier replica moves."""
        if assignment.held_by(self.set_name) == self.held or not self.answering:
            return True  # nothing changes for this member, or it answers nothing yet: nothing to protect
        if not handover.turn_comes(self.name, self.set_name, assignment.version, await self.link.members(),
                                   time.time()):
            return False
        if self._announced_at is None:
            self._announced_at, self.moving = time.monotonic(), True
            log.info("member %s: moving to assignment %d in %.1f s", self.name, assignment.version, ROUTER_GRACE)
            return False
        return time.monotonic() - self._announced_at >= ROUTER_GRACE

    async def _follow_assignment(self) -> None:
        assignment = await self.link.assignment()
        if assignment is None or assignment.version == self.version or not await self._may_take(assignment):
            return
        wanted = assignment.held_by(self.set_name)
        lost, gained = self.held - wanted, wanted - self.held
        reporting = asyncio.ensure_future(self._report_every_heartbeat())  # alive while moving, for routers
        try:                                                               # and the replicas waiting their turn
            if lost:  # in a thread: the loop goes on reporting while the write lock is taken chunk by chunk
                await asyncio.to_thread(self._drop, lost)
            if gained and self.applied and not await self._replay(gained, self.applied):
                return  # stopping
        finally:
            reporting.cancel()
        self.held, self.version = wanted, assignment.version
        self._announced_at = None  # still `moving` (if it was) until caught up with the stream: _heartbeat
        log.info("member %s: assignment %d: holds %d vshards (+%d -%d)", self.name, self.version, len(wanted),
                 len(gained), len(lost))
        await self._report()

    def _drop(self, vshards: frozenset[int]) -> None:
        for gallery in self.all():
            gallery.drop_where(lambda s: vshard_of(s) in vshards)

    async def _report_every_heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self._report()
            except NATS_TROUBLE as exc:
                log.warning("member %s: heartbeat failed while moving (%r)", self.name, exc)

    async def _replay(self, vshards: frozenset[int], upto: int) -> bool:
        """Apply the changes of `vshards` from the start of the stream to `upto` (what the main read has
        passed); False if the member was stopped first."""
        started = last_check = time.monotonic()
        reader = StreamReader(self.link, 0)
        try:
            while reader.position < upto:
                if self._stopping.is_set():
                    return False
                messages = [m for m in await reader.next_batch(FETCH_BATCH, wait=1.0)
                            if m.metadata.sequence.stream <= upto]
                await self._apply(messages, vshards, advance=False)
                if time.monotonic() - last_check >= HEARTBEAT:  # a stalled consumer is made again
                    last_check = time.monotonic()
                    await reader.notice_last(upto)
        finally:
            await reader.drop()
        log.info("member %s: replayed %d vshards up to %d in %.1f s", self.name, len(vshards), upto,
                 time.monotonic() - started)
        return True

    async def _apply(self, messages, vshards: frozenset[int], advance: bool = True) -> None:
        """Apply the changes of `vshards` among `messages`; with `advance`, move `applied` past them,
        only once they are applied (a table read failing half-way must not skip a change)."""
        decoded = [decode(message) for message in messages]
        if advance:  # a redelivered message (an acknowledgement lost) was applied already, in order
            decoded = [d for d in decoded if d[5] > self.applied]
        by_gallery: dict[str, list] = {}
        for gallery, vshard, op, subject_id, vector, _ in decoded:
            if vshard in vshards:
                change = (LOG_ENROL if op == ENROL else LOG_REMOVE, subject_id, vector)
                by_gallery.setdefault(gallery, []).append(change)
        for name in by_gallery:
            if name not in self._galleries:
                raw = await self.link.get(f"gallery.{name}")  # may fail: nothing applied or skipped yet
                if raw is None:  # published without a gallery: the router never does that
                    log.error("member %s: changes for unknown gallery %r skipped", self.name, name)
                    continue
                self._new_gallery(GalleryConfig(**json.loads(raw)))
        for name, changes in by_gallery.items():
            if name in self._galleries:
                self._galleries[name].apply(changes)
        if advance and decoded:
            self.applied = decoded[-1][5]
            self._since_snapshot += len(decoded)

    async def _report(self) -> None:
        state = {"name": self.name, "set": self.set_name, "address": self.address, "applied": self.applied,
                 "version": self.version, "serving": self.answering, "moving": self.moving,
                 "settled": not any(g.maintaining for g in self.all()), "at": time.time()}
        await self.link.put(f"member.{self.name}", json.dumps(state).encode())

    # ---- snapshots

    def _snapshot_dir(self) -> Path:
        return self.data_dir / "snapshot"

    async def _snapshot(self) -> None:
        copies = {name: (g.config, *g.live_rows()) for name, g in self._galleries.items()}
        meta = {"applied": self.applied, "held": sorted(self.held), "version": self.version,
                "galleries": {name: len(copy[1]) for name, copy in copies.items()}}
        self._since_snapshot = 0
        seal = SnapshotSeal(self.sealer, self.name)
        await asyncio.to_thread(write_snapshot, self._snapshot_dir(), copies, meta, seal)

    def _load_snapshot(self) -> None:
        """Start from the snapshot if there is one that opens; one that does not is set aside and the
        member starts from the stream's beginning (the stream has everything the snapshot had)."""
        directory = self._snapshot_dir()
        if not directory.exists():
            return
        try:
            meta, galleries = read_snapshot(directory, SnapshotSeal(self.sealer, self.name))
        except (SealError, ValueError, KeyError, TypeError, OSError) as exc:
            refused = directory.with_name(directory.name + ".refused")
            shutil.rmtree(refused, ignore_errors=True)
            directory.rename(refused)
            log.error("member %s: snapshot refused (%s); set aside as %s, rebuilding from the stream",
                      self.name, exc, refused)
            return
        for config, subjects, vectors in galleries:
            self._new_gallery(config).apply([(LOG_ENROL, s, v) for s, v in zip(subjects, vectors)])
        self.applied, self.held, self.version = meta["applied"], frozenset(meta["held"]), meta["version"]
        log.info("member %s: snapshot at %d loaded", self.name, self.applied)

    def _new_gallery(self, config: GalleryConfig) -> Gallery:
        gallery = Gallery(config, self.data_dir / "galleries" / config.name, **self._options)
        self._galleries[config.name] = gallery
        return gallery


class SnapshotSeal:
    """How a member's snapshot files are sealed: each bound to the member, the stream position and the
    file's part, so none opens in another member's or another snapshot's place. Without a sealer
    (a member started with no key: tests of other parts) the files are written in clear and say so."""

    def __init__(self, sealer: Sealer | None, member: str):
        self.sealer, self.member = sealer, member

    def context(self, applied: int, part: str) -> str:
        return f"matcher-member:{self.member}:snapshot@{applied}:{part}"

    def write(self, path: Path, data: bytes, applied: int) -> None:
        path.write_bytes(self.sealer.seal(data, self.context(applied, path.name)) if self.sealer else data)

    def read(self, path: Path, applied: int, sealed: bool) -> bytes:
        data = path.read_bytes()
        if not sealed:
            return data
        if self.sealer is None:
            raise SealError(f"{path}: sealed, and the member was started without its key file")
        return self.sealer.open(data, self.context(applied, path.name))


META = "meta.json"  # the one file in clear: the position and whether the rest is sealed (every other file binds both)


def write_snapshot(directory: Path, copies: dict, meta: dict, seal: SnapshotSeal) -> None:
    partial = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    applied = meta["applied"]
    for name, (config, subjects, vectors) in copies.items():
        seal.write(partial / f"{name}.config.json", json.dumps(asdict(config)).encode(), applied)
        seal.write(partial / f"{name}.subjects.json", json.dumps(subjects).encode(), applied)
        if seal.sealer is None:
            np.save(partial / f"{name}.npy", vectors)
        else:  # in chunks, bound to their number and count (matcher.gallery), one chunk in memory at a time
            seal_rows(partial / f"{name}.vectors.sealed", np.ascontiguousarray(vectors), seal.sealer,
                      seal.context(applied, f"{name}.vectors"))
    # written last: a snapshot without it is incomplete; meta.check (sealed) binds the clear meta.json
    (partial / META).write_text(json.dumps({**meta, "sealed": seal.sealer is not None}))
    seal.write(partial / "meta.check", json.dumps(meta, sort_keys=True).encode(), applied)
    for file in partial.iterdir():
        with open(file, "rb") as handle:
            os.fsync(handle.fileno())
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    partial.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def read_snapshot(directory: Path, seal: SnapshotSeal) -> tuple[dict, list]:
    """(meta, [(config, subjects, vectors)]) of a snapshot written by write_snapshot; SealError,
    ValueError, KeyError or OSError when any part of it is missing, changed or out of place."""
    meta = json.loads((directory / META).read_text())
    applied, sealed = meta["applied"], meta.pop("sealed", False)
    if json.loads(seal.read(directory / "meta.check", applied, sealed)) != meta:
        raise ValueError(f"{directory / META} does not match the sealed copy of it")
    galleries = []
    for name, rows in sorted(meta["galleries"].items()):
        config = GalleryConfig(**json.loads(seal.read(directory / f"{name}.config.json", applied, sealed)))
        subjects = json.loads(seal.read(directory / f"{name}.subjects.json", applied, sealed))
        if config.name != name or len(subjects) != rows:
            raise ValueError(f"{directory}: gallery {name!r} does not hold the {rows} rows its meta says")
        if sealed:
            vectors = np.empty((rows, config.dimension), dtype=np.float32)
            open_rows_into(directory / f"{name}.vectors.sealed", vectors, seal.sealer,
                           seal.context(applied, f"{name}.vectors"))
        else:
            vectors = np.load(directory / f"{name}.npy")
        galleries.append((config, subjects, vectors))
    return meta, galleries


class MemberServicer(MatcherServicer):
    """The Matcher API of one member: reads once it serves (caught up with the stream: until then
    UNAVAILABLE, so a router asks another replica rather than get an incomplete answer); writes
    only through the router and the stream."""

    def __init__(self, member: Member):
        super().__init__(member)
        self.member = member

    def _refuse(self, request, context):
        context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                      "this matcher is a cluster member: enrol, remove and create galleries through the router")

    CreateGallery = Enrol = EnrolBatch = Remove = _refuse

    def _refuse_fingers(self, request, context):
        # Finger galleries are two face-style galleries kept by the embedded matcher; the gallery stream
        # carries no finger changes yet, so a member would answer from a gallery nobody can fill.
        context.abort(grpc.StatusCode.UNIMPLEMENTED,
                      "finger galleries are served by the embedded matcher only, not yet by a cluster member")

    CreateFingerGallery = FingerEnrol = FingerRemove = FingerVerify = FingerSearch = _refuse_fingers


def _when_serving(name: str):
    read = getattr(MatcherServicer, name)

    def guarded(self, request, context):
        if not self.member.serving:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"member {self.member.name} is still catching up with the "
                                                       "gallery stream")
        return read(self, request, context)
    guarded.__name__ = name
    return guarded


for _read in ("Search", "SearchBatch", "Get", "Verify", "GalleryStats", "ListGalleries"):
    setattr(MemberServicer, _read, _when_serving(_read))
