"""The pipeline's stages as plain functions: source, grounding (batched, one device), views (CPU).

The executors decide where each runs (main process, worker processes, Ray actors and tasks); the
stages themselves are the same everywhere, so every executor writes the same rows.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from vzero_data.boxes import Box
from vzero_data.pipeline.checks import pixels_key, view_failure
from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.results import Reject, SampleResult, StoredImage, error_reason, rejected
from vzero_data.sample import Sample


def iter_source(recipe: Recipe) -> Iterator[Sample | SampleResult]:
    """The recipe's source adapter, opened with its options."""
    from vzero_data.sources import get_source

    return iter(get_source(recipe.source.adapter)(**recipe.source.options))


@dataclass
class Grounded:
    """A sample with its target box chosen and its encoded image, on its way to the view stage."""

    sample: Sample
    target: Box
    image_bytes: bytes
    image_format: str
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


@lru_cache(maxsize=8)
def image_pool(path: str) -> Any:
    """The image pool over a folder, built once per process (strategies that draw other images)."""
    from vzero_data.views import pool_from_paths

    return pool_from_paths(path)


def _build_views(item: Grounded, recipe: Recipe) -> SampleResult:
    from vzero_data.views import POSITIVE_STRATEGY, ViewRejected, negative_view, positive_view, view_seed
    from vzero_data.views.encoding import decode_rgb

    sample, target, sid = item.sample, item.target, item.sample_id
    image = decode_rgb(item.image_bytes, f"sample {sid} image {sample.image}")
    checks = recipe.checks
    try:
        positive = positive_view(image, target, recipe.crop, seed=view_seed(sid, POSITIVE_STRATEGY, 0))
    except ViewRejected as exc:
        return rejected(sample, "views", exc.reason, f"positive: {exc.message}", regions=item.regions)
    failure = view_failure(positive, checks)
    if failure is not None:
        return rejected(sample, "checks", failure[0], f"positive: {failure[1]}", regions=item.regions)

    views = [positive]
    seen = {pixels_key(positive.pixels)}
    dropped: list[Reject] = []
    per_strategy: dict[str, int] = {}
    for i, neg in enumerate(recipe.negatives):
        pool = image_pool(neg.pool) if neg.pool else None
        for _ in range(neg.count):
            index = per_strategy.get(neg.strategy, 0)
            per_strategy[neg.strategy] = index + 1
            label = f"negatives[{i}] {neg.strategy} #{index}"
            try:
                view = negative_view(
                    neg.strategy,
                    image,
                    target,
                    neg.params,
                    view_seed(sid, neg.strategy, index),
                    positive=positive,
                    pool=pool,
                    image_sha256=sample.image_sha256,
                )
            except ViewRejected as exc:
                dropped.append(Reject("views", exc.reason, f"{label}: {exc.message}"))
                continue
            failure = view_failure(view, checks, seen)
            if failure is not None:
                dropped.append(Reject("checks", failure[0], f"{label}: {failure[1]}"))
                continue
            seen.add(pixels_key(view.pixels))
            views.append(view)

    if len(views) == 1 or (dropped and checks.require_all_negatives):
        first = dropped[0]
        more = f" (and {len(dropped) - 1} more)" if len(dropped) > 1 else ""
        return rejected(sample, first.stage, first.reason, first.detail + more, regions=item.regions)
    fmt, quality = recipe.store.image_format, recipe.store.quality
    return SampleResult(
        sample=sample,
        regions=item.regions,
        views=[v.to_row(sid, image_format=fmt, quality=quality) for v in views],
        image=StoredImage(
            sample.image_sha256, item.image_bytes, sample.width, sample.height, item.image_format
        ),
        dropped=dropped,
    )
