"""The append-only enrolment log: what makes an acknowledged enrolment survive kill -9.

Each record is framed as

    length  u32 little-endian   bytes of the payload
    crc     u32 little-endian   CRC-32 of the payload
    payload op u8 ('E' enrol, 'R' remove), id length u16, id (UTF-8),
            and for 'E' the vector as float32 little-endian

`append` writes a whole batch and fsyncs before returning, so a caller that
acknowledges after it never acknowledges what a crash can take back. A crash
mid-write leaves a torn last record: `replay` ignores it and the log is cut back
to the last whole record before anything is appended again. A bad record with
whole records after it is not a torn write but damage, and stops start-up.

Given a `Sealer` (common.sealing), the records of one append are framed as above, then sealed
together as the payload of one frame (AES-256-GCM under the matcher's key file, bound to its
gallery's log): the templates are biometric data, and one seal per batch rather than per record
keeps the cost to a few percent. Logs written before the matcher had a key replay as they are.
"""
from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from common.sealing import Sealer, SealError, is_sealed

HEADER = struct.Struct("<II")
ID_LENGTH = struct.Struct("<H")
ENROL = ord("E")
REMOVE = ord("R")
MAX_RECORD = 1 << 20  # far above any real record or sealed group: a larger length is damage, not data
SEALED_FRAME_BYTES = 512 << 10  # records sealed together, at most (plus the seal's few dozen bytes)


class LogCorruptError(Exception):
    """A damaged record in the middle of a log (not a torn tail)."""


@dataclass(frozen=True)
class Record:
    op: int  # ENROL or REMOVE
    subject_id: str
    vector: np.ndarray | None = None  # float32, for ENROL


def log_context(path: Path) -> str:
    # The gallery's own log: a sealed record copied into another gallery's log does not open there.
    return f"matcher:{path.parent.name}:log"


def encode(record: Record) -> bytes:
    subject = record.subject_id.encode("utf-8")
    payload = bytes([record.op]) + ID_LENGTH.pack(len(subject)) + subject
    if record.op == ENROL:
        payload += np.asarray(record.vector, dtype="<f4").tobytes()
    return frame(payload)


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def encode_batch(records: list[Record], sealer: Sealer | None = None, context: str = "") -> bytes:
    """The frames of one append: each record's own, or with a sealer one sealed frame per group of
    records of at most SEALED_FRAME_BYTES (so that a frame stays below MAX_RECORD)."""
    plain = [encode(record) for record in records]
    if sealer is None:
        return b"".join(plain)
    frames, group, size = [], [], 0
    for framed in plain:
        if group and size + len(framed) > SEALED_FRAME_BYTES:
            frames.append(frame(sealer.seal(b"".join(group), context)))
            group, size = [], 0
        group.append(framed)
        size += len(framed)
    if group:
        frames.append(frame(sealer.seal(b"".join(group), context)))
    return b"".join(frames)


def decode_frame(payload: bytes, sealer: Sealer | None = None, context: str = "") -> list[Record]:
    """The records of one frame's payload: one plain record, or a sealed group of framed records."""
    if not is_sealed(payload):  # a plain payload starts with its op, 'E' or 'R', never the seal's magic
        return [decode_payload(payload)]
    if sealer is None:
        raise SealError("the log's records are sealed and the matcher was started without its key file")
    inner, offset, records = sealer.open(payload, context), 0, []
    while offset < len(inner):  # sealed whole, so every inner frame is whole: any damage is a bug, not a tear
        length, crc = HEADER.unpack_from(inner, offset)
        body = inner[offset + HEADER.size:offset + HEADER.size + length]
        if len(body) != length or zlib.crc32(body) != crc:
            raise LogCorruptError(f"a sealed group's record at byte {offset} is damaged")
        records.append(decode_payload(body))
        offset += HEADER.size + length
    return records


def decode_payload(payload: bytes) -> Record:
    op = payload[0]
    (id_length,) = ID_LENGTH.unpack_from(payload, 1)
    start = 1 + ID_LENGTH.size
    subject_id = payload[start:start + id_length].decode("utf-8")
    if op == ENROL:
        vector = np.frombuffer(payload, dtype="<f4", offset=start + id_length).astype(np.float32)
        return Record(ENROL, subject_id, vector)
    if op == REMOVE:
        return Record(REMOVE, subject_id)
    raise ValueError(f"unknown log op {op!r}")


def replay(path: Path, sealer: Sealer | None = None) -> tuple[list[Record], int]:
    """The whole records of a log and the offset where they end (the rest is a torn tail)."""
    data = path.read_bytes()
    records: list[Record] = []
    offset = 0
    while offset < len(data):
        if offset + HEADER.size > len(data):
            break  # torn header
        length, crc = HEADER.unpack_from(data, offset)
        end = offset + HEADER.size + length
        if end > len(data):
            break  # torn payload
        payload = data[offset + HEADER.size:end]
        if length > MAX_RECORD or length == 0 or zlib.crc32(payload) != crc:
            if end >= len(data):
                break  # the last record, half on disk: a torn write
            raise LogCorruptError(f"{path}: bad record at byte {offset} with {len(data) - end} bytes after it")
        records.extend(decode_frame(payload, sealer, log_context(path)))
        offset = end
    return records, offset


class EnrolmentLog:
    """One open log file, appended to with fsync."""

    def __init__(self, path: Path, valid_end: int | None = None, sealer: Sealer | None = None):
        self.path = path
        self.sealer = sealer
        self._file = open(path, "ab", buffering=0)  # unbuffered: a failed write leaves nothing behind in Python
        if valid_end is not None and self._file.tell() > valid_end:
            self._file.truncate(valid_end)  # drop a torn tail before appending after it
            os.fsync(self._file.fileno())
        fsync_directory(path.parent)  # the file's own name must survive a crash too

    def append(self, records: list[Record]) -> None:
        start = self._file.tell()
        try:
            data = memoryview(encode_batch(records, self.sealer, log_context(self.path)))
            while data:
                data = data[self._file.write(data):]
            os.fsync(self._file.fileno())
        except OSError:
            # Not acknowledged, so it must not come back at replay either (disk full, I/O error).
            self._file.truncate(start)
            raise

    def close(self) -> None:
        self._file.close()


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def iter_logs(directory: Path) -> Iterator[tuple[int, Path]]:
    """The log files of a gallery as (sequence, path), oldest first."""
    found = []
    for path in directory.glob("log-*.wal"):
        try:
            found.append((int(path.stem.removeprefix("log-")), path))
        except ValueError:
            continue  # not one of ours
    yield from sorted(found)


def log_path(directory: Path, sequence: int) -> Path:
    return directory / f"log-{sequence:08d}.wal"
