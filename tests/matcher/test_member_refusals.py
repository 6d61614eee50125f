"""What a cluster member refuses without asking the stream: writes (through the router only) and
finger galleries (the gallery stream carries no finger changes yet)."""
from __future__ import annotations

import grpc
import pytest

from matcher.member import MemberServicer


class _Aborted(Exception):
    pass


class _Context:
    def abort(self, code, details):
        self.code, self.details = code, details
        raise _Aborted


@pytest.mark.parametrize("method", ["CreateFingerGallery", "FingerEnrol", "FingerRemove", "FingerVerify",
                                    "FingerSearch"])
def test_a_member_refuses_finger_calls_as_unimplemented(method):
    context = _Context()
    servicer = object.__new__(MemberServicer)  # no member is needed to refuse
    with pytest.raises(_Aborted):
        getattr(servicer, method)(object(), context)
    assert context.code is grpc.StatusCode.UNIMPLEMENTED
    assert "embedded matcher only" in context.details


@pytest.mark.parametrize("method", ["CreateGallery", "Enrol", "EnrolBatch", "Remove"])
def test_a_member_sends_writes_to_the_router(method):
    context = _Context()
    with pytest.raises(_Aborted):
        getattr(object.__new__(MemberServicer), method)(object(), context)
    assert context.code is grpc.StatusCode.FAILED_PRECONDITION
    assert "through the router" in context.details
