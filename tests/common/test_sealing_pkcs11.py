"""Sealing keys kept in a PKCS#11 token: SoftHSM2, a real PKCS#11 library, as the HSM.

The token seals and opens with its own AES-GCM; its keys are made inside it and never leave it.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

from common.sealing import Sealer, SealError, add_key

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN = "4711-limes"


@pytest.fixture(scope="module")
def token_ring(tmp_path_factory):
    """A fresh SoftHSM2 token and a key file that names it (one per test module: a process
    initialises the PKCS#11 library once, with the configuration it finds then)."""
    if not MODULE.exists() or shutil.which("softhsm2-util") is None:
        message = "SoftHSM2 is not installed (apt-get install softhsm2; ./limes does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    (folder / "softhsm2.conf").write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                                          "log.level = ERROR\n")
    environment = {**os.environ, "SOFTHSM2_CONF": str(folder / "softhsm2.conf")}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "limes-test", "--pin", PIN,
                    "--so-pin", "so-" + PIN], env=environment, check=True, capture_output=True)
    os.environ["SOFTHSM2_CONF"] = environment["SOFTHSM2_CONF"]
    os.environ["LIMES_PKCS11_TEST_PIN"] = PIN
    ring = folder / "ring.key"
    ring.write_text(json.dumps({"pkcs11": {"module": str(MODULE), "token": "limes-test",
                                           "pin_env": "LIMES_PKCS11_TEST_PIN"}, "keys": []}))
    os.chmod(ring, 0o600)
    add_key(ring)
    return ring


def test_the_token_seals_and_opens_in_context_only(token_ring):
    sealer = Sealer.from_file(token_ring)
    blob = sealer.seal(b"template bytes", "matcher:watchlist:log")
    assert b"template bytes" not in blob
    assert sealer.open(blob, "matcher:watchlist:log") == b"template bytes"
    with pytest.raises(SealError, match="another place"):
        sealer.open(blob, "matcher:travellers:log")
    damaged = bytearray(blob)
    damaged[-1] ^= 1
    with pytest.raises(SealError):
        sealer.open(bytes(damaged), "matcher:watchlist:log")


def test_the_key_file_holds_no_key_and_the_token_lets_none_out(token_ring):
    ring = json.loads(token_ring.read_text())
    assert set(ring) == {"pkcs11", "keys", "current"} and all(isinstance(k, str) for k in ring["keys"])
    import pkcs11

    session = pkcs11.lib(str(MODULE)).get_token(token_label="limes-test").open(user_pin=None)
    key = next(session.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.SECRET_KEY,
                                    pkcs11.Attribute.LABEL: ring["current"]}))
    assert key[pkcs11.Attribute.SENSITIVE] and not key[pkcs11.Attribute.EXTRACTABLE]
    with pytest.raises(pkcs11.PKCS11Error):
        key[pkcs11.Attribute.VALUE]


def test_rotation_in_the_token_and_a_sealer_that_crosses_processes(token_ring):
    old = Sealer.from_file(token_ring)
    blob = old.seal(b"face crop", "outbox:OpenReferral:1")
    add_key(token_ring)
    rotated = pickle.loads(pickle.dumps(Sealer.from_file(token_ring)))  # as central's server processes get it
    assert rotated.current != old.current
    assert rotated.open(blob, "outbox:OpenReferral:1") == b"face crop"
    resealed = rotated.reseal(blob, "outbox:OpenReferral:1")
    assert rotated.is_current(resealed) and rotated.open(resealed, "outbox:OpenReferral:1") == b"face crop"


def test_a_missing_pin_is_a_clear_refusal(token_ring, monkeypatch, tmp_path):
    ring = json.loads(token_ring.read_text())
    ring["pkcs11"]["pin_env"] = "LIMES_NO_SUCH_PIN"
    ring["pkcs11"]["token"] = "another-token"
    path = tmp_path / "ring.key"
    path.write_text(json.dumps(ring))
    os.chmod(path, 0o600)
    with pytest.raises(SealError, match=r"\$LIMES_NO_SUCH_PIN"):
        Sealer.from_file(path)
