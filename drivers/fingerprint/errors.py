"""Errors of the fingerprint library."""
from __future__ import annotations


class FingerprintError(Exception):
    """An image, record or template cannot be used; the message says why."""
