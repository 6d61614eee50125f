"""Face templates and their comparison."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivers import face_score
from drivers.face.detection import Face, detect_faces
from drivers.face.encoder import Encoder, default_encoder
from drivers.face.errors import FaceError, NoFaceError

# Operating threshold on the dlib Euclidean distance, calibrated on the real photos
# (`limes face calibrate`, reasoning in docs/FACE.md): genuine pairs reach 0.53,
# impostor pairs start at 0.66 (README of the photos). 0.58 sits in that gap,
# nearer the genuine side, because at a border a false accept costs more than a
# false reject (which only sends the traveller to the manual booth).
DEFAULT_MAX_DISTANCE = 0.58

# The score is drivers.face_score's fixed logistic of the distance, the same
# one the matcher reports, independent of any threshold passed to compare().


@dataclass(frozen=True)
class FaceTemplate:
    vector: np.ndarray  # float32, shape (dimension,)
    model: str
    model_version: str

    def to_bytes(self) -> bytes:
        """Little-endian float32, the layout stored in databases and sent over gRPC."""
        return self.vector.astype("<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, model: str, model_version: str, dimension: int = 128) -> "FaceTemplate":
        if len(data) != 4 * dimension:
            raise FaceError(f"template: expected {4 * dimension} bytes for {dimension} floats, got {len(data)}")
        vector = np.frombuffer(data, dtype="<f4").astype(np.float32)
        if not np.all(np.isfinite(vector)):
            raise FaceError("template: vector holds NaN or infinite values")
        return cls(vector=vector, model=model, model_version=model_version)


@dataclass(frozen=True)
class Verification:
    distance: float
    score: float  # 0..1, higher = more similar; see score_from_distance
    threshold: float
    match: bool


def score_from_distance(distance: float) -> float:
    """Monotone decreasing map of distance to a similarity score in [0, 1)."""
    return face_score.score(distance)


def encode_face(rgb: np.ndarray, face: Face | None = None, *, encoder: Encoder | None = None) -> FaceTemplate:
    """Template of `face`, or of the largest face in the image when none is given."""
    encoder = encoder or default_encoder()
    if face is None:
        faces = detect_faces(rgb)
        if not faces:
            raise NoFaceError("no face found in the image")
        face = faces[0]
    vector = encoder.encode(rgb, face)
    if vector.shape != (encoder.dimension,):
        raise FaceError(f"encoder {encoder.name} returned shape {vector.shape}, expected ({encoder.dimension},)")
    return FaceTemplate(vector=vector, model=encoder.name, model_version=encoder.version)


def compare(a: FaceTemplate, b: FaceTemplate, threshold: float | None = None) -> Verification:
    """Verify two templates: match when their distance is at most the threshold."""
    if (a.model, a.model_version) != (b.model, b.model_version):
        raise FaceError(
            f"templates of different models are never compared: "
            f"{a.model} {a.model_version} vs {b.model} {b.model_version}"
        )
    if a.vector.shape != b.vector.shape:
        raise FaceError(f"template shapes differ: {a.vector.shape} vs {b.vector.shape}")
    limit = DEFAULT_MAX_DISTANCE if threshold is None else float(threshold)
    distance = float(np.linalg.norm(a.vector.astype(np.float64) - b.vector.astype(np.float64)))
    return Verification(
        distance=distance, score=score_from_distance(distance), threshold=limit, match=distance <= limit
    )
