"""The decision policy: which check results open the gate and which refer.

The default follows the Frontex ABC guidelines: any failed document check,
failed passive authentication, face mismatch, liveness failure, alert hit or
high risk refers the traveller to an officer. A check that could not be done
(`not_done`) also refers when the policy names it as required: a gate that
cannot see an alert list must not open on that list's silence.

Clone detection (drivers.emrtd.checks): a chip that offers Chip Authentication
or Active Authentication must pass it, so a failed `chip.ca` or `chip.aa`
refers like any failed check; a chip that offers neither (older passports)
has them `not_done`, which opens by default. `require_clone_detection=True`
refers such chips too: nothing tells them from a copy of their data.

The authorised stay (`stay.days_left`, entry gates only: an exit gate has no stay to authorise) is
central's answer, as no copy at the gate knows the traveller's past stays. No day left fails it
(refusal ground F, or C for a visa). Central unreachable leaves it `not_done` with a reason starting
"central unreachable:" (UNREACHABLE_MARK), and that refers like any required check, unless
`offline_may_open` is True: an authority that lets the gate open on its offline alert copy has
accepted deciding without central, so there the unchecked stay is advisory (noted in the record,
which central judges on arrival, and the exit counts any overstay). The gate cannot tell a visa-exempt
traveller from one who needs a visa without central, so this holds for both.

A check answered from the gate's own copy while central is unreachable (the
offline alert cache) says so at the start of its reason (OFFLINE_MARK). By
default such an answer does not open the gate (`offline_may_open=False`): the
copy may miss an alert issued since its last refresh, so the traveller is
referred. A border authority that accepts that risk sets it to True, and
bounds it with `offline_max_age_s` (default a day): an answer from a copy
older than that is no answer (`not_done`), and refers whatever the policy.

Risk (central's AssessRisk: the analysts' risk profiles and the risk rules): a score at or above
`risk_refer_at` fails `risk.score`, which refers like any failed check. Its reason (what fired)
goes to the officer with the referral; the traveller's screen says only to see an officer. A risk
that could not be assessed (central down) is `not_done` and, as the check is not required by
default, does not refer on its own.

Fingers (`finger.verification`, edge.fingerprints) are verified only when the chip holds fingers this gate
may read; so the check is required when made: absent, no referral; failed or not done, the traveller is
referred (a scanner fault or a poor image refers, never opens). So are the fingers of a traveller file
(`finger.file_verification`): verified at central when the file holds fingers and the chip none.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from drivers.checks import Check, CheckStatus


class Decision(str, Enum):
    OPEN = "open"
    REFER = "refer"

    def __str__(self) -> str:
        return self.value


# The start of the reason of a check answered offline, e.g. "offline: cached alert list version 12, 3 minutes old".
OFFLINE_MARK = "offline:"


def answered_offline(check: Check) -> bool:
    return check.reason.startswith(OFFLINE_MARK)


# The start of the reason of a check that could not be made because central was not reached.
UNREACHABLE_MARK = "central unreachable:"
# Checks made at entry gates only; an exit gate neither makes nor needs them.
ENTRY_ONLY = ("stay.days_left",)
# Checks that only central can answer, advisory when central is unreachable and offline_may_open is True.
OFFLINE_ADVISORY = ("stay.days_left",)

# The chip's proofs that it is not a copy; not_done means the chip offers neither.
CLONE_DETECTION = ("chip.ca", "chip.aa")

# Checks made only for some travellers: the fingers of a chip that holds them (edge.fingerprints). Absent,
# they are no reason to refer; made, they must pass, and one that could not be done refers.
REQUIRED_WHEN_MADE = ("finger.verification", "finger.file_verification")
# Every check the skeleton gate performs; each must pass for the gate to open.
DEFAULT_REQUIRED = (
    "mrz.valid",
    "document.expiry",
    "chip.read",
    "face.capture",
    "face.liveness",
    "face.verification",
    "alerts.document",
    "alerts.person",
    "watchlist.face",
    "stay.days_left",
    "traveller.file",
)


@dataclass(frozen=True)
class Policy:
    required: tuple[str, ...] = DEFAULT_REQUIRED
    required_when_made: tuple[str, ...] = REQUIRED_WHEN_MADE
    # Checks that may be not_done without referring (e.g. no chip on an older document).
    optional: frozenset[str] = field(default_factory=frozenset)
    # May a passed check answered from the gate's offline copy open the gate?
    offline_may_open: bool = False
    # How old that copy may be, in seconds, for its "no alert" to count at all.
    offline_max_age_s: float = 24 * 3600.0
    # Refer a chip that offers neither Chip nor Active Authentication?
    require_clone_detection: bool = False
    # The risk score (0..1) from which the traveller is referred.
    risk_refer_at: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.risk_refer_at <= 1:
            raise ValueError(f"risk_refer_at must be above 0 and at most 1, not {self.risk_refer_at}")

    def decide(self, checks: list[Check], direction: str = "ENTRY") -> tuple[Decision, list[str]]:
        """The decision and, when referring, every reason an officer should read."""
        by_name = {check.name: check for check in checks}
        reasons = [f"{c.name}: {c.reason}" for c in checks if c.status is CheckStatus.FAIL]
        missing = []
        for name in self.required:
            check = by_name.get(name)
            if check is None:
                if direction == "ENTRY" or name not in ENTRY_ONLY:
                    missing.append(name)
            elif check.status is CheckStatus.NOT_DONE and name not in self.optional \
                    and not (self.offline_may_open and name in OFFLINE_ADVISORY
                             and check.reason.startswith(UNREACHABLE_MARK)):
                reasons.append(f"{name}: could not be checked ({check.reason})")
        for name in self.required_when_made:
            check = by_name.get(name)
            if check is not None and check.status is CheckStatus.NOT_DONE and name not in self.optional:
                reasons.append(f"{name}: could not be checked ({check.reason})")
        if missing:  # one line: after an early failure, the later steps never ran
            reasons.append("not performed: " + ", ".join(missing))
        clone_checks = [by_name[name] for name in CLONE_DETECTION if name in by_name]
        if self.require_clone_detection and clone_checks and not any(c.ok for c in clone_checks) \
                and not any(c.status is CheckStatus.FAIL for c in clone_checks):
            reasons.append("chip.ca, chip.aa: the chip offers neither Chip nor Active Authentication, "
                           "which this policy requires")
        if not self.offline_may_open:
            reasons.extend(f"{c.name}: {c.reason} (central unreachable; offline answers do not open the gate)"
                           for c in checks if c.ok and answered_offline(c))
        return (Decision.REFER, reasons) if reasons else (Decision.OPEN, [])
