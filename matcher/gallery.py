"""One gallery: its templates in memory, its FAISS index, and its files on disk.

Rows: every enrolment appends a row (subject id + full vector, float32 or, with
vector_storage "float16", half that) and gets the row number as its FAISS id.
A row's vector never changes once written, which lets rebuilds and snapshots read
rows without copying them all under a lock. Re-enrolling a subject kills its old row;
removing kills it too. Killed rows are tombstones, filtered out of every search
(see matcher.index) and dropped from the index at the next rebuild.

On disk, in the gallery's directory:
  config.json              the GalleryConfig
  log-NNNNNNNN.wal         enrolment logs (matcher.wal), fsync'd before acknowledging
  snapshot-NNNNNNNN/       vectors.npy, subjects.json, index.faiss, meta.json (written last):
                           the state after all logs up to NNNNNNNN
Start-up loads the newest complete snapshot and replays the later logs. A
snapshot rotates the log first, so logs it covers can be deleted once it is on disk.
"""
from __future__ import annotations

import json
import logging
import math
import os
import shutil
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np

from common.sealing import Sealer, SealError
from matcher import index as indexes
from matcher.config import GalleryConfig
from matcher.errors import InvalidArgument, NotFound
from matcher.rwlock import ReadWriteLock
from matcher.wal import ENROL, REMOVE, EnrolmentLog, Record, fsync_directory, iter_logs, log_path, replay

log = logging.getLogger(__name__)

MAX_SUBJECT_ID_BYTES = 256
SNAPSHOT_EVERY = 100_000  # log records between automatic snapshots
SEALED_CHUNK_BYTES = 32 << 20  # a sealed snapshot's vectors go in chunks of this size: memory stays bounded
CHUNK_LENGTH = struct.Struct("<Q")
SEARCH_THREADS_FROM = 256  # queries in one call before FAISS may use every core (not 16: a finger search's
# ~67 query cylinders are one request, and on a busy machine two threads' barriers cost it 3-10x the CPU)


@dataclass(frozen=True)
class Hit:
    subject_id: str
    distance: float  # L2


@dataclass(frozen=True)
class GalleryStats:
    size: int
    tombstones: int
    index_kind: str  # "exact" or the factory string


def check_subject_id(subject_id: str) -> None:
    if not subject_id:
        raise InvalidArgument("subject_id: empty")
    if len(subject_id.encode("utf-8")) > MAX_SUBJECT_ID_BYTES:
        raise InvalidArgument(f"subject_id: longer than {MAX_SUBJECT_ID_BYTES} bytes")


