"""Random sequences of enrol / re-enrol / remove against a plain dict, including across a reopen."""
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from matcher.config import GalleryConfig
from matcher.gallery import Gallery

DIMENSION = 8
SUBJECTS = [f"s{i}" for i in range(100)]

operation = st.one_of(
    st.tuples(st.just("enrol"), st.lists(st.tuples(st.sampled_from(SUBJECTS), st.integers(0, 10**6)),
                                          min_size=1, max_size=30, unique_by=lambda item: item[0])),
    st.tuples(st.just("remove"), st.sampled_from(SUBJECTS)),
    st.tuples(st.just("snapshot"), st.none()),
)


def vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=DIMENSION).astype(np.float32)


def check_same(gallery: Gallery, expected: dict[str, np.ndarray]) -> None:
    assert gallery.size == len(expected)
    for subject, wanted in expected.items():
        np.testing.assert_array_equal(gallery.get(subject), wanted)
    if not expected:
        return
    names = list(expected)
    stacked = np.stack([expected[n] for n in names])
    probes = np.stack([vector(seed) for seed in range(5)])
    for probe, hits in zip(probes, gallery.search(probes, 3)):
        distances = np.linalg.norm(stacked - probe, axis=1)
        np.testing.assert_allclose([h.distance for h in hits], np.sort(distances)[:3], rtol=1e-5)
        assert all(h.subject_id in expected for h in hits)


# "IVF2,Flat" probes both its lists (nprobe >= 16), so it must agree exactly with the dict too.
@settings(max_examples=25, deadline=None)
@given(operations=st.lists(operation, max_size=40), factory=st.sampled_from(["", "IVF2,Flat"]))
def test_gallery_agrees_with_a_dict_before_and_after_reopen(operations, factory):
    with tempfile.TemporaryDirectory() as tmp:
        config = GalleryConfig.checked("g", "m", "1", DIMENSION, 0, factory, 20)
        gallery = Gallery.create(config, Path(tmp) / "g", background=False, rebuild_tombstones=5)
        # Start above the IVF's switch point (39 x 2 lists) so the operations run on it.
        expected = {s: vector(10**7 + i) for i, s in enumerate(SUBJECTS[:90])}
        gallery.enrol(list(expected.items()))
        for kind, argument in operations:
            if kind == "enrol":
                replaced = gallery.enrol([(s, vector(seed)) for s, seed in argument])
                assert replaced == [s in expected for s, _ in argument]
                expected.update({s: vector(seed) for s, seed in argument})
            elif kind == "remove" and argument in expected:
                gallery.remove(argument)
                del expected[argument]
            elif kind == "snapshot":
                gallery.snapshot()
        check_same(gallery, expected)
        event(f"index {gallery.index_kind}")
        gallery.close()
        reopened = Gallery.open(Path(tmp) / "g", background=False)
        check_same(reopened, expected)
        reopened.close()
