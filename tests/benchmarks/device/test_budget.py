"""The run's budget and each part's cap: a part that overruns is stopped where it is, and the code it
calls cannot swallow the stop."""

from __future__ import annotations

import time

import pytest

from benchmarks.device.budget import Budget, OutOfTime


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_remaining_and_left_count_down():
    clock = Clock()
    budget = Budget(60, clock=clock)
    clock.now += 15
    assert budget.remaining() == budget.left() == 45


def test_a_part_gets_its_cap_or_what_is_left_of_the_run():
    clock = Clock()
    budget = Budget(60, clock=clock)
    with budget.capped(20) as limit:
        assert limit == 20 and budget.left() == 20
    clock.now += 50
    with budget.capped(20) as limit:
        assert limit == 10 and budget.left() == 10
    assert budget.left() == budget.remaining() == 10  # outside a part, the run's time


def test_nothing_left_stops_before_the_part_starts():
    clock = Clock()
    budget = Budget(10, clock=clock)
    clock.now += 11
    with pytest.raises(OutOfTime, match="spent"), budget.capped(5):
        pytest.fail("the block must not run")


def test_an_overrunning_part_is_stopped_and_except_exception_cannot_swallow_it():
    budget = Budget(60)
    t0 = time.perf_counter()
    with pytest.raises(OutOfTime, match="stopped at its limit"), budget.capped(0.2):
        try:
            time.sleep(5)
        except Exception:  # what the code a part calls might do
            pytest.fail("OutOfTime was caught as an Exception")
    assert time.perf_counter() - t0 < 2


def test_the_timer_is_off_after_the_part():
    budget = Budget(60)
    with budget.capped(0.2):
        pass
    time.sleep(0.4)  # no stray alarm fires here
