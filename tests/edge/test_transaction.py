"""The transaction state machine: phases in order only, steps as soon as their needs are met,
budgets that turn a stalled step into checks not done, and skipped steps without their input."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from drivers.checks import Check, CheckStatus
from edge.transaction import InvalidTransition, Phase, Step, StepResult, StepState, Transaction


@pytest.fixture
def pool():
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


def passed(name, value=None):
    return lambda _: StepResult(value, [Check.passed(name, "ok")])


def test_phases_only_move_forward_one_at_a_time(pool):
    transaction = Transaction([Step("a", passed("a"), 1.0)], pool)
    assert transaction.phase is Phase.PRESENTED
    with pytest.raises(InvalidTransition, match="presented -> decided"):
        transaction.advance(Phase.DECIDED)
    transaction.run()
    transaction.advance(Phase.DECIDED)
    transaction.advance(Phase.CLOSED)
    with pytest.raises(InvalidTransition):
        transaction.advance(Phase.CHECKING)
    assert list(transaction.phase_ms) == ["presented", "checking", "decided", "closed"]


def test_independent_steps_overlap_and_dependents_wait_for_their_needs(pool):
    both_running = threading.Barrier(2, timeout=2)
    order = []

    def device(name):
        def run(_):
            both_running.wait()  # deadlocks (BrokenBarrierError) unless the two run at the same time
            order.append(name)
            return StepResult(name, [Check.passed(name, "ok")])
        return run

    def combine(values):
        order.append("combine")
        return StepResult(values["chip"] + "+" + values["camera"], [Check.passed("combined", "ok")])

    transaction = Transaction([Step("chip", device("chip"), 5.0), Step("camera", device("camera"), 5.0),
                               Step("combine", combine, 5.0, needs=("chip", "camera"))], pool)
    values, checks = transaction.run()
    assert values["combine"] == "chip+camera" and order[-1] == "combine"
    assert [c.name for c in checks] == ["chip", "camera", "combined"]  # declaration order, not finishing order
    assert all(r.state is StepState.DONE for r in transaction.step_records())


def test_a_step_over_its_budget_owes_checks_not_done_and_the_rest_goes_on(pool):
    release = threading.Event()

    def stalled(_):
        release.wait(5)
        return StepResult("late", [Check.passed("chip.read", "too late to count")])

    transaction = Transaction([
        Step("chip", stalled, 0.1, owes=("chip.read",)),
        Step("alerts", passed("alerts.document"), 1.0),
        Step("verify", lambda v: StepResult(v["chip"], [Check.not_done("face.verification", "no document photo")]
                                            if v["chip"] is None else []), 1.0, needs=("chip",)),
    ], pool)
    started = time.monotonic()
    values, checks = transaction.run()
    release.set()
    assert time.monotonic() - started < 2
    chip = transaction.records["chip"]
    assert chip.state is StepState.OVER_BUDGET and chip.elapsed_ms >= 100
    assert values["chip"] is None and values["verify"] is None
    assert [(c.name, c.status, c.reason) for c in checks] == [
        ("chip.read", CheckStatus.NOT_DONE, "no answer within its budget of 100 ms"),
        ("alerts.document", CheckStatus.PASS, "ok"),
        ("face.verification", CheckStatus.NOT_DONE, "no document photo")]


def test_a_step_that_raises_owes_checks_not_done(pool):
    def broken(_):
        raise RuntimeError("driver bug")

    transaction = Transaction([Step("camera", broken, 1.0, owes=("face.capture", "face.liveness"))], pool)
    _, checks = transaction.run()
    assert transaction.records["camera"].state is StepState.FAILED
    assert [(c.name, c.reason) for c in checks] == [("face.capture", "step camera failed: driver bug"),
                                                    ("face.liveness", "step camera failed: driver bug")]


def test_without_a_required_input_the_step_and_its_dependents_are_skipped(pool):
    ran = []

    def record(name):
        def run(_):
            ran.append(name)
            return StepResult(name)
        return run

    transaction = Transaction([
        Step("mrz", lambda _: StepResult(None, [Check.failed("mrz.valid", "check digit")]), 1.0),
        Step("chip", record("chip"), 1.0, needs=("mrz",), requires=("mrz",)),
        Step("verify", record("verify"), 1.0, needs=("chip",)),
    ], pool)
    _, checks = transaction.run()
    assert ran == [] and [c.name for c in checks] == ["mrz.valid"]
    assert [r.state for r in transaction.step_records()] == [StepState.DONE, StepState.SKIPPED, StepState.SKIPPED]


def test_steps_must_be_declared_after_what_they_need(pool):
    with pytest.raises(ValueError, match="needs"):
        Transaction([Step("verify", passed("v"), 1.0, needs=("chip",)), Step("chip", passed("c"), 1.0)], pool)
    with pytest.raises(ValueError, match="repeat"):
        Transaction([Step("chip", passed("c"), 1.0), Step("chip", passed("c"), 1.0)], pool)
