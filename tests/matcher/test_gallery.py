"""Gallery behaviour straight on the Gallery class: index kinds, changes, durability across reopen."""
import faiss
import numpy as np
import pytest

from matcher import synthetic
from matcher.config import GalleryConfig
from matcher.errors import InvalidArgument, NotFound
from matcher.gallery import Gallery, read_rows_into

MODEL, VERSION = "dlib-resnet-v1", "1"


def make(tmp_path, factory="", exact_until=200, **options):
    config = GalleryConfig.checked("g", MODEL, VERSION, 128, 0, factory, exact_until)
    return Gallery.create(config, tmp_path / "g", background=False, **options)


def enrol_all(gallery, vectors, prefix="s", start=0):
    for first in range(0, len(vectors), 500):
        gallery.enrol([(f"{prefix}{start + i}", vectors[i]) for i in range(first, min(first + 500, len(vectors)))])


def brute_force(vectors, queries, k):
    index = faiss.IndexFlatL2(vectors.shape[1])
    index.add(vectors)
    squared, rows = index.search(queries, k)
    return np.sqrt(np.maximum(squared, 0)), rows


# Strangers' nearest enrolled template is ~0.65 away with dozens of others close behind; a
# shortlist from 16-byte PQ codes (32 x 4 bits) orders those roughly (harmless: all are far below threshold).
@pytest.mark.parametrize("factory,strangers_top1", [("", 1.0), ("HNSW32", 0.9), ("IVF16,Flat", 0.9),
                                                    ("IVF16,SQ8", 0.9), ("IVF16,PQ32x4fs", 0.6)])
