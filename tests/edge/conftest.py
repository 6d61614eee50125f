"""Fixtures shared by the gate's tests."""
from __future__ import annotations

from tests.edge.test_gate import photos  # noqa: F401 (the real photos of test_gate, for test_evidence too)
