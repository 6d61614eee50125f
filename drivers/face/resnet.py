"""dlib's face-recognition ResNet run by ONNX Runtime, from the weights in dlib's own model file.

The dlib wheel in use is built without BLAS, so its convolutions take about
72 ms per face on a 2-core machine. The same weights, read here and written
as an ONNX graph in memory (each batch-norm affine folded into its
convolution), run in ONNX Runtime in about 10 ms on one thread and give the
same vector (within 1e-6; tests/drivers/test_face.py compares with dlib).
Nothing is downloaded: the graph is made from the installed model file.

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

from drivers.face.errors import FaceError
from drivers.face.model_files import model_path

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


def model_layers() -> list[tuple]:
    """The installed model file's layers. Not cached: `session` reads them once and
    ONNX Runtime keeps its own copy of the weights."""
    with open(model_path("face_recognition_model_location"), "rb") as handle:
        return parse_model(handle.read())


@functools.cache
def session():
    """The network in ONNX Runtime, built once from the installed model file."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # One thread: a gate's two cores also run capture, chip and gRPC; spinning pool
    # threads made numpy's BLAS 10x slower at the median under such load.
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(to_onnx(model_layers()), options, providers=["CPUExecutionProvider"])


def descriptor(chip: np.ndarray) -> np.ndarray:
    """The 128-d vector of an aligned 150x150 RGB face chip (dlib.get_face_chip)."""
    if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
        raise FaceError(f"resnet: expected a {CHIP_SIZE}x{CHIP_SIZE} RGB chip, got {chip.shape}")
    planes = np.ascontiguousarray(chip.transpose(2, 0, 1)[None], dtype=np.float32)
    return session().run(None, {"chip": planes})[0][0]


def to_onnx(layers: list[tuple]) -> bytes:
    """The network of `parse_model` as a serialised ONNX model: input "chip" (1x3x150x150,
    RGB values 0-255), output "descriptor" (1x128)."""
    return _OnnxWriter(layers).model()


class _OnnxWriter:
    """Walks dlib's layers from input to output, keeping each tensor's (height, width, channels)
    because dlib's add_prev adds tensors of different sizes where they overlap (ONNX: Pad)."""

    def __init__(self, layers: list[tuple]):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.layers, self.nodes, self.weights = layers, [], []

    def node(self, op: str, inputs: list[str], **attributes) -> str:
        output = f"t{len(self.nodes)}"
        self.nodes.append(self.helper.make_node(op, inputs, [output], **attributes))
        return output

    def constant(self, values: np.ndarray) -> str:
        name = f"w{len(self.weights)}"
        self.weights.append(self.numpy_helper.from_array(np.ascontiguousarray(values), name))
        return name

    def model(self) -> bytes:
        from onnx import TensorProto
        layers = self.layers
        # dlib's input layer: subtract the training mean per channel, divide by 256.
        x = self.node("Sub", ["chip", self.constant(layers[0][1].reshape(1, 3, 1, 1))])
        x = self.node("Mul", [x, self.constant(np.array(1 / 256, np.float32))])
        shape = (CHIP_SIZE, CHIP_SIZE, 3)
        block_input = shortcut = None  # with their shapes
        after_add = False
        i = 1
        while i < len(layers):
            kind = layers[i][0]
            if kind == "con":
                weights, bias, stride, pad = layers[i][1:]
                if i + 1 < len(layers) and layers[i + 1][0] == "affine":  # fold batch norm into the convolution
                    scale, shift = layers[i + 1][1:]
                    weights, bias = weights * scale[:, None, None, None], bias * scale + shift
                    i += 1
                filters, _, rows, cols = weights.shape
                x = self.node("Conv", [x, self.constant(weights), self.constant(bias)], kernel_shape=[rows, cols],
                              strides=[stride, stride], pads=[pad] * 4)
                shape = ((shape[0] + 2 * pad - rows) // stride + 1, (shape[1] + 2 * pad - cols) // stride + 1, filters)
            elif kind == "affine":
                raise FaceError("resnet model: an affine layer not after a convolution")
            elif kind == "relu":
                x = self.node("Relu", [x])
                if after_add:  # the residual block's output is the next block's input
                    block_input, after_add = (x, shape), False
            elif kind == "max":
                size, stride = layers[i][1:]
                x = self.node("MaxPool", [x], kernel_shape=[size, size], strides=[stride, stride])
                shape = _pooled(shape, size, stride)
                block_input = (x, shape)
            elif kind == "avg" and layers[i][1] == 0:  # avg_pool_everything
                x = self.node("Flatten", [self.node("GlobalAveragePool", [x])])
            elif kind == "avg":  # the shortcut of a down-sampling block
                size, stride = layers[i][1:]
                pooled = self.node("AveragePool", [block_input[0]], kernel_shape=[size, size], strides=[stride, stride])
                shortcut = (pooled, _pooled(block_input[1], size, stride))
            elif kind == "add":
                other = block_input if shortcut is None else shortcut
                total = tuple(max(p, q) for p, q in zip(shape, other[1]))
                x = self.node("Add", [self.padded(x, shape, total), self.padded(*other, total)])
                shape, shortcut, after_add = total, None, True
            elif kind == "fc":
                x = self.node("MatMul", [x, self.constant(layers[i][1])])
            i += 1
        self.nodes[-1].output[0] = "descriptor"
        helper = self.helper
        graph = helper.make_graph(
            self.nodes, "dlib_face_recognition_resnet_model_v1",
            [helper.make_tensor_value_info("chip", TensorProto.FLOAT, [1, 3, CHIP_SIZE, CHIP_SIZE])],
            [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, [1, 128])], self.weights)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()

    def padded(self, tensor: str, shape: tuple, total: tuple) -> str:
        """dlib's add_prev: zeros where the smaller tensor has no values (ONNX pads are NCHW begins, then ends)."""
        if shape == total:
            return tensor
        ends = [0, total[2] - shape[2], total[0] - shape[0], total[1] - shape[1]]
        return self.node("Pad", [tensor, self.constant(np.array([0, 0, 0, 0, *ends], np.int64))])


def _pooled(shape: tuple, size: int, stride: int) -> tuple:
    return ((shape[0] - size) // stride + 1, (shape[1] - size) // stride + 1, shape[2])
