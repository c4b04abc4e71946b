"""The learning-rate schedule, read off known values (warm-up steps 0, 1 and the last, each decay)."""

import math

import pytest

from vzero_train.schedule import lr_factor


@pytest.mark.parametrize(
    "n, kwargs, expected",
    [
        # no warm-up: the full rate from the first update
        (0, {}, 1.0),
        (7, {}, 1.0),
        # warm-up of 4 updates: 1/4, 2/4, 3/4, 4/4, then constant
        (0, {"warmup": 4}, 0.25),
        (1, {"warmup": 4}, 0.5),
        (3, {"warmup": 4}, 1.0),
        (4, {"warmup": 4}, 1.0),
        (100, {"warmup": 4}, 1.0),
        # linear decay over 11 updates after no warm-up: 1 at update 0, 0.5 at 5, 0 at the last (10)
        (0, {"total": 11, "schedule": "linear"}, 1.0),
        (5, {"total": 11, "schedule": "linear"}, 0.5),
        (10, {"total": 11, "schedule": "linear"}, 0.0),
        (12, {"total": 11, "schedule": "linear"}, 0.0),
        # warm-up 2, then linear from 1 (update 2) to 0.1 (update 11)
        (1, {"warmup": 2, "total": 12, "schedule": "linear", "min_ratio": 0.1}, 1.0),
        (2, {"warmup": 2, "total": 12, "schedule": "linear", "min_ratio": 0.1}, 1.0),
        (11, {"warmup": 2, "total": 12, "schedule": "linear", "min_ratio": 0.1}, 0.1),
        # cosine: half-way down at the middle, min_ratio at the end
        (5, {"total": 11, "schedule": "cosine"}, 0.5),
        (2, {"total": 11, "schedule": "cosine"}, 0.5 * (1 + math.cos(math.pi * 0.2))),
        (10, {"total": 11, "schedule": "cosine", "min_ratio": 0.2}, 0.2),
    ],
)
def test_lr_factor_known_values(n, kwargs, expected):
    assert lr_factor(n, **kwargs) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"schedule": "linear"}, "needs the total"), ({"schedule": "step", "total": 4}, "unknown schedule")],
)
def test_lr_factor_refuses_what_it_cannot_compute(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lr_factor(3, **kwargs)
