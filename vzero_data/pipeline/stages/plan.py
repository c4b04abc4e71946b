"""What the stages of one run need, in one picklable object sent once to each worker, actor or task."""

from __future__ import annotations

from dataclasses import dataclass

from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.stages.grounding import GroundingStage

# The module a view worker runs; its fork server imports it before any work.
VIEW_STAGE_MODULE = "vzero_data.pipeline.stages.views"


@dataclass(frozen=True)
class StagePlan:
    """Everything a stage needs, picklable: sent once to each worker, actor or task."""

    recipe: Recipe

    def make_grounding(self) -> GroundingStage:
        return GroundingStage(self.recipe)

    def preload(self) -> tuple[str, ...]:
        """Modules every view worker needs: the view stage and its strategies' slow imports."""
        from vzero_data.views import get_strategy

        heavy = (m for neg in self.recipe.negatives for m in get_strategy(neg.strategy).preload)
        return tuple(dict.fromkeys([VIEW_STAGE_MODULE, *heavy]))
