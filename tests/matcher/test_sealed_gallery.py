"""A gallery sealed at rest: its log and snapshots hold no template in clear, reopen only with the
key, refuse tampering, and still read what was written before the matcher had a key."""
from __future__ import annotations

import numpy as np
import pytest

from common.sealing import Sealer, SealError, add_key
from matcher import gallery as gallery_module
from matcher import synthetic
from matcher.config import GalleryConfig
from matcher.gallery import Gallery

MODEL, VERSION = "dlib-resnet-v1", "1"


@pytest.fixture
def sealer(tmp_path):
    add_key(tmp_path / "keys" / "matcher.key")
    return Sealer.from_file(tmp_path / "keys" / "matcher.key")


def vectors(count: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return synthetic.photos(rng, synthetic.population(rng, count), np.arange(count))


def create(directory, sealer, factory="IVF16,Flat", exact_until=100):
    config = GalleryConfig.checked("g", MODEL, VERSION, 128, 0, factory, exact_until)
    return Gallery.create(config, directory, background=False, sealer=sealer)


def enrol(gallery, rows, prefix="s"):
    gallery.enrol([(f"{prefix}{i}", rows[i]) for i in range(len(rows))])


def plain_bytes_on_disk(directory, rows) -> bool:
    """Whether any row's float32 bytes lie in any file of the gallery."""
    data = b"".join(path.read_bytes() for path in directory.rglob("*") if path.is_file())
    return any(np.asarray(row, dtype="<f4").tobytes() in data for row in rows)


def test_log_and_snapshot_hold_no_template_in_clear_and_reopen_with_the_key(tmp_path, sealer):
    rows = vectors(300)
    gallery = create(tmp_path / "g", sealer)
    enrol(gallery, rows[:200])
    gallery.snapshot()
    enrol(gallery, rows[200:], prefix="late")  # after the snapshot: in the log only
    gallery.close()
    assert not plain_bytes_on_disk(tmp_path / "g", rows)
    reopened = Gallery.open(tmp_path / "g", background=False, sealer=sealer)
    hits = reopened.search(rows[[5, 250]], 1)
    assert [h[0].subject_id for h in hits] == ["s5", "late50"]
    assert hits[0][0].distance < 1e-5
    reopened.close()


def test_without_the_key_a_sealed_gallery_does_not_open(tmp_path, sealer):
    gallery = create(tmp_path / "g", sealer)
    enrol(gallery, vectors(150))
    gallery.snapshot()
    gallery.close()
    with pytest.raises(SealError, match="without its key file"):
        Gallery.open(tmp_path / "g", background=False)
    add_key(tmp_path / "other.key")
    with pytest.raises(SealError):
        Gallery.open(tmp_path / "g", background=False, sealer=Sealer.from_file(tmp_path / "other.key"))


def test_a_changed_or_dropped_chunk_is_refused(tmp_path, sealer, monkeypatch):
    monkeypatch.setattr(gallery_module, "SEALED_CHUNK_BYTES", 4096)  # many chunks for 150 rows of 512 bytes
    gallery = create(tmp_path / "g", sealer)
    enrol(gallery, vectors(150))
    gallery.snapshot()
    gallery.close()
    [path] = (tmp_path / "g").glob("snapshot-*/vectors.sealed")
    original = path.read_bytes()
    damaged = bytearray(original)
    damaged[-1] ^= 1
    path.write_bytes(bytes(damaged))
    with pytest.raises(SealError):
        Gallery.open(tmp_path / "g", background=False, sealer=sealer)
    length = 8 + int.from_bytes(original[:8], "little")
    path.write_bytes(original[length:])  # the first chunk dropped: the second does not open as the first
    with pytest.raises(SealError):
        Gallery.open(tmp_path / "g", background=False, sealer=sealer)


def test_a_gallery_written_in_clear_opens_with_a_key_and_seals_from_then_on(tmp_path, sealer):
    rows = vectors(200)
    clear = create(tmp_path / "g", None)
    enrol(clear, rows[:100])
    clear.snapshot()
    clear.close()
    keyed = Gallery.open(tmp_path / "g", background=False, sealer=sealer)
    enrol(keyed, rows[100:], prefix="new")
    keyed.snapshot()
    keyed.close()
    assert not plain_bytes_on_disk(tmp_path / "g", rows)
    again = Gallery.open(tmp_path / "g", background=False, sealer=sealer)
    assert [h[0].subject_id for h in again.search(rows[[0, 150]], 1)] == ["s0", "new50"]
    again.close()


def test_a_sealed_log_seals_a_batch_in_groups_and_drops_a_torn_last_group(tmp_path, sealer):
    from matcher import wal

    path = tmp_path / "g" / "log-00000000.wal"
    path.parent.mkdir()
    log = wal.EnrolmentLog(path, sealer=sealer)
    rows = vectors(2000)  # 2000 records of ~540 bytes: more than one sealed group of 512 KB
    log.append([wal.Record(wal.ENROL, f"s{i}", rows[i]) for i in range(1500)])
    whole = path.stat().st_size
    log.append([wal.Record(wal.ENROL, f"t{i}", rows[1500 + i]) for i in range(500)])
    log.close()
    records, end = wal.replay(path, sealer)
    assert [r.subject_id for r in records] == [f"s{i}" for i in range(1500)] + [f"t{i}" for i in range(500)]
    assert np.array_equal(records[1700].vector, rows[1700])
    with open(path, "r+b") as file:  # the second append cut short by a crash, never acknowledged
        file.truncate(whole + 100)
    records, end = wal.replay(path, sealer)
    assert len(records) == 1500 and end == whole
