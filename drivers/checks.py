"""The outcome of one document check, shared by every verifier.

Passive authentication, MRZ, chip and face checks all report a list of
Check values so that the gate and the officer page can show them the same
way: a stable machine name, a status and a reason a person can read.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterable


class CheckStatus(str, Enum):
    # str-valued so that JSON output and comparisons with 'pass' just work
    PASS = "pass"
    FAIL = "fail"
    NOT_DONE = "not_done"  # could not be performed; says nothing about the document

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    reason: str = ""

    def __post_init__(self) -> None:
        # accept the plain strings 'pass' / 'fail' / 'not_done' too
        object.__setattr__(self, "status", CheckStatus(self.status))

    @classmethod
    def passed(cls, name: str, reason: str = "") -> "Check":
        return cls(name, CheckStatus.PASS, reason)

    @classmethod
    def failed(cls, name: str, reason: str) -> "Check":
        return cls(name, CheckStatus.FAIL, reason)

    @classmethod
    def not_done(cls, name: str, reason: str) -> "Check":
        return cls(name, CheckStatus.NOT_DONE, reason)

    @property
    def ok(self) -> bool:
        return self.status is CheckStatus.PASS

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status.value, "reason": self.reason}


def any_failed(checks: Iterable[Check]) -> bool:
    return any(check.status is CheckStatus.FAIL for check in checks)