def test_every_index_kind_finds_what_exact_search_finds(tmp_path, factory, strangers_top1):
    size = 3000
    rng = np.random.default_rng(1)
    people = synthetic.population(rng, size)
    enrolled = synthetic.photos(rng, people, np.arange(size))
    gallery = make(tmp_path, factory)
    enrol_all(gallery, enrolled)
    assert gallery.stats().index_kind == (factory or "exact")

    mated = synthetic.photos(rng, people, np.arange(0, size, size // 200))
    strangers = synthetic.photos(rng, synthetic.population(rng, 200), np.arange(200))
    for probes, wanted in ((mated, 1.0 if not factory else 0.99), (strangers, strangers_top1)):
        found = gallery.search(probes, 5)
        distances, rows = brute_force(enrolled, probes, 5)
        same_top1 = np.mean([f[0].subject_id == f"s{r[0]}" for f, r in zip(found, rows)])
        assert same_top1 >= wanted
        for query, hits, exact in zip(probes, found, distances):
            returned = [h.distance for h in hits]
            assert returned == sorted(returned) and returned[0] >= exact[0] - 1e-5
            # re-ranked on the stored full vectors: the distances are exact, whatever the index
            true = [np.linalg.norm(enrolled[int(h.subject_id[1:])] - query) for h in hits]
            np.testing.assert_allclose(returned, true, rtol=1e-4, atol=1e-5)


def test_a_longer_rerank_shortlist_recovers_what_coarse_codes_misorder(tmp_path):
    # Every list probed, so only the 8-byte codes' ordering of the shortlist can miss a neighbour.
    # Strangers are the hard case: dozens of enrolled templates lie about as far as their nearest.
    size = 3000
    rng = np.random.default_rng(5)
    enrolled = synthetic.photos(rng, synthetic.population(rng, size), np.arange(size))
    strangers = synthetic.photos(rng, synthetic.population(rng, 200), np.arange(200))
    _, exact_rows = brute_force(enrolled, strangers, 1)
    agreement = {}
    for shortlist in (4, 1024):
        config = GalleryConfig.checked("g", MODEL, VERSION, 128, 0, "IVF16,PQ16x4fs", 1000, search_breadth=16,
                                       rerank_shortlist=shortlist)
        gallery = Gallery.create(config, tmp_path / f"g{shortlist}", background=False)
        enrol_all(gallery, enrolled)
        assert gallery.stats().index_kind == "IVF16,PQ16x4fs"
        found = gallery.search(strangers, 1)
        agreement[shortlist] = np.mean([f[0].subject_id == f"s{r[0]}" for f, r in zip(found, exact_rows)])
    assert agreement[1024] >= 0.9 > 0.5 > agreement[4]


@pytest.mark.parametrize("factory", ["", "HNSW32", "IVF8,Flat"])
def test_removed_and_replaced_templates_never_come_back(tmp_path, factory):
    rng = np.random.default_rng(2)
    vectors = synthetic.photos(rng, synthetic.population(rng, 1000), np.arange(1000))
    gallery = make(tmp_path, factory, rebuild_tombstones=10**9)  # keep every tombstone in the index
    enrol_all(gallery, vectors)
    for i in range(0, 100):
        gallery.remove(f"s{i}")
    assert gallery.enrol([("s100", vectors[200])]) == [True]  # s100 now looks like s200
    assert gallery.stats().tombstones == 101 and gallery.size == 900

    hits = gallery.search(vectors[:100], 3)
    assert all(h.subject_id not in {f"s{i}" for i in range(100)} for found in hits for h in found)
    (found,) = gallery.search(vectors[100:101], 1)
    assert found[0].subject_id != "s100" or found[0].distance > 0
    (found,) = gallery.search(vectors[200:201], 5)
    assert {h.subject_id for h in found[:2]} == {"s100", "s200"} and found[1].distance < 1e-5
    np.testing.assert_array_equal(gallery.get("s100"), vectors[200])
    with pytest.raises(NotFound):
        gallery.get("s5")
    with pytest.raises(NotFound):
        gallery.remove("s5")


def test_tombstones_trigger_a_rebuild_that_drops_them(tmp_path):
    rng = np.random.default_rng(3)
    vectors = synthetic.photos(rng, synthetic.population(rng, 600), np.arange(600))
    gallery = make(tmp_path, "HNSW32", rebuild_tombstones=50)
    enrol_all(gallery, vectors)
    for i in range(200):
        gallery.remove(f"s{i}")
    assert gallery.stats().tombstones <= 100  # rebuilt once the tombstones passed a quarter of the live rows
    assert [h[0].subject_id for h in gallery.search(vectors[200:210], 1)] == [f"s{i}" for i in range(200, 210)]


def test_shrinking_gallery_goes_back_to_exact(tmp_path):
    rng = np.random.default_rng(4)
    vectors = synthetic.photos(rng, synthetic.population(rng, 1200), np.arange(1200))
    gallery = make(tmp_path, "HNSW16", exact_until=1000)
    enrol_all(gallery, vectors)
    assert gallery.stats().index_kind == "HNSW16"
    for i in range(800):
        gallery.remove(f"s{i}")
    assert gallery.stats() .index_kind == "exact"
    assert gallery.search(vectors[900:901], 1)[0][0].subject_id == "s900"


@pytest.mark.parametrize("factory", ["", "HNSW16"])
def test_reopened_gallery_is_the_same_with_and_without_snapshot(tmp_path, factory):
    rng = np.random.default_rng(5)
    vectors = synthetic.photos(rng, synthetic.population(rng, 1500), np.arange(1500))
    gallery = make(tmp_path, factory, snapshot_every=700)
    enrol_all(gallery, vectors[:1000])
    gallery.remove("s3")
    gallery.enrol([("s4", vectors[1400])])
    enrol_all(gallery, vectors[1000:1200], start=1000)  # after the snapshot: only in the log
    before = gallery.search(vectors[:50], 3)
    stats = gallery.stats()
    gallery.close()
    assert any(p.name.startswith("snapshot-") for p in (tmp_path / "g").iterdir())

    again = Gallery.open(tmp_path / "g", background=False)
    assert again.search(vectors[:50], 3) == before
    assert again.stats() == stats and again.size == 1199
    np.testing.assert_array_equal(again.get("s4"), vectors[1400])
    again.enrol([("late", vectors[1499])])
    again.close()
    assert Gallery.open(tmp_path / "g", background=False).get("late").tolist() == vectors[1499].tolist()


def test_background_rebuild_keeps_enrolments_made_meanwhile(tmp_path):
    rng = np.random.default_rng(6)
    vectors = synthetic.photos(rng, synthetic.population(rng, 3000), np.arange(3000))
    config = GalleryConfig.checked("g", MODEL, VERSION, 128, 0, "IVF8,Flat", 1000)
    gallery = Gallery.create(config, tmp_path / "g", background=True)
    enrol_all(gallery, vectors[:1500])  # crosses exact_until: a rebuild starts in the background
    for i in range(1500, 3000, 10):  # small batches, each fsync'd: the rebuild runs meanwhile
        gallery.enrol([(f"s{j}", vectors[j]) for j in range(i, i + 10)])
    gallery.wait_for_maintenance()
    assert gallery.stats().index_kind == "IVF8,Flat"
    probes = np.arange(0, 3000, 37)
    assert [h[0].subject_id for h in gallery.search(vectors[probes], 1)] == [f"s{i}" for i in probes]


def test_template_checks_name_the_field(tmp_path):
    gallery = make(tmp_path)
    with pytest.raises(InvalidArgument, match="model"):
        gallery.check_template("other-model", VERSION, [0.0] * 128)
    with pytest.raises(InvalidArgument, match="model"):
        gallery.check_template(MODEL, "2", [0.0] * 128)
    with pytest.raises(InvalidArgument, match="127 values"):
        gallery.check_template(MODEL, VERSION, [0.0] * 127)
    with pytest.raises(InvalidArgument, match="NaN or infinite"):
        gallery.check_template(MODEL, VERSION, [float("nan")] + [0.0] * 127)
    with pytest.raises(InvalidArgument, match="NaN or infinite"):
        gallery.check_template(MODEL, VERSION, [1e39] + [0.0] * 127)  # overflows float32
    with pytest.raises(InvalidArgument, match="subject_id"):
        gallery.enrol([("", np.zeros(128, np.float32))])
    assert gallery.size == 0


@pytest.mark.parametrize("bad", [dict(name="../etc"), dict(dimension=0), dict(threshold=1.5),
                                 dict(threshold=float("nan")), dict(index_factory="IVFbogus"),
                                 dict(index_factory="IDMap,Flat"), dict(model=""), dict(rerank_shortlist=-1),
                                 dict(rerank_shortlist=5000)])
def test_bad_gallery_configs_are_refused(bad):
    fields = dict(name="g", model=MODEL, model_version=VERSION, dimension=128)
    fields.update(bad)
    with pytest.raises(InvalidArgument):
        GalleryConfig.checked(**fields)


def test_searches_run_while_enrolments_and_a_rebuild_go_on(tmp_path):
    import threading
    rng = np.random.default_rng(8)
    vectors = synthetic.photos(rng, synthetic.population(rng, 2000), np.arange(2000))
    config = GalleryConfig.checked("g", MODEL, VERSION, 128, 0, "IVF8,Flat", 500)
    gallery = Gallery.create(config, tmp_path / "g", background=True)
    gallery.enrol([(f"s{i}", vectors[i]) for i in range(100)])
    failures, done = [], threading.Event()

    def search_enrolled():
        while not done.is_set():
            for found in gallery.search(vectors[:100:9], 1):  # enrolled before the threads started
                if not found or found[0].distance > 1e-5:
                    failures.append(found)

    searchers = [threading.Thread(target=search_enrolled) for _ in range(3)]
    for thread in searchers:
        thread.start()
    for i in range(100, 2000, 50):
        gallery.enrol([(f"s{j}", vectors[j]) for j in range(i, i + 50)])
    done.set()
    for thread in searchers:
        thread.join()
    gallery.wait_for_maintenance()
    assert failures == [] and gallery.size == 2000 and gallery.stats().index_kind == "IVF8,Flat"


@pytest.mark.parametrize("factory", ["", "IVF16,PQ32x4fs"])
def test_float16_storage_finds_the_same_subjects_at_half_the_memory(tmp_path, factory):
    rng = np.random.default_rng(8)
    people = synthetic.population(rng, 2000)
    vectors = synthetic.photos(rng, people, np.arange(2000))
    probes = synthetic.photos(rng, people, np.arange(0, 2000, 20))
    found = {}
    for storage in ("float32", "float16"):
        config = GalleryConfig.checked("g", MODEL, VERSION, 128, 0, factory, 1000, vector_storage=storage)
        gallery = Gallery.create(config, tmp_path / storage, background=False)
        enrol_all(gallery, vectors)
        assert gallery.stats().index_kind == (factory or "exact")
        found[storage] = gallery.search(probes, 3)
        assert gallery.memory_bytes()["vectors"] == 2000 * 128 * np.dtype(storage).itemsize
        if storage == "float16":  # Get gives the template as kept: rounded to float16
            np.testing.assert_array_equal(gallery.get("s7"), vectors[7].astype(np.float16).astype(np.float32))
        gallery.close()
    # The mate comes first either way; behind it, PQ shortlists of far neighbours differ a little
    # (the index was trained on the rounded rows), so only exact search keeps all three the same.
    kept = 3 if not factory else 1
    for exact, compact in zip(found["float32"], found["float16"]):
        assert [h.subject_id for h in compact[:kept]] == [h.subject_id for h in exact[:kept]]
        np.testing.assert_allclose([h.distance for h in compact[:kept]], [h.distance for h in exact[:kept]],
                                   atol=1e-4)


def test_float16_gallery_reopens_from_snapshot_and_log_and_rebuilds(tmp_path):
    rng = np.random.default_rng(9)
    vectors = synthetic.photos(rng, synthetic.population(rng, 1600), np.arange(1600))
    config = GalleryConfig.checked("g", MODEL, VERSION, 128, 0, "IVF8,Flat", 1000, vector_storage="float16")
    gallery = Gallery.create(config, tmp_path / "g", background=False, snapshot_every=1000)
    enrol_all(gallery, vectors[:1500])  # the switch to IVF, built from the float16 rows; a snapshot at 1000
    before = gallery.search(vectors[::50], 2)
    gallery.close()
    assert np.load(next((tmp_path / "g").glob("snapshot-*")) / "vectors.npy").dtype == np.float16

    again = Gallery.open(tmp_path / "g", background=False, rebuild_tombstones=50)
    assert again.stats().index_kind == "IVF8,Flat" and again.size == 1500
    assert again.search(vectors[::50], 2) == before
    for i in range(400):  # enough tombstones for a rebuild from the float16 rows
        again.remove(f"s{i}")
    assert again.stats().tombstones < 400
    assert [h[0].subject_id for h in again.search(vectors[400:1500:37], 1)] == [f"s{i}" for i in range(400, 1500, 37)]


def test_memory_bytes_counts_vectors_index_and_ids(tmp_path):
    rng = np.random.default_rng(10)
    vectors = synthetic.photos(rng, synthetic.population(rng, 500), np.arange(500))
    gallery = make(tmp_path)
    empty = gallery.memory_bytes()
    enrol_all(gallery, vectors)
    memory = gallery.memory_bytes()
    assert memory["vectors"] == 500 * 512
    assert memory["index"] >= 500 * 512  # the exact index holds its own copy of every vector
    assert memory["ids"] - empty["ids"] > 500 * 50  # an id string and a row number per subject, both ways
    assert memory["total"] == memory["vectors"] + memory["index"] + memory["ids"]


def test_snapshot_rows_are_read_into_place_and_a_damaged_file_is_refused(tmp_path):
    rows = np.arange(12, dtype=np.float16).reshape(3, 4)
    np.save(tmp_path / "vectors.npy", rows)
    into = np.zeros((5, 4), np.float16)
    read_rows_into(tmp_path / "vectors.npy", into[:3])
    np.testing.assert_array_equal(into[:3], rows)
    with pytest.raises(ValueError, match="expected float32"):
        read_rows_into(tmp_path / "vectors.npy", np.zeros((3, 4), np.float32))
    data = (tmp_path / "vectors.npy").read_bytes()
    (tmp_path / "vectors.npy").write_bytes(data[:-5])
    with pytest.raises(ValueError, match="5 bytes early"):
        read_rows_into(tmp_path / "vectors.npy", into[:3])
