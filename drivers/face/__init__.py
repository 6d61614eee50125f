"""Face detection, quality and templates over RGB numpy arrays (face_recognition style).

Pure library code shared by the gate (edge) and the central system: no camera,
no network. Landmarks are fitted once per face and reused by quality
assessment and template extraction.
"""
from drivers.face.detection import Face, detect_faces
from drivers.face.encoder import DlibResNetEncoder, Encoder, default_encoder
from drivers.face.errors import FaceError, NoFaceError
from drivers.face.image import load_image
from drivers.face.models import load_models
from drivers.face.quality import QualityMetric, QualityReport, assess_quality, eye_aspect_ratio, head_pose
from drivers.face.template import (
    DEFAULT_MAX_DISTANCE,
    FaceTemplate,
    Verification,
    compare,
    encode_face,
    score_from_distance,
)

__all__ = [
    "DEFAULT_MAX_DISTANCE",
    "DlibResNetEncoder",
    "Encoder",
    "Face",
    "FaceError",
    "FaceTemplate",
    "NoFaceError",
    "QualityMetric",
    "QualityReport",
    "Verification",
    "assess_quality",
    "compare",
    "default_encoder",
    "detect_faces",
    "encode_face",
    "eye_aspect_ratio",
    "head_pose",
    "load_image",
    "load_models",
    "score_from_distance",
]
