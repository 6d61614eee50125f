"""`limes bench matcher` end to end on a small gallery (the real figures come from big runs), and the
pieces that let it run at ten million templates: block-wise synthetic data and ground truth."""
import json

import faiss
import numpy as np

from limes.bench import matcher as bench
from limes.cli import main
from matcher import synthetic


def test_bench_reports_recall_latency_throughput_memory_and_start_up(capsys):
    code = main(["bench", "matcher", "--gallery", "3000", "--queries", "40", "--concurrency", "2",
                 "--index-factory", "IVF16,Flat", "--exact-until", "1000", "--wal-tail", "500", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["index_kind"] == "IVF16,Flat" and result["gallery"] == 3000
    assert result["recall_at_1_vs_exact"]["mated"] == 1.0  # 16 lists, all probed: exact
    assert result["max_distance_error_vs_exact"] < 1e-5
    # Every list probed and re-ranked exactly: the strangers' top 5 are the exact search's top 5.
    assert result["non_mated_top_k_agreement_vs_exact"] == {"k": 5, "mean": 1.0}
    assert result["exact_bruteforce_ms_per_query_batched"] > 0 and "exact_bruteforce_ms_per_query" not in result
    assert result["false_matches_at_threshold"]["count"] == 0
    assert result["grpc_concurrent"]["queries"] == 80 and result["grpc_concurrent"]["qps"] > 0
    for figures in (result["in_process_ms"], result["grpc_ms_one_client"], result["grpc_concurrent"]["ms"]):
        assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"]
    assert result["startup"] == {"s": result["startup"]["s"], "snapshot_rows": 2500, "log_records_replayed": 500}
    assert result["startup"]["s"] > 0
    memory = result["gallery_memory_mb"]
    assert memory["vectors"] == round(3000 * 512 / 2 ** 20, 1)
    assert memory["index"] >= memory["vectors"]  # IVF,Flat stores the full vector again
    assert result["gallery_memory_bytes_per_template"] > 2 * 512
    process = result["matcher_process_memory_mb"]
    assert 0 < process["rss_after_start"] <= process["peak_rss"]


def test_exact_nearest_block_by_block_is_exact_search_over_the_whole():
    rng = np.random.default_rng(12)
    vectors = synthetic.photos(rng, synthetic.population(rng, 2500), np.arange(2500))
    probes = synthetic.photos(rng, synthetic.population(rng, 50), np.arange(50))
    nearest = bench.ExactNearest(probes)
    for first in range(0, 2500, 700):
        nearest.add(vectors[first:first + 700], first)
    whole = faiss.IndexFlatL2(128)
    whole.add(vectors)
    squared, rows = whole.search(probes, 1)
    assert nearest.rows.tolist() == rows[:, 0].tolist()
    np.testing.assert_allclose(nearest.squared, squared[:, 0], rtol=1e-5)


def test_exact_top_k_block_by_block_is_exact_search_over_the_whole():
    rng = np.random.default_rng(13)
    vectors = synthetic.photos(rng, synthetic.population(rng, 2500), np.arange(2500))
    probes = synthetic.photos(rng, synthetic.population(rng, 50), np.arange(50))
    nearest = bench.ExactNearest(probes, 5)
    for first in range(0, 2500, 700):
        nearest.add(vectors[first:first + 700], first)
    whole = faiss.IndexFlatL2(128)
    whole.add(vectors)
    squared, rows = whole.search(probes, 5)
    assert nearest.top_rows.tolist() == rows.tolist()
    np.testing.assert_allclose(nearest.top_squared, squared, rtol=1e-5)
    assert nearest.rows.tolist() == rows[:, 0].tolist()


def test_top_k_agreement_is_the_share_of_the_index_top_k_in_the_exact_top_k():
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert bench.top_k_agreement([["id1", "id2", "id3", "id4"], ["id8", "id7", "id6", "id5"]], exact) == 1.0
    # Order within the top k does not count; ids outside it do: 3 of 4, then 1 of 4.
    assert bench.top_k_agreement([["id4", "id3", "id2", "id9"], ["id5", "id10", "id11", "id12"]], exact) == 0.5
    assert bench.top_k_agreement([[], ["id5", "id6", "id7", "id8"]], exact) == 0.5  # nothing found: none agree


def test_population_blocks_are_made_again_identically():
    assert synthetic.blocks(250_000) == [(0, 0, 100_000), (1, 100_000, 200_000), (2, 200_000, 250_000)]
    people = synthetic.population_block(3, 1, 500)
    again = synthetic.population_block(3, 1, 500)
    np.testing.assert_array_equal(people.centres, again.centres)
    np.testing.assert_array_equal(synthetic.enrolment_photos(3, 1, people), synthetic.enrolment_photos(3, 1, again))
    assert not np.array_equal(people.centres, synthetic.population_block(3, 2, 500).centres)


def test_mated_probes_are_second_photos_of_the_chosen_identities():
    size = 3000
    which = np.array([5, 1700, 2999])
    probes = bench.mated_probes(0, size, which)
    enrolled = synthetic.enrolment_photos(0, 0, synthetic.population_block(0, 0, size))
    distances = np.linalg.norm(enrolled[which] - probes, axis=1)
    assert (distances > 0).all() and (distances < 0.6).all()  # the same people, another photo
    np.testing.assert_array_equal(bench.mated_probes(0, size, which), probes)


def test_enrolment_batches_end_at_the_snapshot_point():
    assert bench.batches(0, 25_000, 22_000) == [(0, 10_000), (10_000, 20_000), (20_000, 22_000), (22_000, 25_000)]
    assert bench.batches(100, 600, 10_000) == [(100, 600)]


def test_default_index_grows_with_the_gallery():
    assert bench.default_factory(50_000) == "IVF1024,PQ32x4fs"
    assert bench.default_factory(1_000_000) == "IVF4096,PQ32x4fs"
    assert bench.default_factory(10_000_000) == "IVF8192,PQ32x4fs"
