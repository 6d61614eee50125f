"""What the matcher refuses, each mapped to one gRPC status code by the service."""
from __future__ import annotations


class MatcherError(Exception):
    """Base of the matcher's refusals; the message says which field and why."""


class InvalidArgument(MatcherError):
    pass


class NotFound(MatcherError):
    pass


class AlreadyExists(MatcherError):
    pass


class NotLoaded(MatcherError):
    """A cluster member has not read this gallery from the stream yet: ask another replica."""
