"""Grading of intelligence: the 3x5x2 model, and the mapping from the older 5x5x5 model.

Pure: no database. The 3x5x2 model grades a report on three axes:
- the source: 1 reliable, 2 untested, 3 not reliable;
- the intelligence: A known directly to the source, B known indirectly but corroborated,
  C known indirectly, D not known, E suspected to be false or malicious;
- handling: P (lawful sharing permitted) or C (sharing only under conditions, recorded with it).

The 5x5x5 model graded the source A-E, the intelligence 1-5 and handling 1-5. Legacy records are
mapped as LEGACY_* below; a legacy handling code that restricted sharing becomes C with the old
restriction written as the condition, so nothing that was restricted becomes freely shareable.
"""
from __future__ import annotations

from dataclasses import dataclass

SOURCE_EVALUATIONS = {"1": "reliable", "2": "untested", "3": "not reliable"}
ASSESSMENTS = {"A": "known directly to the source", "B": "known indirectly to the source, corroborated",
               "C": "known indirectly to the source", "D": "not known", "E": "suspected false or malicious"}
HANDLING_CODES = {"P": "lawful sharing permitted", "C": "sharing only under the recorded conditions"}

# The 5x5x5 model's values (National Intelligence Model; as published, e.g., in HMRC's manual MLR3C14000).
LEGACY_SOURCES = {"A": "always reliable", "B": "mostly reliable", "C": "sometimes reliable", "D": "unreliable",
                  "E": "untested source"}
LEGACY_INTELLIGENCE = {"1": "known to be true without reservation", "2": "known personally to the source, not to the "
                       "officer", "3": "not known personally to the source, corroborated", "4": "cannot be judged",
                       "5": "suspected to be false or malicious"}
LEGACY_HANDLING_MEANINGS = {"1": "may go to law enforcement and prosecuting agencies, no special conditions",
                            "2": "may go to non-prosecuting parties in the state, with authorisation and a record",
                            "3": "may go to law enforcement agencies outside the EEA, special conditions apply",
                            "4": "within the originating agency only",
                            "5": "no further dissemination: refer to the originator; special handling"}

# 5x5x5 source evaluation -> 3x5x2. No official one-to-one table is published (docs/INTELLIGENCE.md), so
# the mapping never claims more reliability than the old grade did: only "always reliable" is reliable;
# "mostly reliable" asserts less than that and becomes 2 (reliability not established); "sometimes
# reliable" gives reasonable grounds to doubt, like "unreliable": 3; "untested" stays untested: 2.
LEGACY_SOURCE = {"A": "1", "B": "2", "C": "3", "D": "3", "E": "2"}
# 5x5x5 intelligence evaluation -> 3x5x2 assessment. 2 "known to the source personally" is direct
# knowledge; 4 "cannot be judged" says nothing of how the source knows, so: not known.
LEGACY_ASSESSMENT = {"1": "A", "2": "A", "3": "B", "4": "D", "5": "E"}
# 5x5x5 handling code -> (3x5x2 code, the condition it carries): only 1 is shared without conditions.
LEGACY_HANDLING = {"1": ("P", "")} | {
    code: ("C", f"legacy handling {code}: {meaning}") for code, meaning in LEGACY_HANDLING_MEANINGS.items()
    if code != "1"}
MAX_CONDITIONS = 2000


class GradingError(ValueError):
    """A grading that is not one of the model's values, or a C code without its conditions."""


@dataclass(frozen=True)
class Grading:
    source_evaluation: str
    assessment: str
    handling_code: str
    handling_conditions: str = ""
    legacy: str = ""

    @property
    def code(self) -> str:
        """The grading as analysts write it, e.g. "1B C"."""
        return f"{self.source_evaluation}{self.assessment} {self.handling_code}"

    @property
    def shareable(self) -> bool:
        """Whether it may go to a partner at all: P, or C with its conditions recorded."""
        return self.handling_code == "P" or bool(self.handling_conditions.strip())


def grade(source_evaluation: str, assessment: str, handling_code: str, handling_conditions: str = "",
          legacy: str = "") -> Grading:
    """A checked 3x5x2 grading; GradingError names the axis that is wrong."""
    source_evaluation, assessment = source_evaluation.strip(), assessment.strip().upper()
    handling_code, handling_conditions = handling_code.strip().upper(), handling_conditions.strip()
    if source_evaluation not in SOURCE_EVALUATIONS:
        raise GradingError(f"source evaluation {source_evaluation!r} is not one of 1, 2, 3")
    if assessment not in ASSESSMENTS:
        raise GradingError(f"intelligence assessment {assessment!r} is not one of A, B, C, D, E")
    if handling_code not in HANDLING_CODES:
        raise GradingError(f"handling code {handling_code!r} is not P or C")
    if handling_code == "C" and not handling_conditions:
        raise GradingError("handling code C needs its conditions recorded")
    if handling_code == "P" and handling_conditions:
        raise GradingError("handling code P carries no conditions: use C to share under conditions")
    if len(handling_conditions) > MAX_CONDITIONS:
        raise GradingError(f"the handling conditions are longer than {MAX_CONDITIONS} characters")
    return Grading(source_evaluation, assessment, handling_code, handling_conditions, legacy)


def from_legacy(text: str, conditions: str = "") -> Grading:
    """A 5x5x5 grading written as source, intelligence and handling, e.g. "B24" or "B/2/4", in 3x5x2.

    `conditions`: a restriction the legacy record wrote beside its handling code; it is kept after the
    mapped condition, and turns even a handling 1 into C (a recorded restriction is never dropped)."""
    compact = "".join(ch for ch in text.upper() if ch not in " /-.,")
    if len(compact) != 3 or compact[0] not in LEGACY_SOURCE or compact[1] not in LEGACY_ASSESSMENT \
            or compact[2] not in LEGACY_HANDLING:
        raise GradingError(f"{text[:20]!r} is not a 5x5x5 grading (source A-E, intelligence 1-5, handling 1-5, "
                           "e.g. B24)")
    code, condition = LEGACY_HANDLING[compact[2]]
    extra = " ".join(conditions.split())
    if extra:
        code, condition = "C", f"{condition}; {extra}" if condition else f"legacy restriction: {extra}"
    return grade(LEGACY_SOURCE[compact[0]], LEGACY_ASSESSMENT[compact[1]], code, condition, legacy=compact)
