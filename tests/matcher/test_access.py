"""Least privilege at the matcher: gates (station certificates) only search and verify; enrolment, removal,
template reads and gallery administration are for services and administrators; all of those, and every
refusal, are audited in the data folder with the certificate's holder as author."""
from __future__ import annotations

import grpc
import numpy as np
import pytest

from matcher.access import AUDIT_FILE, read_audit
from matcher.router import Router
from matcher.server import serve, start
from proto.limes.v1 import matcher_pb2, matcher_pb2_grpc
from proto.tls import open_channel

from .conftest import create, template

GATE = "DEMO-EGATE-01"


def vector(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128)
    return 0.3 * v / np.linalg.norm(v)


@pytest.fixture
def matcher(tmp_path, dev_pki):
    server, port = serve("127.0.0.1:0", tmp_path / "data", tls=dev_pki.server(), background=False,
                         administrators=("admin-1",))
    channels = []

    def stub(tls) -> matcher_pb2_grpc.MatcherStub:
        channels.append(open_channel(f"127.0.0.1:{port}", tls))
        return matcher_pb2_grpc.MatcherStub(channels[-1])
    yield stub, tmp_path / "data" / AUDIT_FILE
    for channel in channels:
        channel.close()
    server.stop(0).wait()
    server.registry.close()


def refused(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    return error.value


def test_a_gate_searches_and_verifies_but_may_not_write_or_read_templates(matcher, dev_pki):
    stub, audit = matcher
    central = stub(dev_pki.server())  # central and the web desk present the services' certificate
    create(central)
    central.Enrol(matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="PA-1", template=template(vector(1))),
                  timeout=10)
    gate = stub(dev_pki.station(GATE))
    found = gate.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(vector(1)), top_k=1),
                        timeout=10)
    assert [c.subject_id for c in found.candidates] == ["PA-1"]
    assert gate.Verify(matcher_pb2.VerifyRequest(gallery="watchlist", subject_id="PA-1",
                                                 template=template(vector(1))), timeout=10).match
    assert gate.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="watchlist"), timeout=10).size == 1
    before = len(read_audit(audit))

    error = refused(gate.Enrol, matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="PA-2",
                                                         template=template(vector(2))))
    assert "station" in error.details()
    refused(gate.EnrolBatch, matcher_pb2.EnrolBatchRequest(gallery="watchlist", items=[matcher_pb2.EnrolRequest(
        subject_id="PA-3", template=template(vector(3)))]))
    refused(gate.Remove, matcher_pb2.RemoveRequest(gallery="watchlist", subject_id="PA-1"))
    refused(gate.Get, matcher_pb2.GetRequest(gallery="watchlist", subject_id="PA-1"))
    refused(gate.CreateGallery, matcher_pb2.CreateGalleryRequest(gallery="other", model="m", model_version="1",
                                                                 dimension=128))
    # Nothing of the refused calls happened.
    assert central.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="watchlist"), timeout=10).size == 1
    assert [g.gallery for g in central.ListGalleries(matcher_pb2.ListGalleriesRequest(), timeout=10).galleries] == [
        "watchlist"]
    refusals = read_audit(audit)[before:]
    assert [(e["caller"], e["method"]) for e in refusals] == [
        (f"station {GATE}", m) for m in ("Enrol", "EnrolBatch", "Remove", "Get", "CreateGallery")]
    assert all(e["outcome"].startswith("PERMISSION_DENIED") for e in refusals)
    assert refusals[0]["subjects"] == ["PA-2"] and refusals[1]["subjects"] == ["PA-3"]
    # Searches are not audited here (no template leaves the matcher; central audits the check).
    assert not any(e["method"] in ("Search", "Verify") for e in read_audit(audit))


def test_services_and_administrators_write_and_read_templates_under_their_own_names(matcher, dev_pki):
    stub, audit = matcher
    central, admin = stub(dev_pki.server()), stub(dev_pki.user("admin-1"))
    create(admin)
    central.Enrol(matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="PA-1", template=template(vector(1))),
                  timeout=10)
    got = admin.Get(matcher_pb2.GetRequest(gallery="watchlist", subject_id="PA-1"), timeout=10)
    assert np.allclose(got.template.vector, vector(1), atol=1e-6)
    with pytest.raises(grpc.RpcError) as missing:
        admin.Get(matcher_pb2.GetRequest(gallery="watchlist", subject_id="nobody"), timeout=10)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    central.Remove(matcher_pb2.RemoveRequest(gallery="watchlist", subject_id="PA-1"), timeout=10)
    entries = [(e["caller"], e["method"], e["gallery"], e["subjects"], e["outcome"].split(":")[0])
               for e in read_audit(audit)]
    assert entries == [
        ("user admin-1", "CreateGallery", "watchlist", [], "OK"),
        ("service limes-services", "Enrol", "watchlist", ["PA-1"], "OK"),
        ("user admin-1", "Get", "watchlist", ["PA-1"], "OK"),
        ("user admin-1", "Get", "watchlist", ["nobody"], "NOT_FOUND"),
        ("service limes-services", "Remove", "watchlist", ["PA-1"], "OK"),
    ]


