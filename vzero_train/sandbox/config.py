"""The ``sandbox:`` section of the shipped ``sandbox`` recipe: the world, its splits, steps, seeds, arms.

The recipe's other sections are the project's own: curation (``source`` ... ``execution``), ``sft:``
(the teacher's and base student's supervised runs) and ``train:`` (the OPD arms, which fill in the
student and teacher). ``quick`` replaces the sizes for ``--quick``.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator

from vzero_core.recipe_base import Section

SPLIT_NAMES = ("teacher", "student", "opd", "val", "test")


class WorldConfig(Section):
    """The synthetic world and its knobs: ``big_small`` (a big target and a small distractor in two
    quadrants; ``target_side``, ``distractor_side``) or ``shared_colour`` (every option colour on
    several objects, the target named by its shape; ``objects_per_colour``, ``side_fraction``,
    ``target_scale``)."""

    name: Literal["big_small", "shared_colour"] = "big_small"
    size: int = 112
    n_options: int = 4
    target_side: tuple[float, float] = (0.30, 0.42)
    distractor_side: tuple[float, float] = (0.12, 0.20)
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
    seeds: int = Field(ge=1, description="training seeds of every OPD arm")
    main_seeds: int | None = Field(
        None, ge=1, description="seeds of the main_arms (the gate against plain); None: seeds"
    )
    main_arms: list[str] = Field(default_factory=list, description="arms run with main_seeds seeds")
    arms: list[str]

    def seeds_of(self, arm: str) -> int:
        """How many training seeds ``arm`` runs."""
        return self.main_seeds if arm in self.main_arms and self.main_seeds else self.seeds

    @model_validator(mode="after")
    def _splits_known(self) -> Sizes:
        missing = [s for s in SPLIT_NAMES if s not in self.split_n]
        unknown = [s for s in self.split_n if s not in SPLIT_NAMES]
        if missing or unknown:
            raise ValueError(f"split_n needs exactly the splits {', '.join(SPLIT_NAMES)}")
        if not self.arms:
            raise ValueError("arms must name at least one arm")
        stray = [a for a in self.main_arms if a not in self.arms]
        if stray:
            raise ValueError(f"main_arms {stray} are not among the arms")
        return self


class SandboxConfig(Section):
    world: WorldConfig = WorldConfig()
    split_seeds: dict[str, int]
    sft_split_negatives: list[str] | None = Field(
        None,
        description="negative strategies curated for the teacher and student splits, whose SFT reads "
        "no negative (None: every strategy of the recipe; a store keeps a sample with at least one)",
    )
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
