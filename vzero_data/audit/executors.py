"""Where the teacher runs: this process, worker processes with a teacher each, or Ray actors.

All three take the stream of records still to audit and yield each sample's result in store order,
so the driver (the only writer) and the rows do not depend on the executor. Work is pulled lazily and
bounded: ``LocalExecutor`` keeps a few chunks in flight, Ray gets a window of samples at a time.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import islice
from typing import Any

from vzero_data.audit.config import AuditRay
from vzero_data.audit.scorer import AuditSettings, SampleAudit, audit_records, load_teacher

ITEM = "item"
_TEACHER: Any = None  # this process's teacher, loaded once by _load


def _load(settings: AuditSettings) -> None:
    global _TEACHER
    _TEACHER = load_teacher(settings)


def _score(chunk: list[Any], settings: AuditSettings) -> list[SampleAudit]:
    return audit_records(_TEACHER, chunk, settings)


def run_local(
    records: Iterable[Any], settings: AuditSettings, *, batch_size: int, workers: int
) -> Iterator[SampleAudit]:
    """``workers`` processes (0: this one), each with its own teacher, ``batch_size`` samples a chunk."""
    global _TEACHER
    from vzero_data.pipeline.executors.local import LocalExecutor

    try:
        with LocalExecutor(workers, chunk_size=batch_size, initializer=_load, initargs=(settings,)) as pool:
            yield from pool.map_ordered(partial(_score, settings=settings), records)
    finally:
        _TEACHER = None


class AuditActor:
    """A Ray actor holding one teacher (loaded once, on its device)."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self.vlm = load_teacher(settings)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        raws = [pickle.loads(b) for b in batch[ITEM]]
        results = audit_records(self.vlm, raws, self.settings)
        return {ITEM: [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in results]}


def run_ray(
    records: Iterable[Any], settings: AuditSettings, *, batch_size: int, ray: AuditRay
) -> Iterator[SampleAudit]:
    """Ray Data: an actor pool of ``ray.actors`` teachers (``ray.gpus_per_actor`` GPUs each)."""
    from vzero_data.pipeline.executors.ray_executor import ensure_ray

    ray_mod = ensure_ray(ray.address)
    ctx = ray_mod.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    it = iter(records)
    while window := list(islice(it, ray.window)):
        ds = ray_mod.data.from_items(
            [{ITEM: pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL)} for r in window]
        )
        ds = ds.map_batches(
            AuditActor,
            fn_constructor_kwargs={"settings": settings},
            batch_size=batch_size,
            compute=ray_mod.data.ActorPoolStrategy(size=ray.actors),
            num_gpus=ray.gpus_per_actor,
        )
        for row in ds.iter_rows():
            yield pickle.loads(row[ITEM])
