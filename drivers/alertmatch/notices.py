"""What an alert hit asks of a gate: refer the traveller to an officer, or let them through and report.

The rule, the same at central and at the gate (docs/FEEDS.md, Notices at the gate):
- every document alert refers (a lost, stolen, revoked or invalidated document never opens a gate);
- a person alert refers, unless it is a discreet check carrying a green or a purple notice
  (or diffusion): those warn and inform, so the gate lets the traveller through and the hit
  stands in the crossing's record for the issuing agency.
Red, yellow, blue, black and orange notices always refer, whatever the alert's reason.
"""
from __future__ import annotations

INFORMING_NOTICES = frozenset({"GREEN", "PURPLE"})
INFORMING_REASON = "DISCREET_CHECK"


def person_hit_refers(reason: str, notice: str) -> bool:
    """Whether a hit on a person alert of this reason and notice colour ("" for none) refers."""
    return not (reason.upper() == INFORMING_REASON and notice.upper() in INFORMING_NOTICES)


def notice_label(notice: str, kind: str = "") -> str:
    """"red notice", "green diffusion"; "" when the alert carries no notice."""
    if not notice:
        return ""
    return f"{notice.lower()} {'diffusion' if kind.upper() == 'DIFFUSION' else 'notice'}"


def category_label(category: str) -> str:
    """"stolen blank", "lost"; "" when the alert has no category."""
    return category.lower().replace("_", " ")
