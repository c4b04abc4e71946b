"""The pipeline's stages as plain functions: source, grounding (batched, one device), views (CPU).

The executors decide where each runs (main process, worker processes, Ray actors and tasks); the
stages themselves are the same everywhere, so every executor writes the same rows.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from vzero_data.boxes import Box
from vzero_data.pipeline.checks import first_failure
from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.results import SampleResult, StoredImage, error_reason, rejected
from vzero_data.sample import Sample


def iter_source(recipe: Recipe) -> Iterator[Sample | SampleResult]:
    """The recipe's source adapter, opened with its options."""
    from vzero_data.sources import get_source

    return iter(get_source(recipe.source.adapter)(**recipe.source.options))


@dataclass
class Grounded:
    """A sample with its target box chosen, on its way to the view stage."""

    sample: Sample
    target: Box
    regions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sample_id(self) -> str:
        return self.sample.sample_id


@dataclass(frozen=True)
class StagePlan:
    """Everything a stage needs, picklable: sent once to each worker, actor or task."""

    recipe: Recipe

    def make_grounding(self) -> GroundingStage:
        return GroundingStage(self.recipe)


class GroundingStage:
    """Locate the question-relevant region for a batch of samples on one device."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe

    @cached_property
    def grounder(self) -> Any:
        raise NotImplementedError

    def __call__(self, samples: list[Sample]) -> list[Grounded | SampleResult]:
        raise NotImplementedError


def ground_stream(
    items: Iterable[Sample | SampleResult], stage: GroundingStage, batch_size: int, summary: Any, bars: Any
) -> Iterator[Grounded | SampleResult]:
    """Group samples into batches for ``stage``; pass already-rejected items straight through."""
    batch: list[Sample] = []

    def flush() -> Iterator[Grounded | SampleResult]:
        with summary.timed("grounding"):
            out = stage(batch)
        bars.update("grounding", len(batch))
        batch.clear()
        yield from out

    for item in items:
        if isinstance(item, SampleResult):
            yield item
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()


def build_views_chunk(items: list[Grounded | SampleResult], plan: StagePlan) -> list[SampleResult]:
    """The CPU stage for a chunk of samples: decode, crop, check, encode. Never raises per sample."""
    return [item if isinstance(item, SampleResult) else build_views(item, plan.recipe) for item in items]


def build_views(item: Grounded, recipe: Recipe) -> SampleResult:
    start = time.perf_counter()
    try:
        result = _build_views(item, recipe)
    except Exception as exc:  # one bad sample must never end the run: record it
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        result = rejected(item.sample, "views", error_reason(exc), detail, regions=item.regions)
    result.seconds = time.perf_counter() - start
    return result


def _build_views(item: Grounded, recipe: Recipe) -> SampleResult:
    raise NotImplementedError
