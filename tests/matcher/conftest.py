"""Fixtures for the matcher tests: synthetic templates and in-process servers on ephemeral ports,
speaking mutual TLS with the run's development CA (the `dev_pki` fixture)."""
from __future__ import annotations

import numpy as np
import pytest

from matcher import synthetic
from matcher.server import serve
from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc
from proto.tls import open_channel

MODEL, VERSION = "dlib-resnet-v1", "1"


def template(vector) -> common_pb2.FaceTemplate:
    return common_pb2.FaceTemplate(vector=[float(v) for v in vector], model=MODEL, model_version=VERSION)


@pytest.fixture
def people():
    """A population of 400 identities, an enrolment photo each, and a second photo (mated probe) each."""
    rng = np.random.default_rng(7)
    population = synthetic.population(rng, 400)
    which = np.arange(400)
    return population, synthetic.photos(rng, population, which), synthetic.photos(rng, population, which)


@pytest.fixture
def server(tmp_path, dev_pki):
    srv, port = serve("127.0.0.1:0", tmp_path / "data", tls=dev_pki.server(), background=False,
                     administrators=("tester",))
    channel = open_channel(f"127.0.0.1:{port}", dev_pki.user("tester"))
    yield srv, port, channel
    channel.close()
    srv.stop(0).wait()
    srv.registry.close()


@pytest.fixture
def stub(server):
    return matcher_pb2_grpc.MatcherStub(server[2])


def create(stub, name="watchlist", **config):
    request = dict(gallery=name, model=MODEL, model_version=VERSION, dimension=128)
    request.update(config)
    return stub.CreateGallery(matcher_pb2.CreateGalleryRequest(**request))
