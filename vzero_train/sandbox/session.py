"""What the phases of one sandbox run share (:class:`SandboxRun`) and where an arm's run lives."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vzero_core.stage_times import StageTimes
from vzero_train.sandbox.arms import BASE
from vzero_train.sandbox.config import SandboxConfig, Sizes


def arm_dir(out: Path, name: str, seed: int) -> Path:
    return out / "runs" / "arms" / name / f"seed{seed}"


@dataclass
class SandboxRun:
    """What the phases of one sandbox run share: where it writes, the recipe resolved with this run's
    sizes (what ``sft`` and ``train`` read), the sizes, what the world phase found, and the time
    each stage took."""

    out: Path
    recipe: Path
    config: SandboxConfig
    sizes: Sizes
    log: Callable[[str], None]
    hashes: dict[str, str] = field(default_factory=dict)
    strategies: list[str] = field(default_factory=list)
    times: StageTimes = field(default_factory=StageTimes)

    @property
    def opd_arms(self) -> list[str]:
        return [a for a in self.sizes.arms if a != BASE]

    def stage(self, name: str, *, show: bool = False) -> contextlib.AbstractContextManager:
        """Time a stage; ``show``: a periodic progress line for a stage with none of its own."""
        return self.times.stage(name, show=show)
