"""Run the pipeline's stages on Ray Data: grounding as an actor pool, views as CPU tasks.

The driver keeps what it does locally: it reads the source, filters shards and finished samples,
and writes the returned results through the store writer, so resume, sharding and the store are
exactly those of the local executor. Work is submitted in windows of ``WINDOW`` samples to bound the
driver's memory (the items carry encoded images). Ray is an optional extra: ``pip install "vzero[ray]"``.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from vzero_data.pipeline.results import SampleResult
from vzero_data.pipeline.stages import StagePlan, build_views_chunk

ITEM = "item"


def _require_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            'the ray executor needs Ray Data: pip install "vzero[ray]" (or ray[data])'
        ) from exc
    return ray


class GroundingActor:
    """A Ray actor holding one grounder (model weights loaded once per actor, on its device)."""

    def __init__(self, plan: StagePlan) -> None:
        self.stage = plan.make_grounding()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        items = [pickle.loads(b) for b in batch[ITEM]]
        samples = [it for it in items if not isinstance(it, SampleResult)]
        grounded = iter(self.stage(samples)) if samples else iter(())
        out = [it if isinstance(it, SampleResult) else next(grounded) for it in items]
        return {ITEM: [pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL) for o in out]}


def _views_batch(batch: dict[str, Any], plan: StagePlan) -> dict[str, Any]:
    items = [pickle.loads(b) for b in batch[ITEM]]
    results = build_views_chunk(items, plan)
    return {ITEM: [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in results]}


def ensure_ray(address: str | None) -> Any:
    """Connect to (or start) Ray once per process."""
    ray = _require_ray()
    if not ray.is_initialized():
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="WARNING",
            ignore_reinit_error=True,
        )
    return ray


def run_ray(items: Iterable[Any], plan: StagePlan, summary: Any, bars: Any) -> Iterator[SampleResult]:
    """The Ray executor; yields each sample's result as it comes back to the driver."""
    ex = plan.recipe.execution
    ray = ensure_ray(ex.ray.address)
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    it = iter(items)
    while chunk := list(islice(it, ex.ray.window)):
        ds = ray.data.from_items([{ITEM: pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL)} for x in chunk])
        ds = ds.map_batches(
            GroundingActor,
            fn_constructor_kwargs={"plan": plan},
            batch_size=ex.grounding_batch_size,
            compute=ray.data.ActorPoolStrategy(size=ex.ray.grounding_actors),
            num_gpus=ex.ray.gpus_per_actor,
        )
        ds = ds.map_batches(
            _views_batch,
            fn_kwargs={"plan": plan},
            batch_size=ex.samples_per_task,
            num_cpus=ex.ray.cpus_per_task,
        )
        for row in ds.iter_rows():
            result: SampleResult = pickle.loads(row[ITEM])
            bars.update("grounding")
            bars.update("views")
            summary.add_time("views", result.seconds)
            yield result
