"""The pipeline's stages as plain functions, one module each: source, decode, grounding (batched, one
device), views (CPU) and the image pool, with :class:`StagePlan` carrying the recipe to them.

The executors decide where each runs (main process, worker processes, Ray actors and tasks); the
stages themselves are the same everywhere, so every executor writes the same rows.
"""

from vzero_data.pipeline.stages.grounding import Grounded, GroundingStage, ground_stream
from vzero_data.pipeline.stages.plan import StagePlan
from vzero_data.pipeline.stages.source import SkipIds, build_source_items, open_source
from vzero_data.pipeline.stages.views import build_views, build_views_chunk, stored_image

__all__ = [
    "Grounded",
    "GroundingStage",
    "SkipIds",
    "StagePlan",
    "build_source_items",
    "build_views",
    "build_views_chunk",
    "ground_stream",
    "open_source",
    "stored_image",
]
