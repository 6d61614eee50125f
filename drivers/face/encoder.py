"""Face template extractors behind one small interface.

The default is dlib's ResNet (the model behind face_recognition). Another model,
for example an ArcFace-class network exported to ONNX, plugs in by implementing
`Encoder` (see docs/FACE.md); templates carry the encoder's name and version so
that templates of different models are never compared.
"""
from __future__ import annotations

import functools
from typing import Protocol, runtime_checkable

import dlib
import numpy as np

from drivers.face import resnet
from drivers.face.detection import Face
from drivers.face.errors import FaceError
from drivers.face.models import DLIB_LOCK, resnet_model


@runtime_checkable
class Encoder(Protocol):
    name: str
    version: str
    dimension: int

    def encode(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        """The face's feature vector, float32 of length `dimension`."""


class DlibResNetEncoder:
    """dlib_face_recognition_resnet_model_v1: 128-d, compared by Euclidean distance.

    Alignment uses the 68 landmarks already fitted by detect_faces (face_recognition
    fits a separate 5-point model), so distances differ slightly from
    face_recognition's; the version records that.

    backend "onnxruntime" (default) runs the same network in ONNX Runtime
    (drivers.face.resnet, about 7x faster here); "dlib" runs dlib's own code. Both
    give the same vector within 1e-6, so their templates are interchangeable.
    """

    name = "dlib-resnet-v1"
    version = "1.0-68pt"
    dimension = 128

    def __init__(self, backend: str = "onnxruntime") -> None:
        if backend not in ("onnxruntime", "dlib"):
            raise FaceError(f"encoder backend must be 'onnxruntime' or 'dlib', got {backend!r}")
        self.backend = backend

    def encode(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        image = np.ascontiguousarray(rgb)
        if self.backend == "dlib":
            with DLIB_LOCK:
                vector = resnet_model().compute_face_descriptor(image, face.dlib_shape())
            return np.asarray(vector, dtype=np.float32)
        chip = dlib.get_face_chip(image, face.dlib_shape(), size=resnet.CHIP_SIZE, padding=resnet.CHIP_PADDING)
        return resnet.descriptor(chip)


@functools.cache
def default_encoder() -> Encoder:
    return DlibResNetEncoder()
