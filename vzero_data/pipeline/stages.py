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
from pathlib import Path
from typing import Any

from vzero_data.boxes import Box, union_box
from vzero_data.pipeline.checks import view_failure, view_key
from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.results import Reject, SampleResult, StoredImage, error_reason, rejected
from vzero_data.pipeline.sharding import ShardSpec
from vzero_data.sample import Sample


class SkipIds:
    """Sample ids the source need not build (decode): already curated, or owned by another shard.

    Passed as ``skip_ids`` to :func:`vzero_data.sources.build_items`, which checks membership after
    hashing an image and before decoding it, so skipped samples cost a read and a hash only.
    """

    def __init__(self, done: set[str], shard: ShardSpec) -> None:
        self.done = done
        self.shard = shard

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self.done or not self.shard.owns(str(sample_id))


def _source_options(recipe: Recipe) -> Any:
    from vzero_data.sources import SourceOptions

    cfg = recipe.source
    return SourceOptions(
        image_root=Path(cfg.image_root) if cfg.image_root else None,
        split=cfg.split,
        max_pixels=cfg.max_pixels,
        field_map=dict(cfg.field_map),
        question_template=cfg.question_template,
    )


def open_source(recipe: Recipe, limit: int | None = None) -> Iterator[Any]:
    """The recipe's source adapter's raw rows; a missing or malformed source raises ``SourceError``
    here, before any work. ``limit`` counts raw rows, so ``--limit N`` always means the first N rows
    whatever the shard or what is already done."""
    from itertools import islice

    from vzero_data.sources import get_source

    raw = get_source(recipe.source.adapter).read(recipe.source.path, _source_options(recipe))
    return islice(raw, limit) if limit is not None else raw


def build_source_items(recipe: Recipe, raw: Iterable[Any], skip: SkipIds | None = None) -> Iterator[Any]:
    """Raw rows to ``SourceItem | Rejected | Skipped`` (see :mod:`vzero_data.sources`).

    Only image headers are read here (size, format, pixel limit): each image is decoded once, by the
    view worker that needs its pixels, which also rejects corrupt data (:func:`decode_source`).
    """
    from vzero_data.sources import build_items, get_source
    from vzero_data.sources.base import default_root

    root = default_root(recipe.source.path, _source_options(recipe), get_source(recipe.source.adapter))
    return build_items(
        raw, root, max_pixels=recipe.source.max_pixels, skip_ids=skip or frozenset(), decode=False
    )


class UnreadableImage(ValueError):
    """A source image whose header is sound but whose pixel data does not decode."""


def decode_source(data: bytes, where: str, max_pixels: int) -> Any:
    """The RGB pixels of a source image, decoded once; corrupt data raises :class:`UnreadableImage`."""
    from vzero_data.views.encoding import decode_rgb

    try:
        return decode_rgb(data, where, max_pixels=max_pixels)
    except ValueError as exc:
        raise UnreadableImage(str(exc)) from exc


def unreadable(sample: Sample, exc: UnreadableImage) -> SampleResult:
    """The reject of a sample whose image does not decode: an ingest problem, as a missing file is."""
    return rejected(sample, "ingest", "image_unreadable", str(exc))


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

    def preload(self) -> tuple[str, ...]:
        """Modules every view worker needs: the view stage and its strategies' slow imports."""
        from vzero_data.views import get_strategy

        heavy = (m for neg in self.recipe.negatives for m in get_strategy(neg.strategy).preload)
        return tuple(dict.fromkeys([__name__, *heavy]))


def grounder_options(recipe: Recipe, fields: Iterable[str]) -> dict[str, Any]:
    """The options the recipe gives its grounder: ``grounding.options`` plus model and tiling, and
    the execution knobs (device, batch size) where the backend's options have such fields."""
    cfg, ex = recipe.grounding, recipe.execution
    fields = set(fields)
    options = dict(cfg.options)
    extra = {
        "model": cfg.model,
        "tiling": cfg.tiling.model_dump(),
        "device": ex.device,
        "batch_size": ex.grounding_batch_size,
        "progress": False,
    }
    for key, value in extra.items():
        if key in fields and value is not None:
            options.setdefault(key, value)
    return options


