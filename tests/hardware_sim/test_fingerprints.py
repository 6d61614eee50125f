"""Synthetic fingerprints: master prints by pattern class, impressions, all from seeds."""
from __future__ import annotations

import numpy as np
import pytest

from drivers.fingerprint import ridges
from hardware_sim.fingerprints.impression import HEIGHT, WIDTH, Touch, make_impression
from hardware_sim.fingerprints.master import make_master


def test_same_seeds_same_prints():
    assert np.array_equal(make_master(4).ridges, make_master(4).ridges)
    assert np.array_equal(make_impression(make_master(4), Touch(2)), make_impression(make_master(4), Touch(2)))
    assert not np.array_equal(make_impression(make_master(4), Touch(2)), make_impression(make_master(4), Touch(3)))


@pytest.mark.parametrize("pattern, cores, deltas", [("arch", 0, 0), ("tented_arch", 1, 1), ("left_loop", 1, 1),
                                                     ("right_loop", 1, 1), ("whorl", 2, 2)])
def test_pattern_classes_have_their_singular_points(pattern, cores, deltas):
    master = make_master(11, pattern)
    assert (master.pattern, len(master.cores), len(master.deltas)) == (pattern, cores, deltas)
    assert master.ridges.min() >= -1 and master.ridges.max() <= 1


def test_loops_lean_the_way_their_class_says():
    left, right = make_master(5, "left_loop"), make_master(5, "right_loop")
    assert left.deltas[0][0] < left.cores[0][0] and right.deltas[0][0] > right.cores[0][0]


def test_master_ridges_run_at_the_chosen_period():
    master = make_master(6)
    measured = ridges.period(master.ridges, master.shape)
    assert abs(measured - master.ridge_period) < 1.5


def test_impressions_are_moved_and_cut_more_when_harder():
    master = make_master(8)
    clean = make_impression(master, Touch(0, 0.2, "normal"))
    hard = make_impression(master, Touch(0, 3.0, "normal"))
    assert clean.shape == hard.shape == (HEIGHT, WIDTH)
    assert ridges.foreground(clean).mean() > ridges.foreground(hard).mean()


def test_dry_skin_prints_less_ink_than_wet():
    master = make_master(8)
    dry = make_impression(master, Touch(0, 1.0, "dry"))
    wet = make_impression(master, Touch(0, 1.0, "wet"))
    assert dry.mean() > wet.mean() + 5
