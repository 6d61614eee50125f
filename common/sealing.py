"""Biometric and personal data sealed at rest: AES-256-GCM under keys kept apart from the data.

A sealed blob names the key that sealed it, so keys can be rotated: a new key becomes current
for sealing, older ones stay for opening until everything sealed under them has been sealed
again (`Sealer.reseal`). The context (what the blob is, e.g. "outbox:RecordCrossing:<id>") is
authenticated with it, so a blob moved to another row or column does not open.

Keys live in a key file (JSON: {"current": ID, "keys": {ID: base64 of 32 bytes}}) that only
its owner may read or write: a file others can read is refused, because a copy of it with a
copy of the data gives the data away. The file belongs outside the folder it protects (a
stolen data folder must not carry its key).

Or the keys live in a PKCS#11 token (an HSM; SoftHSM2 in the tests), which seals and opens
itself and never lets them out: the key file then only says where they are,
{"pkcs11": {"module": LIBRARY, "token": LABEL, "pin_env": VARIABLE}, "current": ID, "keys": [ID, ...]},
the user PIN coming from the environment variable it names (default LIMES_PKCS11_PIN).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import stat
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"LSB1"  # Limes sealed blob, format 1: MAGIC | id length | id | nonce | ciphertext and tag
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
MAX_KEY_ID = 64


class SealError(Exception):
    """A blob that does not open (damaged, another context, an unknown key) or an unusable key file."""


class Sealer:
    """Seals with the current key, opens with any key of the ring."""

    def __init__(self, keys: dict[str, bytes], current: str):
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise SealError(f"key {key_id!r}: keys are {KEY_BYTES} bytes")
        self._setup({key_id: AESGCM(key) for key_id, key in keys.items()}, current, (Sealer, (dict(keys), current)))

    def _setup(self, ciphers: dict, current: str, reduced: tuple) -> None:
        if current not in ciphers:
            raise SealError(f"current key {current!r} is not among the keys")
        for key_id in ciphers:
            if not 0 < len(key_id.encode()) <= MAX_KEY_ID:
                raise SealError(f"key {key_id!r}: ids are 1-{MAX_KEY_ID} bytes")
        self._ciphers = ciphers
        self.current = current
        self._reduced = reduced

    def __reduce__(self):
        # Picklable, for central's further server processes (central.rpc.processes): the keys of a
        # key file, or the key file naming a token (each process opens its own session).
        return self._reduced

    @classmethod
    def _from_token(cls, path: Path, ring: dict) -> "Sealer":
        sealer = cls.__new__(cls)
        token = _token(ring["pkcs11"])
        sealer._setup({key_id: token.key(key_id) for key_id in ring["keys"]}, ring["current"],
                      (Sealer.from_file, (path,)))
        return sealer

    @classmethod
    def from_file(cls, path: Path | str) -> "Sealer":
        path = Path(path)
        ring = _read_ring(path)
        try:
            if "pkcs11" in ring:
                return cls._from_token(path, ring)
            keys = {key_id: base64.b64decode(value, validate=True) for key_id, value in ring["keys"].items()}
            return cls(keys, ring["current"])
        except SealError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise SealError(f"{path}: not a usable key file ({error})") from error

    @property
    def current_prefix(self) -> bytes:
        """How every blob sealed under the current key begins (a database can select the others by it)."""
        key_id = self.current.encode()
        return MAGIC + bytes([len(key_id)]) + key_id

    def seal(self, data: bytes | memoryview, context: str) -> bytes | bytearray:
        header = self.current_prefix
        nonce = secrets.token_bytes(NONCE_BYTES)
        cipher = self._ciphers[self.current]
        if not isinstance(cipher, AESGCM):
            return header + nonce + cipher.encrypt(nonce, bytes(data), header + context.encode())
        # Straight into the blob: a snapshot's chunks are tens of MB, and copies cost as much as AES here.
        blob = bytearray(len(header) + NONCE_BYTES + len(data) + TAG_BYTES)
        blob[:len(header)] = header
        blob[len(header):len(header) + NONCE_BYTES] = nonce
        cipher.encrypt_into(nonce, data, header + context.encode(), memoryview(blob)[len(header) + NONCE_BYTES:])
        return bytes(blob) if len(blob) < 1 << 16 else blob  # a big one stays a bytearray rather than copied

    def open(self, blob: bytes, context: str) -> bytes:
        cipher, header, body = self._cipher_for(blob)
        try:
            return cipher.decrypt(bytes(body[:NONCE_BYTES]), body[NONCE_BYTES:], header + context.encode())
        except InvalidTag:
            raise SealError("sealed data does not open: damaged, or sealed for another place") from None

    def open_into(self, blob: bytes, context: str, out: memoryview) -> None:
        """Open `blob` straight into `out`, which must be exactly the plain data's size."""
        cipher, header, body = self._cipher_for(blob)
        if len(body) - NONCE_BYTES - TAG_BYTES != len(out):
            raise SealError(f"sealed data holds {len(body) - NONCE_BYTES - TAG_BYTES} bytes, not {len(out)}")
        try:
            if isinstance(cipher, AESGCM):
                cipher.decrypt_into(bytes(body[:NONCE_BYTES]), body[NONCE_BYTES:], header + context.encode(), out)
            else:
                out[:] = cipher.decrypt(bytes(body[:NONCE_BYTES]), bytes(body[NONCE_BYTES:]), header + context.encode())
        except InvalidTag:
            raise SealError("sealed data does not open: damaged, or sealed for another place") from None

    def _cipher_for(self, blob: bytes):
        key_id, header, body = _split(blob)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(f"sealed under key {key_id!r}, which this key file does not hold")
        return cipher, header, body

    def is_current(self, blob: bytes) -> bool:
        return _split(blob)[0] == self.current

    def reseal(self, blob: bytes, context: str) -> bytes:
        """The blob sealed under the current key (itself when it already is)."""
        return blob if self.is_current(blob) else self.seal(self.open(blob, context), context)


