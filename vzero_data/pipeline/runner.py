"""``curate``: run a validated recipe into a store, resumably.

The driver (this process) reads the source, drops samples that belong to other shards or are
already curated under this config hash, hands the rest to an executor (local worker processes or
Ray) and writes each finished sample through the store's writer, which publishes whole samples
atomically. Killed at any moment, a run loses only uncommitted samples; the next run redoes them.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain, islice
from typing import Any

from vzero_data.pipeline.config_hash import config_hash
from vzero_data.pipeline.progress import StageBars
from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.results import SampleResult, error_reason, rejected
from vzero_data.pipeline.sharding import ALL, ShardSpec
from vzero_data.pipeline.stages import StagePlan, iter_source
from vzero_data.pipeline.summary import RunSummary
from vzero_data.sample import Sample

log = logging.getLogger(__name__)


@dataclass
class CurateOutcome:
    """The result of :func:`curate`: its summary, and whether there was anything left to do."""

    summary: RunSummary
    nothing_to_do: bool
    already_curated: int
    run_id: str | None


def new_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def pending_samples(
    items: Iterable[Sample | SampleResult],
    *,
    done: set[str],
    shard: ShardSpec,
    limit: int | None,
    summary: RunSummary,
    bars: StageBars,
) -> Iterator[Sample | SampleResult]:
    """The source's items that this run must process, in source order.

    ``limit`` counts source items before the shard filter, so ``--limit N --shard i/K`` over all
    ``i`` covers exactly the first N items. Items the source could not turn into samples arrive as
    rejected ``SampleResult``s and are passed on to be recorded.
    """
    seen: set[str] = set()
    it = iter(items)
    if limit is not None:
        it = islice(it, limit)
    while True:
        with summary.timed("ingest"):
            item = next(it, None)
        if item is None:
            return
        summary.seen += 1
        bars.update("ingest")
        sample_id = item.sample_id
        if not shard.owns(sample_id):
            summary.other_shards += 1
            continue
        if sample_id in done:
            summary.already_done += 1
            continue
        if sample_id in seen:
            summary.duplicates += 1
            log.info("sample %s appears again in the source; the first occurrence is kept", sample_id)
            continue
        seen.add(sample_id)
        yield item


def write_result(writer: Any, result: SampleResult) -> None:
    """Add one sample's rows to the store and commit them as a unit."""
    sid = result.sample_id
    if result.reject is None:
        if result.image is not None:
            img = result.image
            writer.add_image(img.sha256, img.data, img.width, img.height, img.fmt)
        writer.add_sample(result.sample)
    for region in result.regions:
        writer.add_region(sid, region)
    for view in result.views:
        writer.add_view(sid, view)
    for r in [*result.dropped, *([result.reject] if result.reject is not None else [])]:
        writer.add_reject(sid, r.stage, r.reason, r.detail)
    writer.commit_sample(sid)


def _record(summary: RunSummary, result: SampleResult, bars: StageBars) -> None:
    bars.update("store")
    for r in result.dropped:
        summary.drop(r.stage, r.reason)
    if result.reject is None:
        summary.kept += 1
        summary.views += len(result.views)
    else:
        summary.reject(result.reject.stage, result.reject.reason)


def make_executor(recipe: Recipe) -> Callable[..., Iterator[SampleResult]]:
    """The ``run(items, plan, summary, bars)`` function of the recipe's executor."""
    if recipe.execution.executor == "ray":
        from vzero_data.pipeline.executors.ray_executor import run_ray

        return run_ray
    from vzero_data.pipeline.executors.local import run_local

    return run_local


def curate(
    recipe: Recipe,
    store_path: str | os.PathLike[str],
    *,
    shard: ShardSpec = ALL,
    items: Iterable[Sample | SampleResult] | None = None,
) -> CurateOutcome:
    """Curate ``recipe``'s source into the store at ``store_path``; see the module docstring.

    ``items`` replaces the recipe's source (tests, notebooks); by default the source adapter named
    in the recipe is opened.
    """
    from vzero_data.store import open_store

    chash = config_hash(recipe)
    recipe_text = recipe.model_dump_json()
    store = open_store(store_path, create=True)
    done = store.done_sample_ids(chash)
    summary = RunSummary(config_hash=chash, shard=str(shard))
    execution = recipe.execution
    with StageBars(execution.progress) as bars:
        stream = pending_samples(
            items if items is not None else iter_source(recipe),
            done=done,
            shard=shard,
            limit=execution.limit,
            summary=summary,
            bars=bars,
        )
        first = next(stream, None)
        if first is None:
            summary.finish()
            return CurateOutcome(summary, nothing_to_do=True, already_curated=len(done), run_id=None)

        run_id = new_run_id()
        started = datetime.now(timezone.utc)
        store.record_run(run_id, chash, recipe=recipe_text, started_at=started, status="running")
        status = "failed"
        plan = StagePlan(recipe)
        run = make_executor(recipe)
        try:
            with store.writer(run_id, chash, int(recipe.store.shard_max_mb * (1 << 20))) as writer:
                for result in run(chain([first], stream), plan, summary, bars):
                    with summary.timed("store"):
                        try:
                            write_result(writer, result)
                        except Exception as exc:  # a row the store refuses: record, keep going
                            writer.discard_sample(result.sample_id)
                            result = rejected(result.sample, "store", error_reason(exc), str(exc))
                            write_result(writer, result)
                    _record(summary, result, bars)
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            summary.finish()
            store.record_run(
                run_id,
                chash,
                recipe=recipe_text,
                started_at=started,
                finished_at=datetime.now(timezone.utc),
                timings=summary.stage_seconds,
                counts=summary.to_dict(),
                status=status,
            )
    return CurateOutcome(summary, nothing_to_do=False, already_curated=len(done), run_id=run_id)
