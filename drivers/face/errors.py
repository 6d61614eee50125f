"""Errors of the face library."""
from __future__ import annotations


class FaceError(Exception):
    """An image cannot be used or two templates cannot be compared; the message says why."""


class NoFaceError(FaceError):
    """No face was found where one was needed."""