def is_sealed(blob: bytes | memoryview) -> bool:
    return bytes(blob[:len(MAGIC)]) == MAGIC


def _split(blob: bytes) -> tuple[str, bytes, bytes]:
    if not is_sealed(blob) or len(blob) < len(MAGIC) + 1:
        raise SealError("not sealed data")
    length = blob[len(MAGIC)]
    end = len(MAGIC) + 1 + length
    if not 0 < length <= MAX_KEY_ID or len(blob) < end + NONCE_BYTES + TAG_BYTES:
        raise SealError("sealed data is truncated")
    try:
        key_id = bytes(blob[len(MAGIC) + 1:end]).decode()
    except UnicodeDecodeError:
        raise SealError("sealed data names no readable key") from None
    return key_id, bytes(blob[:end]), memoryview(blob)[end:]  # the body not copied: it may be tens of MB


def open_or_create(path: Path | str) -> Sealer:
    """The sealer of the key file at `path`, made (mode 600, one new key) when there is none yet.

    Processes started side by side on a new machine may all find no key file: the first to put its
    file in place wins, the others read that one, so nothing is ever sealed under a key that is lost."""
    path = Path(path)
    if not path.exists():
        ring = {"keys": {}}
        _new_key(ring)
        temporary = _written(path, ring)
        try:
            os.link(temporary, path)  # atomic, and never over a key file another process made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return Sealer.from_file(path)


def _read_ring(path: Path) -> dict:
    """The key file's JSON; SealError when others may read or write it, or it is no JSON object."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SealError(f"{path}: readable or writable by others (mode {stat.filemode(mode)}); chmod 600 it")
        ring = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SealError(f"{path}: not a usable key file ({error})") from error
    if not isinstance(ring, dict):
        raise SealError(f"{path}: not a usable key file (not a JSON object)")
    return ring


def add_key(path: Path | str) -> str:
    """A new current key in the key file, made if missing (mode 600); older keys stay for opening.

    The file is replaced atomically, so a crash leaves the old ring or the new one, never half.
    """
    path = Path(path)
    ring = _read_ring(path) if path.exists() else {"keys": {}}
    key_id = _new_key(ring)
    os.replace(_written(path, ring), path)
    return key_id


def _new_key(ring: dict) -> str:
    """A new key made the ring's current one; its id."""
    key_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
    if "pkcs11" in ring:
        _token(ring["pkcs11"]).generate(key_id)  # made inside the token, never seen outside it
        ring["keys"].append(key_id)
    else:
        ring["keys"][key_id] = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    ring["current"] = key_id
    return key_id