class GroundingStage:
    """Locate the question-relevant region for a batch of samples on one device, then select it.

    The grounder (and any model weights) is built on first use, so a run with nothing to do never
    loads a model; a grounder that cannot be built fails the run (it is not any sample's fault, and
    rejects would mark every sample done). Failures of one sample (no phrase, no acceptable box)
    become rejects; a failure of the whole batch (the model call itself) rejects every sample in it
    with the error.
    """

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe

    @cached_property
    def grounder(self) -> Any:
        from vzero_data.grounding import get_grounder
        from vzero_data.grounding.registry import grounder_class

        name = self.recipe.grounding.backend
        fields = grounder_class(name).Options.model_fields
        return get_grounder(name, **grounder_options(self.recipe, fields))

    def __call__(self, items: list[Any]) -> list[Grounded | SampleResult]:
        from vzero_data.grounding import extract_phrase

        out: list[Grounded | SampleResult | None] = [None] * len(items)
        todo: list[tuple[int, Any, str]] = []
        for i, item in enumerate(items):
            try:
                todo.append((i, item, extract_phrase(item.sample)))
            except ValueError as exc:
                out[i] = rejected(item.sample, "grounding", "no_phrase", str(exc))
        if todo:
            grounder = self.grounder
            if getattr(grounder, "reads_pixels", True):
                todo = self._decodable(todo, out)
        if todo:
            try:
                images = [_lazy_image(item) for _, item, _ in todo]
                regions = grounder.locate(
                    images, [phrase for _, _, phrase in todo], samples=[item.sample for _, item, _ in todo]
                )
            except Exception as exc:  # the batch failed: record it on each of its samples
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                for i, item, _ in todo:
                    out[i] = rejected(item.sample, "grounding", error_reason(exc), detail)
            else:
                for (i, item, _), found in zip(todo, regions, strict=True):
                    out[i] = self._select(item, found)
        return [o for o in out if o is not None]

    def _decodable(
        self, todo: list[tuple[int, Any, str]], out: list[Grounded | SampleResult | None]
    ) -> list[tuple[int, Any, str]]:
        """The items whose images decode; the others are rejected here, one by one, instead of
        failing the model's whole batch (the source read only their headers)."""
        from vzero_data.image_io import ImageDecodeError, decode_image

        keep = []
        for i, item, phrase in todo:
            where = f"sample {item.sample.sample_id} image {item.sample.image}"
            try:
                decode_image(item.image_bytes, where, max_pixels=self.recipe.source.max_pixels)
            except ImageDecodeError as exc:
                out[i] = unreadable(item.sample, UnreadableImage(str(exc)))
                continue
            keep.append((i, item, phrase))
        return keep

    def _select(self, item: Any, found: list[Any]) -> Grounded | SampleResult:
        from vzero_data.grounding import GroundingRejected, Region, select_regions
        from vzero_data.grounding.selection import size_problem

        sample = item.sample
        policy = self.recipe.grounding.selection
        try:
            chosen = select_regions(found, sample.width, sample.height, policy)
        except GroundingRejected as exc:
            return rejected(sample, "grounding", exc.reason, exc.detail, regions=region_rows(found, []))
        target = chosen[0].box if len(chosen) == 1 else union_box([r.box for r in chosen])
        if len(chosen) > 1:
            # mode "all" checks each box; the views cut their union, which must be fine-grained too.
            problem = size_problem(
                Region(target, chosen[0].score, chosen[0].phrase, {}), sample.width, sample.height, policy
            )
            if problem is not None:
                detail = f"the {len(chosen)} selected boxes together: {problem.detail}"
                return rejected(
                    sample, "grounding", problem.reason, detail, regions=region_rows(found, chosen)
                )
        return Grounded(
            sample=sample,
            target=target,
            image_bytes=item.image_bytes,
            image_format=item.image.format,
            regions=region_rows(found, chosen),
        )


