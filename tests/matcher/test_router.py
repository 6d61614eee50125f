"""The router over three in-process shard servers: same answers as one server, and partial when a shard is down."""
import time

import grpc
import numpy as np
import pytest

from matcher.router import Router, shard_of
from matcher.server import serve, start
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import open_channel

from .conftest import create, template


@pytest.fixture
def cluster(tmp_path, dev_pki):
    tls = dev_pki.server()  # the router presents the services' certificate to the shards
    shards = [serve("127.0.0.1:0", tmp_path / f"shard{i}", tls=tls, background=False) for i in range(3)]
    addresses = [f"127.0.0.1:{port}" for _, port in shards]
    router = Router(addresses, timeout=2.0, tls=tls)
    server, port = start(router, "127.0.0.1:0", tls=tls, administrators=("tester",))
    channel = open_channel(f"127.0.0.1:{port}", dev_pki.user("tester"))
    yield matcher_pb2_grpc.MatcherStub(channel), shards, addresses
    channel.close()
    server.stop(0).wait()
    router.close()
    for shard, _ in shards:
        shard.stop(0).wait()
        shard.registry.close()


def enrol(stub, enrolled):
    stub.EnrolBatch(matcher_pb2.EnrolBatchRequest(gallery="watchlist", items=[
        matcher_pb2.EnrolRequest(subject_id=f"p{i}", template=template(v)) for i, v in enumerate(enrolled)]))


def test_subjects_spread_over_shards_and_search_merges_exactly(cluster, people):
    stub, shards, _ = cluster
    _, enrolled, second_photos = people
    create(stub)
    enrol(stub, enrolled)
    sizes = [shard.registry.get("watchlist").size for shard, _ in shards]
    assert sum(sizes) == len(enrolled) and min(sizes) > len(enrolled) / 6  # a fair spread
    assert stub.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="watchlist")).size == len(enrolled)

    for i in (0, 17, 123, 399):
        reply = stub.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(second_photos[i]),
                                                      top_k=5, threshold=1e-9))  # up to distance ~1.6: all five
        distances = np.linalg.norm(enrolled - second_photos[i], axis=1)
        expected = [f"p{j}" for j in np.argsort(distances)[:5]]
        assert [c.subject_id for c in reply.candidates] == expected and not reply.partial
    got = stub.Get(matcher_pb2.GetRequest(gallery="watchlist", subject_id="p42"))
    assert got.template.vector == pytest.approx(enrolled[42])
    assert stub.Verify(matcher_pb2.VerifyRequest(gallery="watchlist", subject_id="p42",
                                                 template=template(second_photos[42]))).match


def test_a_stopped_shard_makes_searches_partial_never_silently_short(cluster, people):
    stub, shards, addresses = cluster
    _, enrolled, second_photos = people
    create(stub)
    enrol(stub, enrolled)
    shards[1][0].stop(0).wait()

    on_stopped = next(i for i in range(len(enrolled)) if shard_of(f"p{i}", 3) == 1)
    on_running = next(i for i in range(len(enrolled)) if shard_of(f"p{i}", 3) == 0)
    lost = stub.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(second_photos[on_stopped])))
    assert lost.partial and list(lost.missing_shards) == [addresses[1]]
    assert all(c.subject_id != f"p{on_stopped}" for c in lost.candidates)
    found = stub.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(second_photos[on_running])))
    assert found.partial and found.candidates[0].subject_id == f"p{on_running}"

    batch = stub.SearchBatch(matcher_pb2.SearchBatchRequest(queries=[
        matcher_pb2.SearchRequest(gallery="watchlist", template=template(second_photos[on_running]))]))
    assert batch.results[0].partial and list(batch.results[0].missing_shards) == [addresses[1]]
    stats = stub.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="watchlist"))
    assert list(stats.missing_shards) == [addresses[1]]

    with pytest.raises(grpc.RpcError) as caught:
        stub.Enrol(matcher_pb2.EnrolRequest(gallery="watchlist", subject_id=f"p{on_stopped}",
                                            template=template(enrolled[0])))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE and addresses[1] in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        create(stub, "travellers")
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_router_passes_refusals_through(cluster):
    stub, _, _ = cluster
    create(stub)
    bad = template(np.zeros(127))
    for call, request, code in [
        (stub.Search, matcher_pb2.SearchRequest(gallery="watchlist", template=bad), grpc.StatusCode.INVALID_ARGUMENT),
        (stub.Search, matcher_pb2.SearchRequest(gallery="nope", template=bad), grpc.StatusCode.NOT_FOUND),
        (stub.Enrol, matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="x", template=bad),
         grpc.StatusCode.INVALID_ARGUMENT),
        (stub.Enrol, matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="", template=bad),
         grpc.StatusCode.INVALID_ARGUMENT),
        (stub.EnrolBatch, matcher_pb2.EnrolBatchRequest(gallery="watchlist", items=[
            matcher_pb2.EnrolRequest(subject_id="ok", template=template(np.zeros(128))),
            matcher_pb2.EnrolRequest(subject_id="x", template=bad)]), grpc.StatusCode.INVALID_ARGUMENT),
        (stub.EnrolBatch, matcher_pb2.EnrolBatchRequest(gallery="watchlist", items=[
            matcher_pb2.EnrolRequest(subject_id=f"s{i}", template=template(np.zeros(128))) for i in range(10_001)]),
         grpc.StatusCode.INVALID_ARGUMENT),
        (stub.Get, matcher_pb2.GetRequest(gallery="watchlist", subject_id="ghost"), grpc.StatusCode.NOT_FOUND),
    ]:
        with pytest.raises(grpc.RpcError) as caught:
            call(request)
        assert caught.value.code() == code, caught.value.details()
    assert stub.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="watchlist")).size == 0


class SlowShard(matcher_pb2_grpc.MatcherServicer):
    """A shard that answers searches only after the router has stopped waiting."""

    def Search(self, request, context):
        time.sleep(2)
        return matcher_pb2.SearchResponse()


@pytest.mark.parametrize("router_timeout,caller_timeout", [(0.3, None), (10.0, 0.6)])
def test_a_slow_shard_is_cut_off_at_the_deadline_and_reported(tmp_path, people, router_timeout, caller_timeout,
                                                              dev_pki):
    _, enrolled, second_photos = people
    tls, tester = dev_pki.server(), dev_pki.user("tester")
    fast, fast_port = serve("127.0.0.1:0", tmp_path / "fast", tls=tls, background=False, administrators=("tester",))
    slow, slow_port = start(SlowShard(), "127.0.0.1:0", tls=tls)
    addresses = [f"127.0.0.1:{fast_port}", f"127.0.0.1:{slow_port}"]
    router = Router(addresses, timeout=router_timeout, tls=tls)
    server, port = start(router, "127.0.0.1:0", tls=tls, administrators=("tester",))
    try:
        with open_channel(addresses[0], tester) as channel:
            shard = matcher_pb2_grpc.MatcherStub(channel)
            create(shard)
            enrol(shard, enrolled[:50])
        with open_channel(f"127.0.0.1:{port}", tester) as channel:
            stub = matcher_pb2_grpc.MatcherStub(channel)
            began = time.monotonic()
            reply = stub.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(second_photos[7])),
                                timeout=caller_timeout)
            assert time.monotonic() - began < 1.5
        assert reply.partial and list(reply.missing_shards) == [addresses[1]]
        assert reply.candidates[0].subject_id == "p7"
    finally:
        for srv in (server, slow, fast):
            srv.stop(0).wait()
        router.close()
        fast.registry.close()
