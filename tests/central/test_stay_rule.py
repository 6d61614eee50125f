"""central.stays.rule against a plain day-by-day reference, the published worked examples, and its refusals."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.stays.rule import MAX_STAYS, Authorisation, Stay, StayError, authorise

DAY = timedelta(days=1)


def reference(stays: list[Stay], on: date) -> Authorisation:
    """The rule read literally, a day at a time: slow, and plainly what docs/STAYS.md says."""
    recorded = set()
    for stay in stays:
        day = stay.entry
        while day <= (stay.exit or on):
            recorded.add(day)
            day += DAY

    def in_window(t: date, days: set[date]) -> int:
        return sum(1 for back in range(180) if t - back * DAY in days)

    staying_on = set(recorded)
    latest, t = None, on
    while True:
        staying_on.add(t)
        if in_window(t, staying_on) > 90:
            break
        latest, t = t, t + DAY
    return Authorisation(days_used=in_window(on, recorded), latest_exit=latest,
                         days_remaining=0 if latest is None else (latest - on).days + 1,
                         overstay_days=sum(1 for t in recorded if in_window(t, recorded) > 90))


@st.composite
def histories(draw) -> tuple[list[Stay], date]:
    """Stays oldest first, a day or more apart, long and short enough to overstay and not; the last maybe open."""
    day = date(2020, 1, 1) + draw(st.integers(0, 400)) * DAY
    stays = []
    for gap, length in draw(st.lists(st.tuples(st.integers(1, 200), st.integers(1, 120)), max_size=8)):
        entry = day + gap * DAY
        day = entry + (length - 1) * DAY
        stays.append(Stay(entry, day))
    on = day + draw(st.integers(0, 200)) * DAY
    if stays and draw(st.booleans()):
        stays[-1] = Stay(stays[-1].entry)
    return stays, on


@settings(max_examples=300, deadline=None)
@given(histories())
def test_agrees_with_the_day_by_day_reference(history):
    stays, on = history
    assert authorise(stays, on) == reference(stays, on)


@settings(max_examples=100, deadline=None)
@given(histories())
def test_the_figures_hold_together(history):
    stays, on = history
    result = authorise(stays, on)
    assert 0 <= result.days_used <= 180 and 0 <= result.days_remaining <= 90
    if result.latest_exit is None:
        assert result.days_remaining == 0
    else:
        assert result.days_remaining == (result.latest_exit - on).days + 1


def test_no_stays_allow_ninety_days_counting_the_first():
    assert authorise([], date(2025, 1, 1)) == Authorisation(0, date(2025, 3, 31), 90, 0)


# Worked examples of the European Commission's short-stay calculator, as published (with their stamps)
# by Switzerland's State Secretariat for Migration (SEM), https://www.sem.admin.ch/sem/en/home/themen/
# einreise/aufenthaltsrechner/bsp-N.html, examples 2, 4, 5 and 6 (examples 1 and 3 are left out:
# the published stamps of 1 are an image, and 3's table is garbled, its dates not in order).

def test_sem_example_2_legal_stay():
    # 15.08-30.09.2014 (47 days) and 01.11.2014 on, checked at departure on 30.11.2014 (30 days): 77 of 90,
    # and she could have stayed on without interruption until 13 December 2014 (13 days after the check).
    result = authorise([Stay(date(2014, 8, 15), date(2014, 9, 30)), Stay(date(2014, 11, 1))], date(2014, 11, 30))
    assert result == Authorisation(77, date(2014, 12, 13), 14, 0)


def test_sem_example_4_several_entries():
    # 01.06-13.07.2013, 15.08-30.09.2013, 01-30.01.2014, checked at departure on 30.01.2014. The June stay
    # lies before the window (from 03.08.2013); 47 + 30 = 77 days used, and the traveller "could have
    # remained until 31 March 2014": from 11 February each new day is matched by an August or September
    # day leaving the window, until 30 September leaves it on 29 March (88 days then), and 31 March makes 90.
    stays = [Stay(date(2013, 6, 1), date(2013, 7, 13)), Stay(date(2013, 8, 15), date(2013, 9, 30)),
             Stay(date(2014, 1, 1))]
    assert authorise(stays, date(2014, 1, 30)) == Authorisation(77, date(2014, 3, 31), 61, 0)


def test_sem_example_5_shorter_overstay_and_the_return():
    # 21.02-20.04.2014 (59 days) and 01.05-09.06.2014 (40 days): 99 days at departure on 09.06.2014, "over-
    # extended by 9 days" (the 91st day is 1 June, and 1-9 June all exceed). A return on 30.08.2014 (window
    # from 04.03.2014: 48 + 40 = 88 days) allows "up to 50 days", through 18 October 2014.
    stays = [Stay(date(2014, 2, 21), date(2014, 4, 20)), Stay(date(2014, 5, 1), date(2014, 6, 9))]
    assert authorise(stays, date(2014, 6, 9)) == Authorisation(99, None, 0, 9)
    assert authorise(stays, date(2014, 8, 30)) == Authorisation(88, date(2014, 10, 18), 50, 9)


def test_sem_example_6_longer_overstay():
    # Entered 19.09.2013 and checked at departure on 01.03.2014: 164 days in the window 03.09.2013-01.03.2014,
    # an overstay of 74 days (every day from 18 December, the 91st, through 1 March).
    assert authorise([Stay(date(2013, 9, 19))], date(2014, 3, 1)) == Authorisation(164, None, 0, 74)
    # SEM warns that the calculator, given the earlier stay 28.06-09.08.2013 too, reports a "false" overstay.
    # Here that stay counts as it should: outside the window on 1 March, but its 43 days were in the window
    # of every day from 19 September, so the 91st day came on 5 November: 117 days over, 164 used.
    stays = [Stay(date(2013, 6, 28), date(2013, 8, 9)), Stay(date(2013, 9, 19))]
    assert authorise(stays, date(2014, 3, 1)) == Authorisation(164, None, 0, 117)


def test_the_day_checked_counts_only_when_a_stay_covers_it():
    stays = [Stay(date(2024, 1, 1), date(2024, 1, 10))]
    assert authorise(stays, date(2024, 1, 10)).days_used == 10
    assert authorise(stays, date(2024, 1, 11)).days_used == 10
    assert authorise(stays, date(2024, 6, 28)).days_used == 10   # 1 January is day 180 back, still in
    assert authorise(stays, date(2024, 6, 29)).days_used == 9


def test_a_full_ninety_days_leaves_nothing_on_the_next_day():
    stays = [Stay(date(2024, 1, 1), date(2024, 3, 30))]  # 90 days (2024 is a leap year)
    assert authorise(stays, date(2024, 3, 30)) == Authorisation(90, date(2024, 3, 30), 1, 0)
    assert authorise(stays, date(2024, 3, 31)) == Authorisation(90, None, 0, 0)
    # 180 days after 1 January that day leaves the window: one day is free, and from then on each day of
    # a new stay is matched by an old one leaving, so a full 90 days fit again (29 June - 26 September).
    assert authorise(stays, date(2024, 6, 29)) == Authorisation(89, date(2024, 9, 26), 90, 0)


@pytest.mark.parametrize("stays, on, reason", [
    ([Stay(date(2024, 2, 1), date(2024, 1, 1))], date(2024, 3, 1), "stay 1 exits before it enters"),
    ([Stay(date(2024, 3, 2), date(2024, 3, 3))], date(2024, 3, 1), "stay 1 begins after on"),
    ([Stay(date(2024, 2, 1), date(2024, 3, 3))], date(2024, 3, 1), "stay 1 ends after on"),
    ([Stay(date(2024, 1, 1), date(2024, 1, 5)), Stay(date(2024, 1, 5), date(2024, 1, 6))], date(2024, 3, 1),
     "stay 2 overlaps stay 1"),
    ([Stay(date(2024, 2, 1), date(2024, 2, 5)), Stay(date(2024, 1, 1), date(2024, 1, 6))], date(2024, 3, 1),
     "not oldest first"),
    ([Stay(date(2024, 1, 1)), Stay(date(2024, 2, 1), date(2024, 2, 2))], date(2024, 3, 1),
     "stay 1 has no exit but is not the last"),
    ([], date(1, 1, 1), "on 0001-01-01 is outside"),
    ([], date(9999, 12, 31), "outside"),
    ([Stay(date(1, 1, 1), date(1, 1, 2))], date(2024, 3, 1), "stay 1 begins before 1900-01-01"),
    ([Stay(date(2024, 1, 1), date(2024, 1, 1))] * (MAX_STAYS + 1), date(2024, 3, 1), "more than the 1000"),
])
def test_refuses_what_cannot_be_a_record(stays, on, reason):
    with pytest.raises(StayError, match=reason):
        authorise(stays, on)


def test_a_century_long_open_stay_is_answered_without_a_day_by_day_walk():
    result = authorise([Stay(date(1900, 1, 1))], date(2199, 12, 31))
    assert result.days_used == 180 and result.latest_exit is None
    assert result.overstay_days == (date(2199, 12, 31) - date(1900, 1, 1)).days + 1 - 90


def test_the_rule_imports_nothing_of_the_database():
    code = "import sys, central.stays.rule, central.stays.batch; print(*sorted(sys.modules))"
    modules = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             timeout=60).stdout.split()
    assert not [m for m in modules if m.split(".")[0] in ("sqlalchemy", "grpc", "proto", "drivers")]
    assert [m for m in modules if m.startswith("central.")] == ["central.stays", "central.stays.batch",
                                                                 "central.stays.rule"]