def _written(path: Path, ring: dict) -> Path:
    """The ring in a new file of its own beside `path` (mode 600, on disk), named for this process alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(ring, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    return temporary


_TOKENS: dict[tuple[str, str], "_TokenKeys"] = {}
_TOKENS_LOCK = threading.Lock()


def _token(config: dict) -> "_TokenKeys":
    # One logged-in session per token and process: PKCS#11 logs in an application, not a session,
    # so a second login to the same token fails (CKR_USER_ALREADY_LOGGED_IN).
    try:
        place = (str(config["module"]), str(config["token"]))
    except (KeyError, TypeError):
        raise SealError("a PKCS#11 key file names its module and token") from None
    with _TOKENS_LOCK:
        if place not in _TOKENS:
            _TOKENS[place] = _TokenKeys(config)
        return _TOKENS[place]


class _TokenKeys:
    """AES keys in a PKCS#11 token, each used through the token's own AES-GCM (python-pkcs11)."""

    def __init__(self, config: dict):
        import pkcs11

        self._pkcs11 = pkcs11
        pin_env = config.get("pin_env", "LIMES_PKCS11_PIN")
        pin = os.environ.get(pin_env)
        if not pin:
            raise SealError(f"PKCS#11 token {config.get('token')!r}: its user PIN is expected in ${pin_env}")
        try:
            token = pkcs11.lib(config["module"]).get_token(token_label=config["token"])
            self._session = token.open(user_pin=pin, rw=True)
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as error:
            raise SealError(f"PKCS#11 token {config.get('token')!r} in {config.get('module')}: "
                            f"{type(error).__name__} {error}") from None
        self._lock = threading.Lock()  # a PKCS#11 session serves one call at a time

    def key(self, key_id: str) -> "_TokenKey":
        pkcs11 = self._pkcs11
        try:
            with self._lock:
                key = self._session.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY,
                                            key_type=pkcs11.KeyType.AES, label=key_id)
        except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned) as error:
            raise SealError(f"PKCS#11 key {key_id!r}: {type(error).__name__}") from None
        return _TokenKey(self, key)

    def generate(self, key_id: str) -> None:
        pkcs11 = self._pkcs11
        attribute = pkcs11.Attribute
        with self._lock:
            self._session.generate_key(pkcs11.KeyType.AES, KEY_BYTES * 8, label=key_id, store=True, template={
                attribute.SENSITIVE: True, attribute.EXTRACTABLE: False,
                attribute.ENCRYPT: True, attribute.DECRYPT: True})

    def run(self, work, refused: type[Exception]):
        with self._lock:
            try:
                return work(self._pkcs11)
            except self._pkcs11.PKCS11Error as error:
                raise refused(f"the PKCS#11 token refused: {type(error).__name__}") from error


class _TokenKey:
    """What AESGCM offers (encrypt, decrypt), done by the token."""

    def __init__(self, token: _TokenKeys, key):
        self._token = token
        self._key = key

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        return self._token.run(lambda p11: self._key.encrypt(
            data, mechanism=p11.Mechanism.AES_GCM, mechanism_param=p11.GCMParams(nonce, aad, 128)), SealError)

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        # InvalidTag, as AESGCM says it: the data does not open here.
        return self._token.run(lambda p11: self._key.decrypt(
            bytes(data), mechanism=p11.Mechanism.AES_GCM, mechanism_param=p11.GCMParams(nonce, aad, 128)), InvalidTag)