def _lazy_image(item: Any) -> Any:
    """A PIL image of the item's bytes, opened lazily: header only until a model reads its pixels.

    The source checked its header against the recipe's pixel limit, and :meth:`GroundingStage._decodable`
    its pixel data for grounders that read pixels.
    """
    import io

    from PIL import Image

    return Image.open(io.BytesIO(item.image_bytes))


def region_rows(found: list[Any], chosen: list[Any]) -> list[dict[str, Any]]:
    """Rows for the store's ``regions`` table: every region found, the chosen ones marked selected
    (a region that selection made, such as a ``union`` of several, is added as a selected row)."""
    merged = [c for c in chosen if c not in found]
    rows = []
    for rank, region in enumerate([*found, *merged]):
        prov = dict(region.provenance)
        rows.append(
            {
                "rank": rank,
                "box": region.box.to_list(),
                "score": region.score,
                "phrase": region.phrase,
                "grounder": prov.get("backend"),
                "model": prov.get("model"),
                "params": prov.get("params", {}),
                "selected": region in chosen,
            }
        )
    return rows


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


def build_views_chunk(
    items: list[Grounded | SampleResult], plan: StagePlan, *, keep_image: bool = True
) -> list[SampleResult]:
    """The CPU stage for a chunk of samples: decode, crop, check, encode. Never raises per sample.

    With ``keep_image=False`` kept results come back without their image (``image`` is None): a
    driver that still holds the samples it sent attaches it again (:func:`stored_image`), so a
    source image's bytes cross to a worker process and never back.
    """
    results = [item if isinstance(item, SampleResult) else build_views(item, plan.recipe) for item in items]
    if not keep_image:
        for result in results:
            result.image = None
    return results


def stored_image(item: Grounded) -> StoredImage:
    """The store's ``images`` row of a grounded sample: its encoded bytes as the source gave them."""
    s = item.sample
    return StoredImage(s.image_sha256, item.image_bytes, s.width, s.height, item.image_format)


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
def image_pool(path: str, max_images: int, max_side: int) -> Any:
    """The image pool over a folder, built once per process (strategies that draw other images):
    its decoded images stay cached for every later sample of this worker."""
    from vzero_data.views import pool_from_paths

    return pool_from_paths(path, max_images=max_images, max_side=max_side)


def _build_views(item: Grounded, recipe: Recipe) -> SampleResult:
    from vzero_data.views import POSITIVE_STRATEGY, ViewRejected, negative_view, positive_view, view_seed

    sample, target, sid = item.sample, item.target, item.sample_id
    try:
        image = decode_source(
            item.image_bytes, f"sample {sid} image {sample.image}", recipe.source.max_pixels
        )
    except UnreadableImage as exc:
        return unreadable(sample, exc)
    checks = recipe.checks
    try:
        positive = positive_view(image, target, recipe.crop, seed=view_seed(sid, POSITIVE_STRATEGY, 0))
    except ViewRejected as exc:
        return rejected(sample, "views", exc.reason, f"positive: {exc.message}", regions=item.regions)
    failure = view_failure(positive, checks)
    if failure is not None:
        return rejected(sample, "checks", failure[0], f"positive: {failure[1]}", regions=item.regions)

    views = [positive]
    seen = {view_key(positive)}
    dropped: list[Reject] = []
    per_strategy: dict[str, int] = {}
    for i, neg in enumerate(recipe.negatives):
        pool = image_pool(neg.pool, neg.pool_images, neg.pool_max_side) if neg.pool else None
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
            seen.add(view_key(view))
            views.append(view)

    if len(views) == 1 or (dropped and checks.require_all_negatives):
        first = dropped[0]
        more = f" (and {len(dropped) - 1} more)" if len(dropped) > 1 else ""
        return rejected(sample, first.stage, first.reason, first.detail + more, regions=item.regions)
    fmt, quality = recipe.store.image_format, recipe.store.quality
    return SampleResult(
        sid,
        sample,
        regions=item.regions,
        views=[v.to_row(sid, image_format=fmt, quality=quality) for v in views],
        image=stored_image(item),
        dropped=dropped,
    )
