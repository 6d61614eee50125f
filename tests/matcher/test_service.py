"""The gRPC service in-process on an ephemeral port: contract, status codes, health and reflection."""
import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from drivers.face_score import score
from proto.limes.v1 import common_pb2, matcher_pb2

from .conftest import MODEL, VERSION, create, template


def enrol_people(stub, enrolled, gallery="watchlist"):
    stub.EnrolBatch(matcher_pb2.EnrolBatchRequest(gallery=gallery, items=[
        matcher_pb2.EnrolRequest(subject_id=f"p{i}", template=template(v)) for i, v in enumerate(enrolled)]))


def code_of(call, *args):
    with pytest.raises(grpc.RpcError) as caught:
        call(*args)
    return caught.value.code(), caught.value.details()


def test_create_gallery_is_idempotent_and_refuses_a_different_config(stub):
    first = create(stub, threshold=0.7, index_factory="HNSW32")
    assert (first.gallery, first.size, first.threshold, first.index_kind) == ("watchlist", 0, 0.7, "exact")
    assert (first.vector_storage, first.rerank_shortlist) == ("float32", 64)  # the defaults
    assert create(stub, "wide", rerank_shortlist=256).rerank_shortlist == 256
    assert create(stub, "compact", vector_storage="float16").vector_storage == "float16"
    assert create(stub, threshold=0.7, index_factory="HNSW32") == first
    code, details = code_of(lambda: create(stub, threshold=0.8))
    assert code == grpc.StatusCode.ALREADY_EXISTS and "another configuration" in details
    create(stub, "travellers")
    listed = stub.ListGalleries(matcher_pb2.ListGalleriesRequest())
    assert [g.gallery for g in listed.galleries] == ["compact", "travellers", "watchlist", "wide"]


def test_mated_probe_finds_its_subject_with_a_calibrated_score(stub, people):
    _, enrolled, second_photos = people
    create(stub)
    enrol_people(stub, enrolled)
    reply = stub.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(second_photos[3]), top_k=3))
    assert reply.candidates[0].subject_id == "p3" and not reply.partial and reply.search_ms > 0
    best = reply.candidates[0]
    assert best.distance == pytest.approx(np.linalg.norm(enrolled[3] - second_photos[3]), rel=1e-5)
    assert best.score == pytest.approx(score(best.distance))
    assert all(c.score >= 0.5 for c in reply.candidates)  # the default threshold
    assert [c.score for c in reply.candidates] == sorted((c.score for c in reply.candidates), reverse=True)


def test_threshold_filters_candidates(stub, people):
    _, enrolled, _ = people
    create(stub)
    enrol_people(stub, enrolled)
    far = enrolled[0] + 0.3 / np.sqrt(128)  # 0.3 from p0: score ~1, everyone else far below
    strict = stub.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(far), top_k=5, threshold=1.0))
    assert list(strict.candidates) == []
    loose = stub.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(far), top_k=5, threshold=0.99))
    assert [c.subject_id for c in loose.candidates] == ["p0"]
    assert loose.candidates[0].distance == pytest.approx(0.3, rel=1e-4)


def test_enrol_replace_get_remove_verify(stub, people):
    _, enrolled, second_photos = people
    create(stub)
    request = matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="alice", template=template(enrolled[0]))
    assert stub.Enrol(request).replaced is False
    request.template.CopyFrom(template(enrolled[1]))
    assert stub.Enrol(request).replaced is True
    got = stub.Get(matcher_pb2.GetRequest(gallery="watchlist", subject_id="alice"))
    assert got.template.vector == pytest.approx(enrolled[1]) and got.template.model == MODEL

    mated = stub.Verify(matcher_pb2.VerifyRequest(gallery="watchlist", subject_id="alice",
                                                  template=template(second_photos[1])))
    other = stub.Verify(matcher_pb2.VerifyRequest(gallery="watchlist", subject_id="alice",
                                                  template=template(second_photos[0])))
    assert mated.match and mated.score > 0.5 and not other.match and other.distance > mated.distance

    stub.Remove(matcher_pb2.RemoveRequest(gallery="watchlist", subject_id="alice"))
    assert (
        code_of(stub.Get, matcher_pb2.GetRequest(gallery="watchlist", subject_id="alice"))[0]
        == grpc.StatusCode.NOT_FOUND
    )
    assert stub.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="watchlist")).size == 0


def test_search_batch_answers_each_query(stub, people):
    _, enrolled, second_photos = people
    create(stub)
    enrol_people(stub, enrolled)
    queries = [matcher_pb2.SearchRequest(gallery="watchlist", template=template(second_photos[i]), top_k=k)
               for i, k in ((5, 1), (6, 3), (7, 2))]
    reply = stub.SearchBatch(matcher_pb2.SearchBatchRequest(queries=queries))
    assert [r.candidates[0].subject_id for r in reply.results] == ["p5", "p6", "p7"]
    assert all(len(r.candidates) <= q.top_k for r, q in zip(reply.results, queries))


