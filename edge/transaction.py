"""One traveller's transaction as an explicit state machine over a graph of steps.

The transaction moves through four phases, in this order only:

    PRESENTED -> CHECKING -> DECIDED -> CLOSED

While CHECKING, each step starts as soon as the steps it needs are finished,
so steps that do not depend on each other run at the same time (the chip is
read while the face is captured; the 1:N search starts once there is a live
template, without waiting for the last chip block). Every step has a time
budget. A step still running when its budget is spent is marked OVER_BUDGET:
its checks become `not_done` ("no answer within N ms"), the steps that need it
run without its value, and the policy refers the traveller. A step that
raises is marked FAILED the same way. A step whose required input is missing
(no valid MRZ, say) is SKIPPED, and so is every step that needs it.

Nothing here knows about devices or services: a step is a name, what it
needs, a budget and a function. edge.gate declares the gate's steps.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from drivers.checks import Check

log = logging.getLogger(__name__)


class Phase(str, Enum):
    PRESENTED = "presented"  # a document is on the reader
    CHECKING = "checking"    # the steps run
    DECIDED = "decided"      # the policy has decided: the gate opens or refers
    # The crossing record was handed on: to central, to the gate's outbox, or (where
    # neither took it) to the officer, with the reason in the outcome.
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


_NEXT = {Phase.PRESENTED: Phase.CHECKING, Phase.CHECKING: Phase.DECIDED, Phase.DECIDED: Phase.CLOSED}


class StepState(str, Enum):
    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    OVER_BUDGET = "over_budget"
    FAILED = "failed"      # raised an exception: a bug, reported as checks not done
    SKIPPED = "skipped"    # a required input is missing

    def __str__(self) -> str:
        return self.value


FINISHED = {StepState.DONE, StepState.OVER_BUDGET, StepState.FAILED, StepState.SKIPPED}


class InvalidTransition(RuntimeError):
    """A phase change the state machine does not allow (a bug in the caller)."""


@dataclass
class StepResult:
    """What a step produced: a value for the steps that need it, and its checks."""
    value: Any = None
    checks: list[Check] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[dict[str, Any]], StepResult]  # called with the values of `needs`, by name
    budget_s: float
    needs: tuple[str, ...] = ()
    # Needs whose value must not be None: without it the step is skipped.
    requires: tuple[str, ...] = ()
    # The checks this step owes: reported not_done when it is late or raises.
    owes: tuple[str, ...] = ()


@dataclass
class StepRecord:
    name: str
    budget_ms: float
    state: StepState = StepState.WAITING
    started_ms: float | None = None  # since the document was presented
    elapsed_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state.value, "budget_ms": self.budget_ms,
                "started_ms": self.started_ms, "elapsed_ms": self.elapsed_ms}


class Transaction:
    """Runs the steps of one traveller and keeps the phase, with the time each phase began."""

    def __init__(self, steps: list[Step], pool: Executor, clock: Callable[[], float] = time.perf_counter,
                 on_step: Callable[[StepRecord, Any, list[Check]], None] | None = None):
        names = [step.name for step in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names repeat: {names}")
        for step in steps:
            unknown = set(step.needs) - set(names[:names.index(step.name)])
            if unknown or not set(step.requires) <= set(step.needs):
                raise ValueError(f"step {step.name!r} needs {sorted(unknown) or step.requires} "
                                 "not declared before it")
        self.steps = steps
        self.pool = pool
        self.clock = clock
        self.started = clock()
        self.phase = Phase.PRESENTED
        self.phase_ms: dict[str, float] = {Phase.PRESENTED.value: 0.0}
        self.records = {step.name: StepRecord(step.name, round(step.budget_s * 1000, 1)) for step in steps}
        # Told of each step as it ends, with its value and checks (the officer desk's live screen).
        self.on_step = on_step

    def elapsed_ms(self) -> float:
        return round((self.clock() - self.started) * 1000, 1)

    def advance(self, to: Phase) -> None:
        if _NEXT.get(self.phase) is not to:
            raise InvalidTransition(f"{self.phase} -> {to}")
        self.phase = to
        self.phase_ms[to.value] = self.elapsed_ms()

    def run(self) -> tuple[dict[str, Any], list[Check]]:
        """Run every step; their values by name, and their checks in declaration order."""
        self.advance(Phase.CHECKING)
        values: dict[str, Any] = {}
        checks: dict[str, list[Check]] = {step.name: [] for step in self.steps}
        running: dict[Future, Step] = {}
        deadlines: dict[str, float] = {}
        while True:
            for step in self.steps:
                record = self.records[step.name]
                if record.state is not StepState.WAITING:
                    continue
                needed = [self.records[name] for name in step.needs]
                if any(r.state is StepState.SKIPPED for r in needed) or any(
                        self.records[name].state in FINISHED and values.get(name) is None for name in step.requires):
                    record.state = StepState.SKIPPED
                    self._tell(record, None, [])
                    continue
                if all(r.state in FINISHED for r in needed):
                    record.state, record.started_ms = StepState.RUNNING, self.elapsed_ms()
                    inputs = {name: values.get(name) for name in step.needs}
                    running[self.pool.submit(step.run, inputs)] = step
                    deadlines[step.name] = self.clock() + step.budget_s
            if not running:
                break
            soonest = min(deadlines[step.name] for step in running.values())
            done, _ = wait(list(running), timeout=max(0.0, soonest - self.clock()), return_when=FIRST_COMPLETED)
            for future in done:
                step = running.pop(future)
                values[step.name], checks[step.name] = self._finish(step, future)
                self._tell(self.records[step.name], values[step.name], checks[step.name])
            now = self.clock()
            for future, step in list(running.items()):
                if now >= deadlines[step.name]:
                    # The thread cannot be stopped; its late answer is dropped.
                    del running[future]
                    record = self.records[step.name]
                    record.state = StepState.OVER_BUDGET
                    record.elapsed_ms = round(self.elapsed_ms() - record.started_ms, 1)
                    values[step.name] = None
                    checks[step.name] = [Check.not_done(name, f"no answer within its budget of "
                                                              f"{record.budget_ms:.0f} ms") for name in step.owes]
                    self._tell(record, None, checks[step.name])
        return values, [check for step in self.steps for check in checks[step.name]]

    def _tell(self, record: StepRecord, value: Any, checks: list[Check]) -> None:
        if self.on_step is None:
            return
        try:
            self.on_step(record, value, checks)
        except Exception:  # a broken screen must not stop the transaction
            log.exception("reporting step %s failed", record.name)

    def _finish(self, step: Step, future: Future) -> tuple[Any, list[Check]]:
        record = self.records[step.name]
        record.elapsed_ms = round(self.elapsed_ms() - record.started_ms, 1)
        try:
            result = future.result()
        except Exception as exc:  # a bug in a step must not stop the gate
            log.exception("gate step %s failed", step.name)
            record.state = StepState.FAILED
            return None, [Check.not_done(name, f"step {step.name} failed: {exc}") for name in step.owes]
        record.state = StepState.DONE
        return result.value, list(result.checks)

    def step_records(self) -> list[StepRecord]:
        return [self.records[step.name] for step in self.steps]
