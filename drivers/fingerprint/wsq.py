"""WSQ (FBI Wavelet Scalar Quantization) images, through NIST's NBIS codec in the `wsq` wheel.

NBIS's decoder trusts its input: fuzzing showed corrupt streams that corrupt its heap and abort the
whole process. So every decode runs in a child process of its own; a child that dies or answers nothing
becomes a FingerprintError here, and the caller's process never sees the damage. The child is a fresh
interpreter, not a fork: a forked copy of a process that serves gRPC (the demo's post runs central, the
matcher and the gate in one process) restarts gRPC's threads and could take a call off the parent's
listening socket, then die with it (seen in CI: a call answered by a fork's closed channel).
"""
from __future__ import annotations

import pickle
import struct
import subprocess
import sys

import numpy as np

from drivers.fingerprint.errors import FingerprintError

MAGIC = b"\xff\xa0"           # SOI marker: every WSQ stream starts with it
# The wheel's compress() takes a bit-rate argument but ignores it: every stream comes out at NBIS's
# 0.75 bits per pixel (the FBI's setting for 500 ppi prints, about 10-15:1), always marked 500 ppi.
BITRATE = 0.75
MAX_STREAM = 16 * 1024 * 1024
_MIN_SIDE = 32                # NBIS's wavelet decomposition needs at least this much


def is_wsq(data: bytes) -> bool:
    return data[:2] == MAGIC


def encode(image: np.ndarray) -> bytes:
    """A grey uint8 image (500 ppi) as a WSQ stream."""
    import _wsq  # the wheel's C extension; imported here so that loading this module needs no codec

    if image.dtype != np.uint8 or image.ndim != 2:
        raise FingerprintError("WSQ encodes 8-bit grey images only")
    height, width = image.shape
    if min(height, width) < _MIN_SIDE:
        raise FingerprintError(f"image {width}x{height} too small for WSQ (at least {_MIN_SIDE} pixels a side)")
    return bytes(_wsq.compress(np.ascontiguousarray(image).tobytes(), height, width, BITRATE))


def decode(data: bytes) -> np.ndarray:
    """The grey uint8 image of a WSQ stream; any damage is a FingerprintError, never a crash."""
    if not is_wsq(data):
        raise FingerprintError("not a WSQ stream: no start-of-image marker FFA0")
    if len(data) > MAX_STREAM:
        raise FingerprintError(f"WSQ stream of {len(data)} bytes is over the {MAX_STREAM}-byte limit")
    pixels, width, height = _decode_isolated(bytes(data))
    if len(pixels) != width * height or width <= 0 or height <= 0:
        raise FingerprintError("corrupt WSQ stream: decoded size does not match its frame header")
    return np.frombuffer(pixels, np.uint8).reshape(height, width).copy()


# What the child runs: the stream on stdin, the answer (length, then a pickle) on stdout.
_CHILD = """
import pickle, struct, sys
data = sys.stdin.buffer.read()
import _wsq
try:
    pixels, width, height, _ppi = _wsq.decompress(data)
    answer = pickle.dumps(("ok", bytes(pixels), width, height))
except Exception as exc:
    answer = pickle.dumps(("error", str(exc) or type(exc).__name__))
sys.stdout.buffer.write(struct.pack(">Q", len(answer)) + answer)
"""
DECODE_TIMEOUT_S = 30.0


def _decode_isolated(data: bytes) -> tuple[bytes, int, int]:
    try:  # NBIS prints its complaints on stderr: kept from ours
        done = subprocess.run([sys.executable, "-I", "-c", _CHILD], input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=DECODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise FingerprintError(f"corrupt WSQ stream: the decoder did not answer within {DECODE_TIMEOUT_S:.0f} s") \
            from None
    received = done.stdout
    if len(received) < 8 or len(received) != 8 + struct.unpack(">Q", received[:8])[0]:
        raise FingerprintError(f"corrupt WSQ stream: the decoder failed ({_describe(done.returncode)})")
    answer = pickle.loads(received[8:])  # noqa: S301 - written by our own child process
    if answer[0] != "ok":
        raise FingerprintError(f"corrupt WSQ stream: {answer[1]}")
    return answer[1], answer[2], answer[3]


def _describe(returncode: int) -> str:
    if returncode < 0:
        return f"killed by signal {-returncode}"
    return f"exit status {returncode}"
