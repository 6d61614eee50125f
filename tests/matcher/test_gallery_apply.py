"""Gallery.apply / drop_where / live_rows: the changes a cluster member reads from the stream
(matcher.member), applied without the gallery's own log."""
from __future__ import annotations

import numpy as np

from matcher.config import GalleryConfig
from matcher.gallery import Gallery
from matcher.wal import ENROL, REMOVE


def in_memory(tmp_path, factory="", exact_until=200):
    config = GalleryConfig.checked("g", "m", "1", 8, 0, factory, exact_until)
    return Gallery(config, tmp_path / "g", background=False)  # no log: what a member uses


def test_changes_apply_in_order_and_a_replayed_removal_is_harmless(tmp_path):
    gallery = in_memory(tmp_path)
    v = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    gallery.apply([(ENROL, "a", v[0]), (ENROL, "b", v[1]), (REMOVE, "a", None), (ENROL, "a", v[2]),
                   (ENROL, "b", v[3]), (REMOVE, "zz", None)])
    assert gallery.size == 2 and gallery.stats().tombstones == 2
    assert np.array_equal(gallery.get("a"), v[2]) and np.array_equal(gallery.get("b"), v[3])
    (hits,) = gallery.search(v[2][None, :], 2)
    assert [h.subject_id for h in hits][0] == "a" and {h.subject_id for h in hits} == {"a", "b"}
    assert not (tmp_path / "g").exists()  # nothing written: the stream is the log


def test_dropped_subjects_are_gone_from_search_and_from_the_copy(tmp_path):
    gallery = in_memory(tmp_path, "IVF4,Flat", exact_until=50)
    vectors = np.random.default_rng(1).normal(size=(300, 8)).astype(np.float32)
    gallery.apply([(ENROL, f"s{i}", vectors[i]) for i in range(300)])
    assert gallery.index_kind == "IVF4,Flat"
    dropped = gallery.drop_where(lambda s: int(s[1:]) % 2 == 1)
    assert dropped == 150 and gallery.size == 150
    subjects, copy = gallery.live_rows()
    assert subjects == [f"s{i}" for i in range(0, 300, 2)]
    assert np.array_equal(copy, vectors[0::2])
    found = {h.subject_id for hits in gallery.search(vectors[1::2], 1) for h in hits}
    assert all(int(s[1:]) % 2 == 0 for s in found)


def test_dropping_in_chunks_kills_exactly_the_unwanted(tmp_path):
    """A rebalance's drop takes the write lock a chunk at a time (searches go on between): the outcome
    is the same as at once, and the chunks' count adds up."""
    gallery = in_memory(tmp_path, "IVF4,Flat", exact_until=50)
    vectors = np.random.default_rng(2).normal(size=(100, 8)).astype(np.float32)
    gallery.apply([(ENROL, f"s{i}", vectors[i]) for i in range(100)])
    assert gallery.drop_where(lambda s: int(s[1:]) % 3 == 0, chunk=7) == 34
    subjects, copy = gallery.live_rows()
    kept = [i for i in range(100) if i % 3]
    assert subjects == [f"s{i}" for i in kept] and np.array_equal(copy, vectors[kept])
    assert gallery.drop_where(lambda s: int(s[1:]) % 3 == 0, chunk=7) == 0  # nothing left to drop
