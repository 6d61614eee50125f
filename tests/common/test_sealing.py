"""Sealing at rest: AES-GCM under a key file, contexts bound, keys rotated, hostile blobs refused."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.sealing import MAGIC, Sealer, SealError, add_key, is_sealed


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "keys" / "at-rest.key"
    add_key(path)
    return path


def test_sealed_data_opens_in_its_context_only(key_file):
    sealer = Sealer.from_file(key_file)
    blob = sealer.seal(b"face crop", "outbox:OpenReferral:1")
    assert is_sealed(blob) and b"face crop" not in blob
    assert sealer.open(blob, "outbox:OpenReferral:1") == b"face crop"
    with pytest.raises(SealError, match="another place"):
        sealer.open(blob, "outbox:OpenReferral:2")


def test_every_seal_has_its_own_nonce(key_file):
    sealer = Sealer.from_file(key_file)
    assert sealer.seal(b"x", "c") != sealer.seal(b"x", "c")


def test_a_changed_byte_does_not_open(key_file):
    sealer = Sealer.from_file(key_file)
    blob = bytearray(sealer.seal(b"template", "c"))
    blob[-1] ^= 1
    with pytest.raises(SealError):
        sealer.open(bytes(blob), "c")


def test_the_key_file_is_made_for_its_owner_alone(key_file):
    assert os.stat(key_file).st_mode & 0o777 == 0o600


def test_a_key_file_others_can_read_is_refused(key_file):
    os.chmod(key_file, 0o644)
    with pytest.raises(SealError, match="chmod 600"):
        Sealer.from_file(key_file)


def test_a_damaged_key_file_is_refused_with_its_reason(tmp_path):
    path = tmp_path / "bad.key"
    path.write_text(json.dumps({"current": "a", "keys": {"a": "bm90IDMyIGJ5dGVz"}}))
    os.chmod(path, 0o600)
    with pytest.raises(SealError, match="32 bytes"):
        Sealer.from_file(path)


def test_rotation_keeps_old_blobs_readable_and_reseals_them_under_the_new_key(key_file):
    old = Sealer.from_file(key_file)
    blob = old.seal(b"vector", "gallery:watchlist")
    new_id = add_key(key_file)
    rotated = Sealer.from_file(key_file)
    assert rotated.current == new_id != old.current
    assert rotated.open(blob, "gallery:watchlist") == b"vector"
    assert not rotated.is_current(blob)
    resealed = rotated.reseal(blob, "gallery:watchlist")
    assert rotated.is_current(resealed) and rotated.open(resealed, "gallery:watchlist") == b"vector"
    with pytest.raises(SealError, match="does not hold"):
        old.open(resealed, "gallery:watchlist")


def test_plain_data_is_not_taken_for_sealed(key_file):
    with pytest.raises(SealError, match="not sealed"):
        Sealer.from_file(key_file).open(b"\xff\xd8\xff\xe0 a JPEG", "c")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_hostile_blobs_end_in_a_seal_error(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("keys") / "k"
    add_key(path)
    sealer = Sealer.from_file(path)
    for candidate in (blob, MAGIC + blob):
        with pytest.raises(SealError):
            sealer.open(candidate, "c")


def test_processes_starting_side_by_side_agree_on_one_new_key(tmp_path):
    """On a new machine, several processes may find no key file at once (CI: two centrals started side by
    side): the first file put in place stands, every process seals under it, and no temporary is left."""
    import subprocess
    import sys

    path = tmp_path / "keys" / "at-rest.key"
    script = ("import sys; from common.sealing import open_or_create; "
              "print(open_or_create(sys.argv[1]).seal(b'x', 'race').hex())")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
            for _ in range(8)]
    sealed = [bytes.fromhex(run.communicate(timeout=60)[0].strip()) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    sealer = Sealer.from_file(path)
    assert all(sealer.open(blob, "race") == b"x" for blob in sealed)
    assert [p.name for p in path.parent.iterdir()] == ["at-rest.key"]
