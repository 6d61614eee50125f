"""`limes bench matcher` end to end on a small gallery (the real figures come from big runs)."""
import json

from limes.cli import main


def test_bench_reports_recall_latency_and_throughput(capsys):
    code = main(["bench", "matcher", "--gallery", "3000", "--queries", "40", "--concurrency", "2",
                 "--index-factory", "IVF16,Flat", "--exact-until", "1000", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["index_kind"] == "IVF16,Flat" and result["gallery"] == 3000
    assert result["recall_at_1_vs_exact"]["mated"] == 1.0  # 16 lists, all probed: exact
    assert result["false_matches_at_threshold"]["count"] == 0
    assert result["grpc_concurrent"]["queries"] == 80 and result["grpc_concurrent"]["qps"] > 0
    for figures in (result["in_process_ms"], result["grpc_ms_one_client"], result["grpc_concurrent"]["ms"]):
        assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"]
    assert result["index_bytes_per_template"] > 4 * 128  # IVF,Flat stores the full vector
