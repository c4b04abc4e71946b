"""``curate``: run a validated recipe into a store, resumably.

The driver (this process) reads the source, drops samples that belong to other shards or are
already curated under this config hash, hands the rest to an executor (local worker processes or
Ray) and writes each finished sample through the store's writer, which publishes whole samples
atomically. Killed at any moment, a run loses only uncommitted samples; the next run redoes them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Any

from vzero_core.recipe_base import RecipeError
from vzero_data.pipeline.config_hash import config_hash
from vzero_data.pipeline.progress import StageBars, count_source_rows
from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.results import SampleResult, error_reason, rejected
from vzero_data.pipeline.sharding import ALL, ShardSpec
from vzero_data.pipeline.stages import SkipIds, StagePlan, build_source_items, open_source
from vzero_data.pipeline.summary import RunSummary
from vzero_data.store.layout import new_run_id

log = logging.getLogger(__name__)


@dataclass
class CurateOutcome:
    """The result of :func:`curate`: its summary, and whether there was anything left to do."""

    summary: RunSummary
    nothing_to_do: bool
    already_curated: int
    run_id: str | None
    audit: Any = None  # the AuditOutcome of the recipe's audit: section, when it has one


def location_free_key(key: str, source_path: str) -> str:
    """A refused row's key without the spelling of the source's location: ``/data/set/rows.jsonl:7``,
    ``set/rows.jsonl:7`` and a copied folder's ``copy/rows.jsonl:7`` all become ``rows.jsonl:7``.

    Rows the source refuses have no content to key them by, so their location inside the source
    is their identity; where the source lives is not (it is not part of the config hash either).
    """
    path = Path(source_path)
    base = path if path.is_dir() else path.parent
    for prefix in {str(base), os.path.abspath(base), str(base.resolve())}:
        if prefix not in ("", ".") and key.startswith(prefix + os.sep):
            return key[len(prefix) + 1 :]
    return key


def pending_samples(
    items: Iterable[Any],
    *,
    done: set[str],
    shard: ShardSpec,
    summary: RunSummary,
    bars: StageBars,
    source_path: str = "",
) -> Iterator[Any]:
    """The source's items this run must process, in source order: ``SourceItem``s to curate, and
    rows the source refused as rejected ``SampleResult``s (recorded once, by the owning shard,
    keyed by their :func:`location_free_key`).

    ``Skipped`` items (already curated, or another shard's) were never decoded; they are counted.
    """
    from vzero_data.sources import Rejected, SourceItem

    it = iter(items)
    while True:
        with summary.timed("ingest"):
            item = next(it, None)
        if item is None:
            return
        summary.seen += 1
        bars.update("ingest")
        if isinstance(item, SourceItem):
            yield item
            continue
        sample_id = location_free_key(item.key, source_path) if isinstance(item, Rejected) else item.sample_id
        owner = (item.sample_id or sample_id) if isinstance(item, Rejected) else sample_id
        if not shard.owns(owner):
            summary.other_shards += 1
        elif sample_id in done:
            summary.already_done += 1
        elif isinstance(item, Rejected):
            if item.reason == "duplicate_sample":
                summary.duplicates += 1
            yield rejected(sample_id, "ingest", item.reason, item.detail)
        else:
            raise TypeError(f"unexpected source item {item!r}")


def write_result(writer: Any, result: SampleResult) -> None:
    """Add one sample's rows to the store and commit them as a unit."""
    sid = result.sample_id
    if result.reject is None and result.sample is not None:
        if result.image is not None:
            img = result.image
            writer.add_image(img.sha256, img.data, img.width, img.height, img.fmt)
        writer.add_sample(result.sample)
        for row in result.fingerprints:
            writer.add_fingerprint(row)
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


def synthesize_source(recipe: Recipe) -> bool:
    """Write the recipe's synthetic scenes when ``source.synthesize`` asks and they are missing;
    whether it wrote them."""
    from vzero_data.synth import MANIFEST_NAME, write_scenes

    spec = recipe.source.synthesize
    folder = Path(recipe.source.path)
    if spec is None or (folder / MANIFEST_NAME).is_file() or folder.is_file():
        return False
    log.info("synthesizing %d scenes into %s (source.synthesize)", spec.n, folder)
    write_scenes(
        folder, spec.n, size=spec.size, seed=spec.seed, text=spec.text, progress=recipe.execution.progress
    )
    return True


def check_grounding_model(recipe: Recipe) -> None:
    """The grounding model can be loaded: a folder that exists, or a hub id that is cached or
    reachable. Checked first: it needs nothing else and fails in seconds."""
    from vzero_core.model_source import model_source_problem
    from vzero_data.grounding.registry import grounder_class

    model = recipe.grounding.model
    if model and getattr(grounder_class(recipe.grounding.backend), "loads_hub_model", False):
        problem = model_source_problem(model, what="grounding model")
        if problem:
            raise RecipeError(f"grounding.model: {problem}")


def preflight(recipe: Recipe) -> None:
    """Checks that need the file system, run before the store is touched: image pools exist. Run
    after the source has opened, so a missing source is reported first (pools often live in it)."""
    for i, neg in enumerate(recipe.negatives):
        if neg.pool is not None and not Path(neg.pool).is_dir():
            raise RecipeError(
                f"negatives[{i}].pool: {neg.pool!r} is not a folder (cross_image draws its windows "
                "from the images in it)"
            )


@dataclass(frozen=True)
class CurationCheck:
    """What a run would start from (``vzero-data curate --dry-run``): nothing is written."""

    config_hash: str | None  # None until the scenes source.synthesize writes exist
    rows: int | None  # source rows (capped by the limit), when cheap to count
    synthesize: int | None  # scenes source.synthesize would write first
    store_exists: bool
    already_curated: int  # samples the store holds under this config hash

    def format(self, recipe: Recipe, store_path: str | os.PathLike[str]) -> str:
        source = recipe.source.path
        rows = f"{self.rows} rows" if self.rows is not None else "rows not counted ahead"
        first = (
            f"would synthesize {self.synthesize} scenes into {source}, then " if self.synthesize else "would "
        )
        store = (
            f"{store_path} holds {self.already_curated} samples already curated under it"
            if self.store_exists
            else f"{store_path} would be created"
        )
        model = recipe.grounding.model or recipe.grounding.backend
        chash = self.config_hash or "known once the scenes exist"
        return (
            f"checked: recipe, source {source} ({rows}), grounding {model}\n"
            f"config hash {chash}; store {store}\n"
            f"{first}curate what is not done yet; nothing was run"
        )


def check_curation(recipe: Recipe, store_path: str | os.PathLike[str]) -> CurationCheck:
    """Every check :func:`curate` makes before it writes (grounding model, source, pools, the audit's
    teacher), and what it would start from, without writing anything (no scenes synthesized, no
    store created)."""
    from vzero_data.store import open_store
    from vzero_data.synth import MANIFEST_NAME

    check_grounding_model(recipe)
    if recipe.audit is not None:
        from vzero_data.audit.runner import check_teacher

        check_teacher(recipe.audit)
    spec, folder = recipe.source.synthesize, Path(recipe.source.path)
    pending_scenes = spec is not None and not (folder / MANIFEST_NAME).is_file() and not folder.is_file()
    synthesize = spec.n if pending_scenes else None
    if not pending_scenes:  # the source and its image pools exist now: checked as curate checks them
        open_source(recipe, recipe.execution.limit)
        preflight(recipe)
    # an image pool is hashed by its content: one inside scenes still to synthesize has none yet
    chash = None if pending_scenes else config_hash(recipe)
    store = open_store(store_path) if Path(store_path).exists() else None
    rows = synthesize or count_source_rows(recipe.source.adapter, recipe.source.path, recipe.execution.limit)
    done = len(store.done_sample_ids(chash)) if store is not None and chash is not None else 0
    return CurationCheck(chash, rows, synthesize, store is not None, done)


def curate(recipe: Recipe, store_path: str | os.PathLike[str], *, shard: ShardSpec = ALL) -> CurateOutcome:
    """Curate ``recipe``'s source into the store at ``store_path``, then run its ``audit:`` section
    (if any) on the views of this config; see the module docstring.

    Raises :class:`RecipeError` or ``SourceError`` before touching the store when the recipe's
    files (or its audit's teacher) are missing; per-sample problems never raise, they become rejects.
    """
    if recipe.audit is None:
        return curate_views(recipe, store_path, shard=shard)
    from vzero_data.audit.runner import check_teacher, run_audit

    check_teacher(recipe.audit)
    outcome = curate_views(recipe, store_path, shard=shard)
    if outcome.summary.kept or outcome.already_curated:
        audit = recipe.audit.model_copy(update={"config_hash": outcome.summary.config_hash})
        outcome.audit = run_audit(store_path, audit, shard=shard)
    return outcome


def curate_views(
    recipe: Recipe, store_path: str | os.PathLike[str], *, shard: ShardSpec = ALL
) -> CurateOutcome:
    """The curation itself: source, grounding, views and checks into the store."""
    from vzero_data.store import open_store

    check_grounding_model(recipe)
    synthesize_source(recipe)
    execution = recipe.execution
    raw = open_source(recipe, execution.limit)
    preflight(recipe)
    chash = config_hash(recipe)
    recipe_text = recipe.model_dump_json()
    if execution.executor == "local" and execution.workers > 0:
        from vzero_data.pipeline.executors.local import start_fork_server

        start_fork_server(StagePlan(recipe).preload())  # its imports overlap this process's set-up
    store = open_store(store_path, create=True)
    for dead in store.mark_dead_runs():
        log.warning("run %s was left 'running' by a process that is gone; recorded it as interrupted", dead)
    done = store.done_sample_ids(chash)
    summary = RunSummary(config_hash=chash, shard=str(shard))
    source = build_source_items(recipe, raw, SkipIds(done, shard))
    total = count_source_rows(recipe.source.adapter, recipe.source.path, execution.limit)
    pending = total if total is not None and shard == ALL and not done else None
    with StageBars(execution.progress, total, pending=pending) as bars:
        stream = pending_samples(
            source, done=done, shard=shard, summary=summary, bars=bars, source_path=recipe.source.path
        )
        first = next(stream, None)
        if first is None:
            summary.finish()
            return CurateOutcome(summary, nothing_to_do=True, already_curated=len(done), run_id=None)

        run_id = new_run_id()
        started = datetime.now(timezone.utc)
        lease = store.lease(run_id).acquire()
        store.record_run(run_id, chash, recipe=recipe_text, started_at=started, status="running")
        status = "failed"
        plan = StagePlan(recipe)
        run = make_executor(recipe)
        writer = None
        try:
            with store.writer(run_id, chash, int(recipe.store.shard_max_mb * (1 << 20))) as writer:
                for result in run(chain([first], stream), plan, summary, bars):
                    with summary.timed("store"):
                        try:
                            write_result(writer, result)
                        except Exception as exc:  # a row the store refuses: record, keep going
                            writer.discard_sample(result.sample_id)
                            result = rejected(result.sample_id, "store", error_reason(exc), str(exc))
                            write_result(writer, result)
                    _record(summary, result, bars)
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            if writer is not None:
                summary.concurrent = writer.samples_taken
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
            lease.release()
    return CurateOutcome(summary, nothing_to_do=False, already_curated=len(done), run_id=run_id)
