"""Errors of the central service, each naming what was wrong so a caller can act on it.

The gRPC layer maps them to status codes; the domain code never imports grpc.
"""
from __future__ import annotations


class CentralError(Exception):
    """Base of every error central reports to a caller."""


class InvalidArgument(CentralError):
    """A request field is missing or malformed (gRPC INVALID_ARGUMENT)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(CentralError):
    """A referenced record does not exist (gRPC NOT_FOUND)."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key


class FailedPrecondition(CentralError):
    """The request is well-formed but the stored state does not allow it (gRPC FAILED_PRECONDITION)."""


class AlreadyExists(CentralError):
    """An idempotency key was reused for a different request (gRPC ALREADY_EXISTS)."""


class Unavailable(CentralError):
    """A service central depends on (the matcher) did not answer fully (gRPC UNAVAILABLE).

    An alert check that could not be completed must not look like "no hit".
    """
