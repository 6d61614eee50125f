"""matcher.index.build: training on a sample, adding a block at a time, from float16 rows too."""
import numpy as np
import pytest

from matcher import index as indexes
from matcher import synthetic


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_build_adds_the_chosen_rows_block_by_block(monkeypatch, dtype):
    monkeypatch.setattr(indexes, "ADD_BLOCK", 100)  # several blocks
    rng = np.random.default_rng(11)
    vectors = synthetic.photos(rng, synthetic.population(rng, 1000), np.arange(1000)).astype(dtype)
    rows = np.arange(0, 1000, 3)  # every third row is live
    index = indexes.build("IVF4,Flat", 128, vectors, rows)
    assert index.ntotal == len(rows)
    _, found = index.search(vectors[rows[::10]].astype(np.float32), 1, params=indexes.search_parameters(
        index, 4, 1, None))
    assert found[:, 0].tolist() == rows[::10].tolist()


def test_default_breadth_probes_about_sqrt_of_the_lists():
    assert [indexes.default_nprobe(n) for n in (8, 64, 1024, 4096, 8192)] == [8, 64, 256, 512, 724]
    vectors = np.random.default_rng(13).normal(size=(2500, 128)).astype(np.float32)
    index = indexes.build("IVF64,Flat", 128, vectors, np.arange(2500))
    assert indexes.search_parameters(index, 0, 64, None).nprobe == 64
    assert indexes.search_parameters(index, 10, 64, None).nprobe == 10
