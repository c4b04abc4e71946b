"""The per-stage time summary long commands end with: stages in the order they ran, repeats summed,
a breakdown in parentheses, the total wall time last."""

from __future__ import annotations

import pytest

from vzero_core.stage_times import StageTimes, format_seconds


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.04, "0.0s"),
        (4.14, "4.1s"),
        (59.94, "59.9s"),
        (62.4, "1m02s"),
        (3599.4, "59m59s"),
        (3599.6, "1h00m"),
        (3900, "1h05m"),
    ],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


def test_summary_orders_sums_and_breaks_down(monkeypatch):
    clock = iter([10.0, 14.0, 14.0, 20.0, 20.0, 21.0, 100.0])
    monkeypatch.setattr("vzero_core.stage_times.time.monotonic", lambda: next(clock))
    times = StageTimes(started=0.0)
    for name in ("load models", "steps", "steps"):
        with times.stage(name, show=False):
            pass
    times.add_parts("steps", {"rollout": 3.0, "update": 2.0})
    times.add_parts("steps", {"rollout": 1.0})
    assert times.format() == (
        "time per stage: load models 4.0s, steps 7.0s (rollout 4.0s, update 2.0s); total 1m40s"
    )


def test_a_failing_stage_is_still_timed():
    times = StageTimes()
    with pytest.raises(ZeroDivisionError), times.stage("checks", show=False):
        raise ZeroDivisionError
    assert list(times.seconds) == ["checks"]
