"""The learning-rate schedule shared by OPD and SFT: linear warm-up, then constant or a decay.

``lr_factor`` is the multiplier of the base learning rate at optimizer update ``n`` (0-based): during
warm-up ``(n + 1) / warmup`` (so the first update already moves, and update ``warmup - 1`` is at the
full rate), then ``constant`` (1), or a ``linear`` or ``cosine`` decay from 1 down to ``min_ratio``
at the last update ``total - 1``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

Schedule = Literal["constant", "linear", "cosine"]
SCHEDULES: tuple[str, ...] = ("constant", "linear", "cosine")


def lr_factor(
    n: int,
    *,
    warmup: int = 0,
    total: int | None = None,
    schedule: Schedule = "constant",
    min_ratio: float = 0.0,
) -> float:
    """The learning-rate multiplier at optimizer update ``n`` (see the module docstring)."""
    if warmup and n < warmup:
        return (n + 1) / warmup
    if schedule == "constant":
        return 1.0
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; known: {', '.join(SCHEDULES)}")
    if total is None:
        raise ValueError(f"a {schedule} decay needs the total number of updates")
    span = max(1, total - 1 - warmup)
    progress = min(1.0, max(0.0, (n - warmup) / span))
    shape = 1.0 - progress if schedule == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_ratio + (1.0 - min_ratio) * shape


def make_scheduler(optimizer: Any, optim: Any, total_updates: int) -> Any:
    """A ``LambdaLR`` stepping :func:`lr_factor` once per optimizer update, from an ``optim:`` section
    (``warmup_steps``, ``schedule``, ``min_lr_ratio``)."""
    import torch

    def factor(n: int) -> float:
        return lr_factor(
            n,
            warmup=optim.warmup_steps,
            total=total_updates,
            schedule=optim.schedule,
            min_ratio=optim.min_lr_ratio,
        )

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