class Gallery:
    def __init__(self, config: GalleryConfig, directory: Path, *, background: bool = True,
                 snapshot_every: int = SNAPSHOT_EVERY, rebuild_tombstones: int = 1000, sealer: Sealer | None = None):
        """Empty in-memory state; use `create` or `open`. With `sealer` the log and the snapshots
        (templates and the index built from them) are sealed at rest (common.sealing)."""
        self.config = config
        self.directory = directory
        self.sealer = sealer
        self.background = background  # rebuilds and snapshots in a thread (False: inline, for tests)
        self.snapshot_every = snapshot_every
        self.rebuild_tombstones = rebuild_tombstones  # rebuild once tombstones exceed max(this, live/4)
        # Changes hold _commit through the fsync'd log write (so log order is apply order) and the
        # write lock only to apply them in memory, so searches never wait for a disk.
        self._commit = threading.Lock()
        self._lock = ReadWriteLock()
        self._maintenance = threading.Lock()  # one rebuild or snapshot at a time
        self._worker_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._approximate_from = 0
        if config.index_factory:
            self._approximate_from = max(
                config.exact_until, indexes.minimum_size(config.index_factory, config.dimension)
            )
        d = config.dimension
        # np.zeros maps fresh zero pages: capacity not yet written costs no memory.
        self._vectors = np.zeros((1024, d), dtype=config.vector_storage)
        self._subjects: list[str | None] = []  # by row; None once killed
        self._rows: dict[str, int] = {}
        self._live_bits = np.zeros(1024 // 8, dtype=np.uint8)  # bit r (LSB first) = row r is live
        self._index = indexes.build(indexes.EXACT, d, self._vectors[:0], np.zeros(0, np.int64))
        self._kind = indexes.EXACT
        self._log: EnrolmentLog | None = None
        self._log_seq = 0
        self._since_snapshot = 0

    # ---- creating and opening

    @classmethod
    def create(cls, config: GalleryConfig, directory: Path, **options) -> "Gallery":
        directory.mkdir(parents=True)
        config.save(directory / "config.json")
        fsync_directory(directory)
        fsync_directory(directory.parent)
        gallery = cls(config, directory, **options)
        gallery._log = EnrolmentLog(log_path(directory, 0), sealer=gallery.sealer)
        return gallery

    @classmethod
    def open(cls, directory: Path, **options) -> "Gallery":
        gallery = cls(GalleryConfig.load(directory / "config.json"), directory, **options)
        gallery._load()
        return gallery

    def _load(self) -> None:
        started = time.monotonic()
        covers = -1
        snapshot = latest_snapshot(self.directory)
        if snapshot is not None:
            covers = self._load_snapshot(snapshot)
        indexed = len(self._subjects)
        logs = [(seq, path) for seq, path in iter_logs(self.directory) if seq > covers]
        valid_end = None
        replayed = 0
        for seq, path in logs:
            records, valid_end = replay(path, self.sealer)
            replayed += len(records)
            for record in records:
                misfit = record.op == ENROL and record.vector.shape != (self.config.dimension,)
                if len(record.subject_id) == 0 or misfit:
                    raise ValueError(f"{path}: record for {record.subject_id!r} does not fit this gallery")
                if record.op == ENROL:
                    self._apply_enrol(record.subject_id, record.vector)
                elif record.subject_id in self._rows:
                    self._kill(self._rows.pop(record.subject_id))
        late = np.arange(indexed, len(self._subjects))
        late = late[self._live_mask()[indexed:]]
        if len(late):
            self._index.add_with_ids(self._vectors[late].astype(np.float32), late.astype(np.int64))
        if logs:
            self._log_seq = logs[-1][0]
            self._log = EnrolmentLog(logs[-1][1], valid_end, self.sealer)
        else:
            self._log_seq = covers + 1
            self._log = EnrolmentLog(log_path(self.directory, self._log_seq), sealer=self.sealer)
        self._since_snapshot = replayed
        log.info("gallery %s: %d subjects loaded (%s; snapshot of %d rows + %d log records) in %.1f s",
                 self.config.name, len(self._rows), self.index_kind, indexed, replayed, time.monotonic() - started)
        self._maintain()

    def _load_snapshot(self, snapshot: Path) -> int:
        meta = json.loads((snapshot / "meta.json").read_text())
        subjects = json.loads((snapshot / "subjects.json").read_text())
        # Room for as many again: pages not yet written cost nothing, and the gallery can then
        # grow that far without copying every row (which for a moment needs twice the memory).
        self._reserve(2 * len(subjects))
        if meta.get("sealed"):
            if self.sealer is None:
                raise SealError(f"{snapshot}: sealed, and the matcher was started without its key file")
            open_rows_into(snapshot / "vectors.sealed", self._vectors[:len(subjects)], self.sealer,
                           self._sealing_context("vectors"))
        else:
            read_rows_into(snapshot / "vectors.npy", self._vectors[:len(subjects)])
        self._subjects = subjects
        for row, subject in enumerate(subjects):
            if subject is not None:
                self._rows[subject] = row
                self._live_bits[row >> 3] |= 1 << (row & 7)
        if meta.get("sealed"):
            index_bytes = self.sealer.open((snapshot / "index.sealed").read_bytes(), self._sealing_context("index"))
            self._index = faiss.deserialize_index(np.frombuffer(index_bytes, dtype=np.uint8))
        else:
            self._index = faiss.read_index(str(snapshot / "index.faiss"))
        self._kind = meta["kind"]
        return int(meta["covers_log"])

    # ---- checking requests

    def check_template(self, model: str, model_version: str, values: Sequence[float]) -> np.ndarray:
        """The template as float32, or InvalidArgument when it is not for this gallery."""
        c = self.config
        if (model, model_version) != (c.model, c.model_version):
            raise InvalidArgument(
                f"template.model: {model!r} version {model_version!r}, but gallery "
                f"{c.name!r} holds {c.model!r} version {c.model_version!r}"
            )
        if len(values) != c.dimension:
            raise InvalidArgument(f"template.vector: {len(values)} values, gallery {c.name!r} has dimension "
                                  f"{c.dimension}")
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused just below
            vector = np.asarray(values, dtype=np.float32)
        if not np.isfinite(vector).all():
            raise InvalidArgument("template.vector: NaN or infinite value")
        return vector

    # ---- changes (logged and fsync'd before they are applied and acknowledged)

    def enrol(self, items: Sequence[tuple[str, np.ndarray]]) -> list[bool]:
        """Enrol (subject id, checked vector) pairs; True where an earlier template was replaced."""
        for subject_id, vector in items:
            check_subject_id(subject_id)
            if vector.shape != (self.config.dimension,) or vector.dtype != np.float32:
                raise InvalidArgument(f"template.vector: not a float32 vector of dimension {self.config.dimension}")
        with self._commit:
            self._log.append([Record(ENROL, s, v) for s, v in items])
            with self._lock.write():
                replaced = self._apply_enrol_batch(items)
            self._since_snapshot += len(items)
        self._maintain()
        return replaced

    def _apply_enrol_batch(self, items: Sequence[tuple[str, np.ndarray]]) -> list[bool]:
        replaced = []
        first = len(self._subjects)
        for subject_id, vector in items:
            replaced.append(self._apply_enrol(subject_id, vector))
        rows = np.arange(first, len(self._subjects), dtype=np.int64)
        self._index.add_with_ids(np.stack([vector for _, vector in items]), rows)  # the float32 templates
        return replaced

    def remove(self, subject_id: str) -> None:
        check_subject_id(subject_id)
        with self._commit:
            if subject_id not in self._rows:
                raise NotFound(f"subject_id: {subject_id!r} is not enrolled in gallery {self.config.name!r}")
            self._log.append([Record(REMOVE, subject_id)])
            with self._lock.write():
                self._kill(self._rows.pop(subject_id))
            self._since_snapshot += 1
        self._maintain()

    # ---- changes already made durable elsewhere (the clustered matcher's stream, matcher.member)

    def apply(self, changes: Sequence[tuple[str, str, np.ndarray | None]]) -> None:
        """Apply (op, subject id, vector) changes in order, without this gallery's own log:
        ENROL replaces or adds, REMOVE of an absent subject is nothing (a replay may repeat it)."""
        with self._commit:
            start = 0
            while start < len(changes):
                end = start
                while end < len(changes) and changes[end][0] == ENROL:
                    end += 1
                with self._lock.write():
                    if end > start:
                        self._apply_enrol_batch([(s, v) for _, s, v in changes[start:end]])
                    else:
                        row = self._rows.pop(changes[start][1], None)
                        if row is not None:
                            self._kill(row)
                        end = start + 1
                start = end
        self._maintain()

    def drop_where(self, unwanted, chunk: int = 5000) -> int:
        """Kill every live subject for which `unwanted(subject_id)` is true; how many.

        Chosen under the read lock, then killed `chunk` at a time under the write lock: at a rebalance
        every replica of a set drops its lost vshards at the same moment, and holding the write lock
        for all of them (about a second for a third of 500k subjects) kept the whole set from
        answering a search, which the router then called partial."""
        with self._lock.read():
            doomed = [(subject_id, row) for subject_id, row in self._rows.items() if unwanted(subject_id)]
        killed = 0
        for start in range(0, len(doomed), chunk):
            with self._commit, self._lock.write():
                for subject_id, row in doomed[start:start + chunk]:
                    if self._rows.get(subject_id) == row:  # not changed since it was chosen
                        self._kill(self._rows.pop(subject_id))
                        killed += 1
        self._maintain()
        return killed

    def live_rows(self) -> tuple[list[str], np.ndarray]:
        """A copy of the live subjects and their float32 templates, in row order."""
        with self._lock.read():
            rows = np.fromiter(sorted(self._rows.values()), dtype=np.int64, count=len(self._rows))
            return [self._subjects[r] for r in rows], self._vectors[rows].astype(np.float32)

    def _apply_enrol(self, subject_id: str, vector: np.ndarray) -> bool:
        old = self._rows.get(subject_id)
        if old is not None:
            self._kill(old)
        row = len(self._subjects)
        self._reserve(row + 1)
        self._vectors[row] = vector
        self._subjects.append(subject_id)
        self._live_bits[row >> 3] |= 1 << (row & 7)
        self._rows[subject_id] = row
        return old is not None

    def _kill(self, row: int) -> None:
        self._subjects[row] = None
        self._live_bits[row >> 3] &= ~np.uint8(1 << (row & 7))

    def _reserve(self, rows: int) -> None:
        if rows <= len(self._vectors):
            return
        capacity = max(rows, 2 * len(self._vectors))
        vectors = np.zeros((capacity, self.config.dimension), dtype=self._vectors.dtype)
        vectors[:len(self._vectors)] = self._vectors
        bits = np.zeros((capacity + 7) // 8, dtype=np.uint8)
        bits[:len(self._live_bits)] = self._live_bits
        self._vectors, self._live_bits = vectors, bits

    def _live_mask(self) -> np.ndarray:
        return np.unpackbits(self._live_bits, bitorder="little")[:len(self._subjects)].astype(bool)

    # ---- reading

    def get(self, subject_id: str) -> np.ndarray:
        check_subject_id(subject_id)
        with self._lock.read():
            row = self._rows.get(subject_id)
            if row is None:
                raise NotFound(f"subject_id: {subject_id!r} is not enrolled in gallery {self.config.name!r}")
            return self._vectors[row].astype(np.float32)  # a copy

    def distance_to(self, subject_id: str, vector: np.ndarray) -> float:
        enrolled = self.get(subject_id)
        return float(np.linalg.norm(enrolled - vector))

    def search(self, queries: np.ndarray, top_k: int) -> list[list[Hit]]:
        """The top_k nearest live subjects of each query, nearest first, by exact L2 distance.

        An approximate index only proposes a shortlist; its candidates are re-ranked
        on the stored full vectors, so what comes back is as exact as the shortlist.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        # One query gains little from OpenMP and pays for its barriers under load; concurrent
        # requests already keep the cores busy. (The setting is per calling thread.)
        faiss.omp_set_num_threads(1 if len(queries) < SEARCH_THREADS_FROM else os.cpu_count() or 1)
        with self._lock.read():
            if not self._rows:
                return [[] for _ in queries]
            exact = indexes.is_exact(self._index)
            shortlist = top_k if exact else max(top_k, self.config.rerank_shortlist)
            selector = None  # no tombstone in the index: nothing to filter, and the filter is not free
            if self._index.ntotal > len(self._rows):  # (through the id map it doubles an IVF scan's time)
                selector = faiss.IDSelectorBitmap(len(self._live_bits), faiss.swig_ptr(self._live_bits))
            params = indexes.search_parameters(self._index, self.config.search_breadth, shortlist, selector)
            _, found = self._index.search(queries, shortlist, params=params)
            results = []
            for query, rows in zip(queries, found):
                rows = rows[rows >= 0]
                # distances from the stored rows, also for an exact index: its batched search (a matrix
                # product, matcher.index) leaves rounding of ~1e-7 in a squared distance of 0
                difference = self._vectors[rows].astype(np.float32) - query
                row_squared = np.einsum("ij,ij->i", difference, difference)
                order = np.argsort(row_squared, kind="stable")[:top_k]
                results.append([Hit(self._subjects[rows[i]], math.sqrt(max(float(row_squared[i]), 0.0)))
                                for i in order])
            return results

    @property
    def size(self) -> int:
        return len(self._rows)

    @property
    def index_kind(self) -> str:
        return "exact" if self._kind == indexes.EXACT else self._kind

    def memory_bytes(self) -> dict[str, int]:
        """What the gallery holds in memory, by part: for operators and the benchmark.

        `vectors` counts the rows written (capacity beyond them is untouched zero pages),
        `index` is the FAISS index's serialised size (its codes, ids and quantizers), and
        `ids` the Python objects that map row numbers and subject ids both ways. Walks
        every subject id: seconds at ten million, not for a hot path.
        """
        with self._lock.read():
            rows = len(self._subjects)
            vectors = rows * self._vectors.shape[1] * self._vectors.itemsize
            index = len(faiss.serialize_index(self._index))
            ids = (sys.getsizeof(self._subjects) + sys.getsizeof(self._rows) + self._live_bits.nbytes
                   + sum(sys.getsizeof(s) for s in self._subjects if s is not None)
                   + sum(sys.getsizeof(r) for r in self._rows.values()))
        return {"vectors": vectors, "index": index, "ids": ids, "total": vectors + index + ids}

    def stats(self) -> GalleryStats:
        with self._lock.read():
            return GalleryStats(len(self._rows), int(self._index.ntotal) - len(self._rows), self.index_kind)

    # ---- maintenance: index rebuilds and snapshots

    def _wanted_kind(self) -> str:
        c = self.config
        if not c.index_factory:
            return indexes.EXACT
        if self._kind == indexes.EXACT:
            return c.index_factory if len(self._rows) > self._approximate_from else indexes.EXACT
        # Back to exact only well below the switch point, so a gallery at the edge does not flap.
        return indexes.EXACT if len(self._rows) < c.exact_until // 2 else self._kind

    def _needs_rebuild(self) -> bool:
        tombstones = int(self._index.ntotal) - len(self._rows)
        return self._wanted_kind() != self._kind or tombstones > max(self.rebuild_tombstones, len(self._rows) // 4)

    def _maintain(self) -> None:
        if not (self._needs_rebuild() or self._since_snapshot >= self.snapshot_every):
            return
        if not self.background:
            self._maintenance_pass()
            return
        with self._worker_lock:
            if self._worker is not None and self._worker.is_alive():
                return
            self._worker = threading.Thread(target=self._maintenance_pass, name=f"gallery-{self.config.name}",
                                            daemon=True)
            self._worker.start()

    def _maintenance_pass(self) -> None:
        try:
            if self._needs_rebuild():
                self.rebuild()
            if self._since_snapshot >= self.snapshot_every:
                self.snapshot()
        except Exception:  # a background failure must be seen, and must not kill the server
            log.exception("gallery %s: maintenance failed", self.config.name)

    @property
    def maintaining(self) -> bool:
        """An index rebuild or a snapshot is running in the background (a clustered member waits for
        the one after a drop before the next replica of its set drops: matcher.handover)."""
        worker = self._worker
        return worker is not None and worker.is_alive()

    def wait_for_maintenance(self) -> None:
        worker = self._worker
        if worker is not None:
            worker.join()

    def rebuild(self) -> None:
        """A fresh index of the live rows, of the kind the gallery's size asks for.

        Built without blocking searches or enrolments: rows enrolled meanwhile are
        added before the swap, and rows removed meanwhile are tombstones in it.
        """
        with self._maintenance:
            with self._lock.read():
                frozen = len(self._subjects)
                rows = np.flatnonzero(self._live_mask())
                vectors = self._vectors  # rows below `frozen` are final, even if enrolment grows the array
                kind = self._wanted_kind()
            started = time.monotonic()
            index = indexes.build(kind, self.config.dimension, vectors, rows)
            with self._lock.write():
                late = np.arange(frozen, len(self._subjects))
                late = late[self._live_mask()[frozen:]]
                if len(late):
                    index.add_with_ids(self._vectors[late].astype(np.float32), late.astype(np.int64))
                self._index, self._kind = index, kind
            log.info("gallery %s: rebuilt %s index of %d rows in %.1f s", self.config.name, self.index_kind,
                     len(rows) + len(late), time.monotonic() - started)

    def snapshot(self) -> None:
        """Write the state to disk and drop the logs it covers."""
        with self._maintenance:
            # Searches go on; enrolments wait, so the copy and the log rotation agree.
            with self._commit:
                covers = self._log_seq
                self._log.close()
                self._log_seq += 1
                self._log = EnrolmentLog(log_path(self.directory, self._log_seq), sealer=self.sealer)
                count = len(self._subjects)
                vectors = self._vectors[:count]  # no copy: rows below `count` never change
                subjects = list(self._subjects)
                index_bytes = faiss.serialize_index(self._index)
                kind = self._kind
                self._since_snapshot = 0
            final = self.directory / f"snapshot-{covers:08d}"
            partial = final.with_suffix(".tmp")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            if self.sealer is None:
                np.save(partial / "vectors.npy", vectors)
                index_bytes.tofile(partial / "index.faiss")
            else:
                seal_rows(partial / "vectors.sealed", vectors, self.sealer, self._sealing_context("vectors"))
                (partial / "index.sealed").write_bytes(
                    self.sealer.seal(index_bytes.tobytes(), self._sealing_context("index")))
            (partial / "subjects.json").write_text(json.dumps(subjects))
            (partial / "meta.json").write_text(json.dumps({"covers_log": covers, "kind": kind, "rows": count,
                                                           "sealed": self.sealer is not None}))
            for path in partial.iterdir():
                with open(path, "rb") as file:
                    os.fsync(file.fileno())
            fsync_directory(partial)
            partial.rename(final)
            fsync_directory(self.directory)
            for seq, path in iter_logs(self.directory):
                if seq <= covers:
                    path.unlink()
            for older in self.directory.glob("snapshot-*"):
                if older != final:
                    shutil.rmtree(older, ignore_errors=True)

    def _sealing_context(self, part: str) -> str:
        # The gallery's own snapshot part: sealed data moved to another gallery or part does not open.
        return f"matcher:{self.config.name}:snapshot:{part}"

    def close(self) -> None:
        self.wait_for_maintenance()
        with self._commit:
            if self._log is not None:
                self._log.close()
                self._log = None


def read_rows_into(path: Path, out: np.ndarray) -> None:
    """Read a .npy array written by np.save straight into `out` (no second copy in memory)."""
    with open(path, "rb") as file:
        version = np.lib.format.read_magic(file)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(file)
        if shape != out.shape or dtype != out.dtype or fortran_order:
            raise ValueError(f"{path}: {dtype} {shape} array, expected {out.dtype} {out.shape}")
        view = memoryview(out.reshape(-1).view(np.uint8))
        while view:
            read = file.readinto(view)
            if not read:
                raise ValueError(f"{path}: ends {len(view)} bytes early")
            view = view[read:]


def seal_rows(path: Path, rows: np.ndarray, sealer: Sealer, context: str) -> None:
    """Write `rows` sealed, a chunk of at most SEALED_CHUNK_BYTES at a time: each chunk is
    [u64 length][sealed bytes], bound to its number and the count, so none can be dropped or reordered."""
    flat = rows.reshape(-1).view(np.uint8)
    count = max(1, math.ceil(len(flat) / SEALED_CHUNK_BYTES))
    with open(path, "wb") as file:
        for number in range(count):
            chunk = memoryview(flat[number * SEALED_CHUNK_BYTES:(number + 1) * SEALED_CHUNK_BYTES])
            sealed = sealer.seal(chunk, f"{context}:{number}/{count}")
            file.write(CHUNK_LENGTH.pack(len(sealed)))
            file.write(sealed)


def open_rows_into(path: Path, out: np.ndarray, sealer: Sealer, context: str) -> None:
    """Read rows written by seal_rows straight into `out`, one chunk in memory at a time."""
    flat = memoryview(out.reshape(-1).view(np.uint8))
    count = max(1, math.ceil(len(flat) / SEALED_CHUNK_BYTES))
    buffer = bytearray(SEALED_CHUNK_BYTES + 1024)  # one chunk's sealed bytes, read into the same buffer each time
    with open(path, "rb") as file:
        for number in range(count):
            header = file.read(CHUNK_LENGTH.size)
            if len(header) != CHUNK_LENGTH.size:
                raise ValueError(f"{path}: ends before chunk {number} of {count}")
            (length,) = CHUNK_LENGTH.unpack(header)
            if length > len(buffer):
                raise ValueError(f"{path}: chunk {number} claims {length} bytes")
            sealed = memoryview(buffer)[:length]
            if file.readinto(sealed) != length:
                raise ValueError(f"{path}: chunk {number} is cut short")
            start = number * SEALED_CHUNK_BYTES
            # Opened straight into the gallery's rows (SealError when the size is not this gallery's).
            sealer.open_into(sealed, f"{context}:{number}/{count}", flat[start:start + SEALED_CHUNK_BYTES])
        if file.read(1):
            raise ValueError(f"{path}: more data after its {count} chunk(s)")


def latest_snapshot(directory: Path) -> Path | None:
    complete = [p for p in directory.glob("snapshot-*") if p.suffix != ".tmp" and (p / "meta.json").exists()]
    return max(complete, default=None, key=lambda p: p.name)
