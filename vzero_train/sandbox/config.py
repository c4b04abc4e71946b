"""The ``sandbox:`` section of the shipped ``sandbox`` recipe: the world, its splits, steps, seeds, arms.

The recipe's other sections are the project's own: curation (``source`` ... ``execution``), ``sft:``
(the teacher's and base student's supervised runs) and ``train:`` (the OPD arms, which fill in the
student and teacher). ``quick`` replaces the sizes for ``--quick``.
"""

from __future__ import annotations

import os

from pydantic import Field, model_validator

from vzero_core.recipe_base import Section

SPLIT_NAMES = ("teacher", "student", "opd", "val", "test")


class WorldConfig(Section):
    size: int = 112
    n_options: int = 4
    objects_per_colour: int = 2
    side_fraction: tuple[float, float] = (0.14, 0.22)
    target_scale: float = 1.0


class Sizes(Section):
    """How much of everything a run makes: split sizes, steps, seeds, arms."""

    split_n: dict[str, int]
    teacher_steps: int = Field(ge=1)
    student_steps: int = Field(ge=1)
    arm_steps: int = Field(ge=1)
    arm_save_every: int = Field(ge=1)
    seeds: int = Field(ge=1)
    arms: list[str]

    @model_validator(mode="after")
    def _splits_known(self) -> Sizes:
        missing = [s for s in SPLIT_NAMES if s not in self.split_n]
        unknown = [s for s in self.split_n if s not in SPLIT_NAMES]
        if missing or unknown:
            raise ValueError(f"split_n needs exactly the splits {', '.join(SPLIT_NAMES)}")
        if not self.arms:
            raise ValueError("arms must name at least one arm")
        return self


class SandboxConfig(Section):
    world: WorldConfig = WorldConfig()
    split_seeds: dict[str, int]
    full: Sizes
    quick: Sizes

    @model_validator(mode="after")
    def _seeds_distinct(self) -> SandboxConfig:
        if sorted(self.split_seeds) != sorted(SPLIT_NAMES):
            raise ValueError(f"split_seeds needs exactly the splits {', '.join(SPLIT_NAMES)}")
        if len(set(self.split_seeds.values())) != len(SPLIT_NAMES):
            raise ValueError("split_seeds must differ: splits are disjoint by seed")
        return self


def load_sandbox_config(path: str | os.PathLike[str]) -> SandboxConfig:
    """The validated ``sandbox:`` section of a recipe file or shipped name; errors name the file and field."""
    from vzero_train.config import load_section

    return load_section(path, "sandbox", SandboxConfig)
