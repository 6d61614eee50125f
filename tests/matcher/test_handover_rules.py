"""The handover's rules (matcher.handover) and the router's order of replicas, without servers."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.cluster_router import askable
from matcher.handover import LIVE_FOR, answer_order, steady, turn_comes

NOW = 1000.0


def report(name: str, version: int, *, serving=True, moving=False, settled=True, at=NOW, set_name=None) -> dict:
    return {"name": name, "set": set_name or name[0], "address": f"{name}:1", "applied": 0, "version": version,
            "serving": serving, "moving": moving, "settled": settled, "at": at}


def test_the_first_replica_by_name_goes_first_and_the_next_waits_until_it_is_steady_again():
    assert turn_comes("A1", "A", 5, [report("A1", 4), report("A2", 4)], NOW)
    assert not turn_comes("A2", "A", 5, [report("A1", 4), report("A2", 4)], NOW)  # A1 has not moved
    assert not turn_comes("A2", "A", 5, [report("A1", 5, moving=True), report("A2", 4)], NOW)  # lagging still
    assert not turn_comes("A2", "A", 5, [report("A1", 5, settled=False), report("A2", 4)], NOW)  # rebuilding
    assert not turn_comes("A2", "A", 5, [report("A1", 5, serving=False), report("A2", 4)], NOW)  # catching up
    assert turn_comes("A2", "A", 5, [report("A1", 5), report("A2", 4)], NOW)
    assert turn_comes("A2", "A", 5, [report("A1", 6), report("A2", 4)], NOW)  # already further on


def test_other_sets_and_silent_replicas_are_not_waited_for():
    members = [report("B1", 1, moving=True), report("A1", 4, at=NOW - LIVE_FOR), report("A2", 4)]
    assert turn_comes("A2", "A", 5, members, NOW)


def test_a_moving_replica_is_asked_last_and_only_serving_fresh_ones_at_all():
    members = [report("A1", 5, moving=True), report("A2", 5), report("A3", 5, serving=False),
               report("B1", 5, moving=True)]
    assert answer_order(members[:2]) == ([members[1]], [members[0]])
    assert askable(members, NOW) == {"A": [["A2:1"], ["A1:1"]], "B": [["B1:1"]]}


@settings(max_examples=200, deadline=None)
@given(replicas=st.integers(1, 4), schedule=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), max_size=80))
def test_two_replicas_of_a_set_never_move_at_once(replicas, schedule):
    """Members follow the rule in any interleaving (each step: one member looks at the others' reports
    and moves if its turn came, or a moving member finishes): at most one moves at a time, and once
    the schedule has run long enough every replica has taken the version."""
    names = [f"A{i + 1}" for i in range(replicas)]
    state = {name: report(name, 1) for name in names}
    target = 2

    def step(name: str, action: int) -> None:
        me = state[name]
        if me["moving"] and action == 0:
            me.update(moving=False)  # caught up again
        elif me["version"] < target and turn_comes(name, "A", target, list(state.values()), NOW):
            me.update(moving=True, version=target)
        assert sum(m["moving"] for m in state.values()) <= 1, state

    for member, action in schedule:
        step(names[member % replicas], action)
    for _ in range(replicas):  # then each in order of its name, to the end
        for name in names:
            step(name, 1)
            step(name, 0)
    assert all(m["version"] == target and steady(m) for m in state.values())
