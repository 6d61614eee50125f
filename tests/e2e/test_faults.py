"""The foundation's promise: a malformed MRZ on the serial line, a photo with
no face, or central or the matcher down each end in a referral with a clear
reason, never a crash."""
from __future__ import annotations

import dataclasses

import pytest

from hardware_sim.travellers import demo_travellers
from tests.e2e.conftest import border_post_or_skip

pytestmark = pytest.mark.slow


def genuine():
    return next(t for t in demo_travellers() if t.expected == "open")


@pytest.fixture
def post(faces_dir, tmp_path):
    with border_post_or_skip(tmp_path, faces_dir, travellers=[]) as post:
        yield post


def test_garbled_serial_line_then_malformed_mrz(post):
    post.devices.reader.send_raw(b"\x02\xff\xfe garbage \x03ZZ")
    result = post.pass_through(dataclasses.replace(genuine(), damage_mrz=True, expected="refer",
                                                   because=("mrz.valid",)))
    assert result["decision"] == "refer"
    assert any(r.startswith("mrz.valid: document_number: check digit") for r in result["reasons"])


def test_document_photo_without_a_face(post, faces_dir, tmp_path):
    # A chip whose photo shows no face: a crop of the background of a real photo.
    import cv2

    image = cv2.imread(str(faces_dir / "obama" / "01.jpg"))
    (tmp_path / "faces" / "x").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "faces" / "x" / "wall.jpg"), image[:120, :200])
    post.devices.faces = tmp_path / "faces"
    traveller = dataclasses.replace(genuine(), document_photo="x/wall.jpg",
                                    live_face=str(faces_dir / genuine().live_face))
    result = post.pass_through(traveller)
    assert result["decision"] == "refer"
    assert any(r.startswith("face.verification: document photo unusable") for r in result["reasons"]), \
        result["reasons"]


def test_matcher_down_refers_with_reason(post):
    post.services.matcher_server.stop(grace=0).wait()
    result = post.pass_through(genuine())
    assert result["decision"] == "refer"
    assert any(r.startswith("watchlist.face: could not be checked (matcher unavailable") for r in result["reasons"])


def test_central_down_refers_with_reason(post):
    post.services.central_server.stop(grace=0).wait()
    result = post.pass_through(genuine())
    assert result["decision"] == "refer"
    assert any(r.startswith("alerts.document: could not be checked (central unavailable")
               for r in result["reasons"])
    assert not result["recorded"]
    assert any(r.startswith("crossing not recorded") for r in result["reasons"])
