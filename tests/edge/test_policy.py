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
