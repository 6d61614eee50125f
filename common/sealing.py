"""Biometric and personal data sealed at rest: AES-256-GCM under keys kept apart from the data.

A sealed blob names the key that sealed it, so keys can be rotated: a new key becomes current
for sealing, older ones stay for opening until everything sealed under them has been sealed
again (`Sealer.reseal`). The context (what the blob is, e.g. "outbox:RecordCrossing:<id>") is
authenticated with it, so a blob moved to another row or column does not open.

Keys live in a key file (JSON: {"current": ID, "keys": {ID: base64 of 32 bytes}}) that only
its owner may read or write: a file others can read is refused, because a copy of it with a
copy of the data gives the data away. The file belongs outside the folder it protects (a
stolen data folder must not carry its key).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"LSB1"  # Limes sealed blob, format 1: MAGIC | id length | id | nonce | ciphertext and tag
NONCE_BYTES = 12
KEY_BYTES = 32
MAX_KEY_ID = 64


class SealError(Exception):
    """A blob that does not open (damaged, another context, an unknown key) or an unusable key file."""


class Sealer:
    """Seals with the current key, opens with any key of the ring."""

    def __init__(self, keys: dict[str, bytes], current: str):
        if current not in keys:
            raise SealError(f"current key {current!r} is not among the keys")
        for key_id, key in keys.items():
            if not 0 < len(key_id.encode()) <= MAX_KEY_ID or len(key) != KEY_BYTES:
                raise SealError(f"key {key_id!r}: ids are 1-{MAX_KEY_ID} bytes, keys {KEY_BYTES} bytes")
        self._keys = dict(keys)
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current

    def __reduce__(self):
        # Picklable, for central's further server processes (central.rpc.processes): keys, not ciphers.
        return Sealer, (self._keys, self.current)

    @classmethod
    def from_file(cls, path: Path | str) -> "Sealer":
        path = Path(path)
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise SealError(f"{path}: readable or writable by others (mode {stat.filemode(mode)}); "
                                f"chmod 600 it")
            ring = json.loads(path.read_text())
            keys = {key_id: base64.b64decode(value, validate=True) for key_id, value in ring["keys"].items()}
            return cls(keys, ring["current"])
        except SealError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise SealError(f"{path}: not a usable key file ({error})") from error

    def seal(self, data: bytes, context: str) -> bytes:
        key_id = self.current.encode()
        header = MAGIC + bytes([len(key_id)]) + key_id
        nonce = secrets.token_bytes(NONCE_BYTES)
        return header + nonce + self._ciphers[self.current].encrypt(nonce, data, header + context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        key_id, header, body = _split(blob)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(f"sealed under key {key_id!r}, which this key file does not hold")
        try:
            return cipher.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], header + context.encode())
        except InvalidTag:
            raise SealError("sealed data does not open: damaged, or sealed for another place") from None

    def is_current(self, blob: bytes) -> bool:
        return _split(blob)[0] == self.current

    def reseal(self, blob: bytes, context: str) -> bytes:
        """The blob sealed under the current key (itself when it already is)."""
        return blob if self.is_current(blob) else self.seal(self.open(blob, context), context)


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def _split(blob: bytes) -> tuple[str, bytes, bytes]:
    if not is_sealed(blob) or len(blob) < len(MAGIC) + 1:
        raise SealError("not sealed data")
    length = blob[len(MAGIC)]
    end = len(MAGIC) + 1 + length
    if not 0 < length <= MAX_KEY_ID or len(blob) < end + NONCE_BYTES + 16:
        raise SealError("sealed data is truncated")
    try:
        key_id = blob[len(MAGIC) + 1:end].decode()
    except UnicodeDecodeError:
        raise SealError("sealed data names no readable key") from None
    return key_id, blob[:end], blob[end:]


def open_or_create(path: Path | str) -> Sealer:
    """The sealer of the key file at `path`, made (mode 600, one new key) when there is none yet."""
    path = Path(path)
    if not path.exists():
        add_key(path)
    return Sealer.from_file(path)


def add_key(path: Path | str) -> str:
    """A new current key in the key file, made if missing (mode 600); older keys stay for opening.

    The file is replaced atomically, so a crash leaves the old ring or the new one, never half.
    """
    path = Path(path)
    ring = json.loads(path.read_text()) if path.exists() else {"keys": {}}
    if path.exists():
        Sealer.from_file(path)  # refuses a ring others can read before adding to it
    key_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    ring["keys"][key_id] = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    ring["current"] = key_id
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(ring, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return key_id