def test_a_user_the_matcher_does_not_name_an_administrator_may_do_nothing(matcher, dev_pki):
    """Central's officers hold user certificates of the same CA: that alone opens no gallery."""
    stub, audit = matcher
    create(stub(dev_pki.server()))
    officer = stub(dev_pki.user("officer-17"))
    refused(officer.Enrol, matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="PA-9",
                                                    template=template(vector(9))))
    refused(officer.Get, matcher_pb2.GetRequest(gallery="watchlist", subject_id="PA-9"))
    refused(officer.Search, matcher_pb2.SearchRequest(gallery="watchlist", template=template(vector(9))))
    refusals = [e for e in read_audit(audit) if e["caller"] == "user officer-17"]
    assert [e["method"] for e in refusals] == ["Enrol", "Get", "Search"]
    assert all("is not an administrator of this matcher" in e["outcome"] for e in refusals)


def test_the_router_refuses_a_gates_writes_too(tmp_path, dev_pki):
    """A router presents the services' certificate to its shards, so it must check its own callers."""
    tls = dev_pki.server()
    shard, shard_port = serve("127.0.0.1:0", tmp_path / "shard", tls=tls, background=False)
    router = Router([f"127.0.0.1:{shard_port}"], timeout=2.0, tls=tls)
    server, port = start(router, "127.0.0.1:0", tls=tls, administrators=("admin-1",))
    try:
        with open_channel(f"127.0.0.1:{port}", dev_pki.user("admin-1")) as channel:
            create(matcher_pb2_grpc.MatcherStub(channel))
        with open_channel(f"127.0.0.1:{port}", dev_pki.station(GATE)) as channel:
            gate = matcher_pb2_grpc.MatcherStub(channel)
            refused(gate.Enrol, matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="PA-1",
                                                         template=template(vector(1))))
            assert not gate.Search(matcher_pb2.SearchRequest(gallery="watchlist", template=template(vector(1))),
                                   timeout=10).candidates
        assert shard.registry.get("watchlist").size == 0
    finally:
        server.stop(0).wait()
        router.close()
        shard.stop(0).wait()
        shard.registry.close()


def test_plaintext_has_no_identities_and_allows_every_call_audited_as_plaintext(tmp_path):
    server, port = serve("127.0.0.1:0", tmp_path / "data", plaintext=True, background=False)
    try:
        with open_channel(f"127.0.0.1:{port}", plaintext=True) as channel:
            anyone = matcher_pb2_grpc.MatcherStub(channel)
            create(anyone)
            anyone.Enrol(matcher_pb2.EnrolRequest(gallery="watchlist", subject_id="PA-1",
                                                  template=template(vector(1))), timeout=10)
        entries = read_audit(tmp_path / "data" / AUDIT_FILE)
        assert [e["method"] for e in entries] == ["CreateGallery", "Enrol"]
        assert all(e["caller"].startswith("plaintext ") and e["outcome"] == "OK" for e in entries)
    finally:
        server.stop(0).wait()
        server.registry.close()


def test_the_travellers_gallery_is_central_s_alone_a_gate_may_not_even_search_it(matcher, dev_pki):
    stub, audit = matcher
    central = stub(dev_pki.server())
    create(central, "travellers")
    central.Enrol(matcher_pb2.EnrolRequest(gallery="travellers", subject_id="file-1", template=template(vector(1))),
                  timeout=10)
    found = central.Search(matcher_pb2.SearchRequest(gallery="travellers", template=template(vector(1)), top_k=1),
                           timeout=10)
    assert [c.subject_id for c in found.candidates] == ["file-1"]
    gate = stub(dev_pki.station(GATE))
    error = refused(gate.Search, matcher_pb2.SearchRequest(gallery="travellers", template=template(vector(1))))
    assert "searched by central only" in error.details()
    refused(gate.Verify, matcher_pb2.VerifyRequest(gallery="travellers", subject_id="file-1",
                                                   template=template(vector(1))))
    refused(gate.SearchBatch, matcher_pb2.SearchBatchRequest(queries=[
        matcher_pb2.SearchRequest(gallery="watchlist", template=template(vector(1))),
        matcher_pb2.SearchRequest(gallery="travellers", template=template(vector(1)))]))
    refusals = [e for e in read_audit(audit) if e["outcome"].startswith("PERMISSION_DENIED")]
    assert [(e["caller"], e["method"]) for e in refusals] == [
        (f"station {GATE}", "Search"), (f"station {GATE}", "Verify"), (f"station {GATE}", "SearchBatch")]
