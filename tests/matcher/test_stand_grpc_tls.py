"""The clustered-matcher stand's gRPC is mutual TLS from the stand's own CA (src/limes/stand.py): its router
and members refuse a caller without a certificate, with one of another CA, or with the members' server-only
certificate; each certificate the stand issues carries only the rights its holder needs (matcher/access.py)."""
from __future__ import annotations

import shutil
import time

import grpc
import pytest

from limes.stand import Stand
from proto.dev_pki import DevPki
from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc
from proto.tls import TlsFiles

needs_nats = pytest.mark.skipif(shutil.which("nats-server") is None,
                                reason="nats-server (Debian package) not installed: ./limes setup installs it")


def credentials(ca: TlsFiles, holder: TlsFiles | None) -> grpc.ChannelCredentials:
    """Trusting the stand's CA (so the server is accepted), presenting `holder`'s certificate or none."""
    if holder is None:
        return grpc.ssl_channel_credentials(root_certificates=ca.ca.read_bytes())
    return grpc.ssl_channel_credentials(root_certificates=ca.ca.read_bytes(), private_key=holder.key.read_bytes(),
                                        certificate_chain=holder.certificate.read_bytes())


def refused_connection(channel: grpc.Channel) -> grpc.StatusCode:
    """The code a call on `channel` ends with; AssertionError when it is answered."""
    with channel:
        try:
            matcher_pb2_grpc.MatcherStub(channel).ListGalleries(matcher_pb2.ListGalleriesRequest(), timeout=5)
        except grpc.RpcError as error:
            return error.code()
    raise AssertionError("answered")


def found(stub: matcher_pb2_grpc.MatcherStub, timeout: float = 30.0) -> list[str]:
    """The subjects a search finds, once the member has applied the enrolment (it arrives by the stream)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = stub.Search(matcher_pb2.SearchRequest(gallery="g", top_k=1, template=common_pb2.FaceTemplate(
            vector=[0.1, 0.2, 0.3, 0.4], model="m", model_version="1")), timeout=10)
        if answer.candidates or time.monotonic() > deadline:
            return [c.subject_id for c in answer.candidates]
        time.sleep(0.2)


@needs_nats
def test_the_stands_router_and_members_speak_mutual_tls_and_give_each_certificate_its_own_rights(tmp_path):
    stranger = DevPki(tmp_path / "another-ca").user("stand-admin")  # the administrator's name, another CA
    with Stand(tmp_path / "stand") as stand:
        stand.start_nats()
        stand.start_member("A1", "A")
        stand.rebalance(["A"])
        router_port = stand.start_router()
        assert "matcher router (mutual TLS) listening" in (stand.root / "router.log").read_text()
        assert "(mutual TLS) listening" in (stand.root / "member-A1.log").read_text()

        admin = matcher_pb2_grpc.MatcherStub(stand.channel(router_port, "admin"))
        admin.CreateGallery(matcher_pb2.CreateGalleryRequest(gallery="g", model="m", model_version="1", dimension=4,
                                                             threshold=0.01), timeout=30)
        admin.Enrol(matcher_pb2.EnrolRequest(gallery="g", subject_id="S1", template=common_pb2.FaceTemplate(
            vector=[0.1, 0.2, 0.3, 0.4], model="m", model_version="1")), timeout=30)
        # The router passes the search on to the member over mutual TLS, presenting its own certificate.
        assert found(admin) == ["S1"]

        # The searcher's certificate is a station's: it searches, and may not write.
        searcher = matcher_pb2_grpc.MatcherStub(stand.channel(router_port, "search"))
        assert found(searcher) == ["S1"]
        with pytest.raises(grpc.RpcError) as denied:
            searcher.Remove(matcher_pb2.RemoveRequest(gallery="g", subject_id="S1"), timeout=10)
        assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED

        for name, port in (("router", router_port), ("member A1", stand.member_ports["A1"])):
            address = f"127.0.0.1:{port}"
            # In plaintext, with no certificate, with one of another CA, or with the members' own (a server's
            # only, which cannot act as a client): no connection at all, so not a single call.
            assert refused_connection(grpc.insecure_channel(address)) is grpc.StatusCode.UNAVAILABLE, name
            ca = stand.grpc_tls["admin"]
            for holder in (None, stranger, stand.grpc_tls["member"]):
                code = refused_connection(grpc.secure_channel(address, credentials(ca, holder)))
                assert code is grpc.StatusCode.UNAVAILABLE, (name, holder)
        # The same way of connecting, with the router's certificate (server and client), is answered.
        with grpc.secure_channel(f"127.0.0.1:{stand.member_ports['A1']}",
                                 credentials(stand.grpc_tls["admin"], stand.grpc_tls["router"])) as channel:
            listed = matcher_pb2_grpc.MatcherStub(channel).ListGalleries(matcher_pb2.ListGalleriesRequest(), timeout=5)
        assert [g.gallery for g in listed.galleries] == ["g"]
        # The member itself answers its administrator (template reads are theirs and services').
        member = matcher_pb2_grpc.MatcherStub(stand.channel(stand.member_ports["A1"], "admin"))
        assert list(member.Get(matcher_pb2.GetRequest(gallery="g", subject_id="S1"), timeout=10).template.vector) \
            == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_deploy_stand_status_reports_the_transport_it_was_answered_over(tmp_path):
    """`limes deploy stand status` says "mutual TLS" only when a call over it is answered and one in plaintext
    is not: a matcher serving in plaintext is reported as such, whatever certificate is at hand."""
    from limes.commands.deploy_stand import _transport
    from matcher.server import serve

    pki = DevPki(tmp_path / "pki")
    for tls, expected in ((None, "plaintext"), (pki.server(), "mutual TLS")):
        server, port = serve("127.0.0.1:0", tmp_path / f"data-{expected}", tls=tls, plaintext=tls is None)
        try:
            assert _transport(f"127.0.0.1:{port}", pki.station("stand-search")) == expected
            if tls is not None:  # a certificate of another CA is not answered
                assert _transport(f"127.0.0.1:{port}", DevPki(tmp_path / "other").station("x")) == "not answering"
        finally:
            server.stop(None)
            server.registry.close()
