from drivers.checks import Check
from edge.policy import DEFAULT_REQUIRED, Decision, Policy


def all_passing():
    return [Check.passed(name) for name in DEFAULT_REQUIRED]


def test_every_required_check_passing_opens():
    assert Policy().decide(all_passing()) == (Decision.OPEN, [])


def test_a_failed_check_refers_with_its_reason():
    checks = all_passing() + [Check.failed("sod.signature", "signature does not verify")]
    decision, reasons = Policy().decide(checks)
    assert decision is Decision.REFER
    assert reasons == ["sod.signature: signature does not verify"]


def test_a_required_check_not_done_refers():
    checks = [c if c.name != "alerts.document" else Check.not_done("alerts.document", "central unavailable")
              for c in all_passing()]
    decision, reasons = Policy().decide(checks)
    assert decision is Decision.REFER
    assert reasons == ["alerts.document: could not be checked (central unavailable)"]


def test_an_optional_check_not_done_does_not_refer():
    checks = [c if c.name != "chip.read" else Check.not_done("chip.read", "no chip")
              for c in all_passing()]
    assert Policy(optional=frozenset({"chip.read"})).decide(checks) == (Decision.OPEN, [])


def test_missing_required_checks_are_listed_on_one_line():
    decision, reasons = Policy().decide([Check.failed("mrz.valid", "bad check digit")])
    assert decision is Decision.REFER
    assert reasons[0] == "mrz.valid: bad check digit"
    assert reasons[1].startswith("not performed: document.expiry, chip.read")


# -- clone detection: a chip that offers Chip or Active Authentication must pass it ------------------------

def test_a_failed_chip_or_active_authentication_refers():
    for name in ("chip.ca", "chip.aa"):
        checks = all_passing() + [Check.failed(name, "the chip does not hold the private key")]
        decision, reasons = Policy().decide(checks)
        assert decision is Decision.REFER and reasons == [f"{name}: the chip does not hold the private key"]


def test_a_chip_offering_neither_opens_by_default_and_refers_when_the_policy_requires_clone_detection():
    checks = all_passing() + [Check.not_done("chip.ca", "no DG14"), Check.not_done("chip.aa", "no DG15")]
    assert Policy().decide(checks) == (Decision.OPEN, [])
    decision, reasons = Policy(require_clone_detection=True).decide(checks)
    assert decision is Decision.REFER and "neither Chip nor Active Authentication" in reasons[0]
    one_passed = all_passing() + [Check.passed("chip.ca", "proved"), Check.not_done("chip.aa", "no DG15")]
    assert Policy(require_clone_detection=True).decide(one_passed) == (Decision.OPEN, [])
    no_chip = all_passing()  # no chip checks at all: chip.read decides
    assert Policy(require_clone_detection=True).decide(no_chip) == (Decision.OPEN, [])
