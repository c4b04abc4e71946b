"""Wall time per stage of a long command, and the one summary line it prints at the end.

A command times its stages with :meth:`StageTimes.stage` (``with times.stage("load models"): ...``);
a stage with no progress bar of its own also shows the periodic ``loading models: elapsed 0:20``
line of :func:`vzero_core.progress.activity`. At the end it prints :meth:`StageTimes.format`:

    time per stage: load models 4.1s, steps 1m02s (rollout 12.0s, replay 20.3s), checkpoints 1.2s; total 1m08s
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field


def format_seconds(seconds: float) -> str:
    """``4.1s``, ``1m02s``, ``1h05m``: short, and exact enough for a summary."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(round(seconds))
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@dataclass
class StageTimes:
    """Seconds per named stage, in the order the stages first ran; a stage run twice adds up.
    ``parts`` breaks a stage down (``steps`` into ``rollout``, ``replay``, ...)."""

    seconds: dict[str, float] = field(default_factory=dict)
    parts: dict[str, dict[str, float]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def add_parts(self, stage: str, parts: Mapping[str, float]) -> None:
        """Add to ``stage``'s breakdown (each part's seconds summed over calls)."""
        into = self.parts.setdefault(stage, {})
        for name, value in parts.items():
            into[name] = into.get(name, 0.0) + float(value)

    @contextmanager
    def stage(self, name: str, *, show: bool = True) -> Iterator[None]:
        """Time the block as ``name``; ``show``: a periodic progress line while it runs (leave it off
        for a block that has its own progress bar)."""
        from vzero_core.progress import activity

        start = time.monotonic()
        try:
            with activity(name, enabled=show):
                yield
        finally:
            self.add(name, time.monotonic() - start)

    def total(self) -> float:
        """Seconds since this object was made (the command's wall time so far)."""
        return time.monotonic() - self.started

    def format(self) -> str:
        """``time per stage: a 1.0s, b 2m03s (x 1.0s, y 2.0s); total 2m05s``."""
        items = []
        for name, seconds in self.seconds.items():
            text = f"{name} {format_seconds(seconds)}"
            parts = self.parts.get(name)
            if parts:
                text += " (" + ", ".join(f"{k} {format_seconds(v)}" for k, v in parts.items()) + ")"
            items.append(text)
        return f"time per stage: {', '.join(items) or 'none'}; total {format_seconds(self.total())}"