def bad_calls(stub):
    good = template(np.zeros(128))
    wrong_model = common_pb2.FaceTemplate(vector=[0.0] * 128, model="arcface", model_version=VERSION)
    wrong_version = common_pb2.FaceTemplate(vector=[0.0] * 128, model=MODEL, model_version="2")
    short = template(np.zeros(127))
    nan = template([float("nan")] + [0.0] * 127)
    inf = template([float("inf")] + [0.0] * 127)
    E, S = matcher_pb2.EnrolRequest, matcher_pb2.SearchRequest
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    missing = grpc.StatusCode.NOT_FOUND
    return [
        (stub.Enrol, E(gallery="watchlist", subject_id="x", template=short), invalid, "dimension 128"),
        (stub.Enrol, E(gallery="watchlist", subject_id="x", template=nan), invalid, "NaN"),
        (stub.Enrol, E(gallery="watchlist", subject_id="x", template=inf), invalid, "infinite"),
        (stub.Enrol, E(gallery="watchlist", subject_id="x", template=wrong_model), invalid, "arcface"),
        (stub.Enrol, E(gallery="watchlist", subject_id="x", template=wrong_version), invalid, "version"),
        (stub.Enrol, E(gallery="watchlist", subject_id="", template=good), invalid, "subject_id"),
        (stub.Enrol, E(gallery="nope", subject_id="x", template=good), missing, "nope"),
        (
            stub.EnrolBatch,
            matcher_pb2.EnrolBatchRequest(
                gallery="watchlist", items=[E(subject_id="ok", template=good), E(subject_id="bad", template=short)]
            ),
            invalid,
            "items[1]",
        ),
        (
            stub.EnrolBatch,
            matcher_pb2.EnrolBatchRequest(gallery="watchlist", items=[E(subject_id="a", template=good)] * 10_001),
            invalid,
            "10000",
        ),
        (
            stub.EnrolBatch,
            matcher_pb2.EnrolBatchRequest(gallery="watchlist", items=[E(subject_id="a", template=good)] * 2),
            invalid,
            "twice",
        ),
        (stub.Search, S(gallery="watchlist", template=short), invalid, "dimension"),
        (stub.Search, S(gallery="watchlist", template=good, top_k=101), invalid, "top_k"),
        (stub.Search, S(gallery="watchlist", template=good, threshold=1.5), invalid, "threshold"),
        (stub.Search, S(gallery="nope", template=good), missing, "nope"),
        (stub.SearchBatch, matcher_pb2.SearchBatchRequest(), invalid, "queries"),
        (
            stub.SearchBatch,
            matcher_pb2.SearchBatchRequest(
                queries=[S(gallery="watchlist", template=good), S(gallery="travellers", template=good)]
            ),
            invalid,
            "queries[1]",
        ),
        (
            stub.Verify,
            matcher_pb2.VerifyRequest(gallery="watchlist", subject_id="ghost", template=good),
            missing,
            "ghost",
        ),
        (stub.Remove, matcher_pb2.RemoveRequest(gallery="watchlist", subject_id="ghost"), missing, "ghost"),
        (stub.GalleryStats, matcher_pb2.GalleryStatsRequest(gallery="nope"), missing, "nope"),
        (
            stub.CreateGallery,
            matcher_pb2.CreateGalleryRequest(gallery="x", model=MODEL, dimension=0),
            invalid,
            "dimension",
        ),
        (
            stub.CreateGallery,
            matcher_pb2.CreateGalleryRequest(gallery="x", model=MODEL, dimension=128, index_factory="HNSWx"),
            invalid,
            "index_factory",
        ),
        (
            stub.CreateGallery,
            matcher_pb2.CreateGalleryRequest(gallery="x", model=MODEL, dimension=128, vector_storage="int8"),
            invalid,
            "vector_storage",
        ),
    ]


def test_malformed_requests_get_the_right_status_and_change_nothing(stub):
    create(stub)
    for call, request, expected, words in bad_calls(stub):
        code, details = code_of(call, request)
        assert (code, words in details) == (expected, True), (details, request.__class__.__name__)
    assert stub.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="watchlist")).size == 0  # batch: all or nothing


def test_health_serving_and_reflection_lists_the_service(server):
    _, _, channel = server
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "limes.v1.Matcher"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = list(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in answers[0].list_services_response.service}
    assert "limes.v1.Matcher" in names


def test_prometheus_metrics_count_searches_and_gallery_sizes(tmp_path, people, dev_pki):
    import urllib.request

    from matcher.server import serve
    from proto.limes.v1 import matcher_pb2_grpc
    from proto.tls import open_channel
    server, port = serve("127.0.0.1:0", tmp_path / "data", tls=dev_pki.server(), metrics_port=0, background=False,
                         administrators=("tester",))
    try:
        with open_channel(f"127.0.0.1:{port}", dev_pki.user("tester")) as channel:
            stub = matcher_pb2_grpc.MatcherStub(channel)
            create(stub, "metered")
            _, enrolled, second_photos = people
            enrol_people(stub, enrolled[:10], "metered")
            stub.Search(matcher_pb2.SearchRequest(gallery="metered", template=template(second_photos[0])))
        url = f"http://127.0.0.1:{server.metrics_http.server_port}/metrics"
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        assert 'limes_matcher_gallery_size{gallery="metered"} 10.0' in text
        assert 'limes_matcher_searches_total{gallery="metered"} 1.0' in text
        assert 'limes_matcher_search_seconds_count{gallery="metered"} 1.0' in text
    finally:
        server.metrics_http.shutdown()
        server.stop(0).wait()
        server.registry.close()
