"""dlib's face-recognition ResNet run with numpy, from the weights in dlib's own model file.

The dlib wheel in use is built without BLAS, so its convolutions take about
72 ms per face on a 2-core machine; the same network as im2col + numpy's BLAS
matrix products takes under 30 ms and gives the same vector (within 1e-6).

The model file (dlib_face_recognition_resnet_model_v1.dat, shipped by the
face_recognition_models package) is dlib's serialisation of the network
described in dlib's dnn_face_recognition_ex.cpp: a 7x7/2 convolution and 3x3/2
max pool, 13 residual blocks of two 3x3 convolutions each (32, 64, 128, 256,
256 filters; the first block of each level after the first halves the
resolution, its shortcut average-pooled 2x2/2 and zero-padded to the wider
output), global average pooling and a 256 -> 128 linear layer. Batch norm has
been folded into per-channel affine layers.

dlib writes each layer's details after those of its input, so the file lists
the layers from the input to the output: each starts with its name as a string
("con_4", "affine_", ...), followed by its fields. Integers are a length byte
(high bit = negative) and that many little-endian bytes; floats are an integer
mantissa and exponent; tensors are version 2, four integer dimensions and raw
little-endian float32 values.
"""
from __future__ import annotations

import functools
import re

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import ThreadpoolController

from drivers.face.errors import FaceError

CHIP_SIZE = 150
CHIP_PADDING = 0.25
_LAYER_NAMES = [b"input_rgb_image_sized", b"con_4", b"affine_", b"relu_", b"max_pool_2", b"avg_pool_2",
                b"add_prev_", b"fc_2"]
_EXPECTED = {"con": 29, "affine": 29, "relu": 29, "add": 14, "avg": 5, "max": 1, "fc": 1}


class _Reader:
    def __init__(self, data: bytes, position: int) -> None:
        self.data, self.position = data, position

    def _need(self, count: int) -> None:
        if self.position + count > len(self.data):
            raise FaceError(f"resnet model: truncated at byte {self.position}")

    def integer(self) -> int:
        self._need(1)
        head = self.data[self.position]
        size = head & 0x0F
        self._need(1 + size)
        value = int.from_bytes(self.data[self.position + 1 : self.position + 1 + size], "little")
        self.position += 1 + size
        return -value if head & 0x80 else value

    def string(self) -> str:
        size = self.integer()
        self._need(size)
        text = self.data[self.position : self.position + size].decode("ascii")
        self.position += size
        return text

    def real(self) -> float:
        mantissa = self.integer()
        return mantissa * 2.0 ** self.integer()

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise FaceError(f"resnet model: tensor version {version} at byte {self.position}, expected 2")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        self._need(4 * count)
        values = np.frombuffer(self.data, "<f4", count, self.position).astype(np.float32).reshape(shape)
        self.position += 4 * count
        return values


def parse_model(data: bytes) -> list[tuple]:
    """The layers, input first, as tuples: ('input', mean_rgb), ('con', W, b, stride, pad), ('affine', g, b),
    ('relu',), ('max'|'avg', size, stride), ('add',), ('fc', W)."""
    found = sorted(
        (match.start(), name)
        for name in _LAYER_NAMES
        for match in re.finditer(re.escape(bytes([1, len(name)]) + name), data)
    )
    layers: list[tuple] = []
    for position, name in found:
        reader = _Reader(data, position)
        reader.string()
        if name == b"input_rgb_image_sized":
            layers.append(("input", np.array([reader.real(), reader.real(), reader.real()], np.float32)))
        elif name == b"con_4":
            params = reader.tensor().ravel()
            filters, rows, cols, stride, _, pad, _ = (reader.integer() for _ in range(7))
            channels = (params.size - filters) // (filters * rows * cols)
            split = filters * channels * rows * cols
            weights = params[:split].reshape(filters, channels, rows, cols)
            layers.append(("con", weights, params[split:], stride, pad))
        elif name == b"affine_":
            params = reader.tensor().ravel()
            half = params.size // 2
            layers.append(("affine", params[:half], params[half:]))
        elif name == b"relu_":
            layers.append(("relu",))
        elif name in (b"max_pool_2", b"avg_pool_2"):
            size, _, stride, _, _, _ = (reader.integer() for _ in range(6))
            layers.append((name[:3].decode(), size, stride))
        elif name == b"add_prev_":
            layers.append(("add",))
        elif name == b"fc_2":
            outputs, inputs = reader.integer(), reader.integer()
            layers.append(("fc", reader.tensor().reshape(inputs, outputs)))
    counts = {kind: sum(layer[0] == kind for layer in layers) for kind in _EXPECTED}
    if counts != _EXPECTED or not layers or layers[0][0] != "input":
        raise FaceError(f"resnet model: unexpected layer layout {counts}")
    return layers


@functools.cache
def model_layers() -> list[tuple]:
    from drivers.face.models import _model_path

    with open(_model_path("face_recognition_model_location"), "rb") as handle:
        return parse_model(handle.read())


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def descriptor(chip: np.ndarray, layers: list[tuple] | None = None) -> np.ndarray:
    """The 128-d vector of an aligned 150x150 RGB face chip (dlib.get_face_chip)."""
    if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
        raise FaceError(f"resnet: expected a {CHIP_SIZE}x{CHIP_SIZE} RGB chip, got {chip.shape}")
    # One BLAS thread: these matrices are small, and on a shared 2-core gate OpenBLAS's
    # spinning worker threads made the median 10x slower under load (17 ms vs 200 ms).
    with _blas().limit(limits=1, user_api="blas"):
        return _forward(chip, layers or model_layers())


def _forward(chip: np.ndarray, layers: list[tuple]) -> np.ndarray:
    # dlib's input layer: subtract the training mean per channel, divide by 256.
    x = (chip.astype(np.float32) - layers[0][1]) / 256.0
    block_input = shortcut = None
    after_add = False
    for layer in layers[1:]:
        kind = layer[0]
        if kind == "con":
            x = _convolve(x, *layer[1:])
        elif kind == "affine":
            x = x * layer[1] + layer[2]
        elif kind == "relu":
            np.maximum(x, 0, out=x)
            if after_add:  # the residual block's output is the next block's input
                block_input, after_add = x, False
        elif kind == "max":
            x = _pool(x, layer[1], layer[2]).max(axis=(3, 4))
            block_input = x
        elif kind == "avg" and layer[1] == 0:  # avg_pool_everything
            x = x.mean(axis=(0, 1))
        elif kind == "avg":  # the shortcut of a down-sampling block
            shortcut = _pool(block_input, layer[1], layer[2]).mean(axis=(3, 4))
        elif kind == "add":
            x = _add_padded(x, block_input if shortcut is None else shortcut)
            shortcut, after_add = None, True
        elif kind == "fc":
            x = x @ layer[1]
    return x.astype(np.float32)


def _convolve(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int, pad: int) -> np.ndarray:
    if pad:
        x = np.pad(x, ((pad, pad), (pad, pad), (0, 0)))
    filters, channels, rows, cols = weights.shape
    windows = sliding_window_view(x, (rows, cols), axis=(0, 1))[::stride, ::stride]
    height, width = windows.shape[:2]
    patches = windows.reshape(height * width, channels * rows * cols)
    return (patches @ weights.reshape(filters, -1).T + bias).reshape(height, width, filters)


def _pool(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    return sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride]


def _add_padded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib's add_prev: tensors of different sizes add where they overlap, zero elsewhere."""
    if a.shape == b.shape:
        return a + b
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape))
    out = np.zeros(shape, np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2]] += a
    out[: b.shape[0], : b.shape[1], : b.shape[2]] += b
    return out
