"""Run a CPU stage over a stream on one machine: worker processes, bounded in-flight work, input order.

``map_ordered`` pulls items lazily from its input, keeps at most ``max_in_flight`` chunks submitted,
and yields results in input order, so memory stays bounded however long the stream is and the
output does not depend on the worker count. ``workers=0`` runs everything in the calling process
(useful for debugging and for tiny runs where process start-up dominates).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _pool_context(preload: tuple[str, ...] = ()) -> multiprocessing.context.BaseContext:
    """A "forkserver" context (never plain fork: this process may hold threads, e.g. torch's or
    tqdm's monitor), or "spawn" where there is none.

    The fork server imports ``preload`` once and forks every worker from itself, so the workers
    start with those modules imported. The fork server is shared by the whole process and reads
    the list when it starts: a later pool with other modules still works, importing them per worker.
    """
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    if preload:
        ctx.set_forkserver_preload(["__main__", *preload])
    return ctx


def start_fork_server(preload: tuple[str, ...]) -> None:
    """Start the fork server now (where there is one), so that it imports ``preload`` while this
    process does its own set-up; worker pools made later fork their workers from it."""
    ctx = _pool_context(preload)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


class LocalExecutor:
    """Map a picklable per-chunk function over a stream with ``workers`` processes."""

    def __init__(
        self,
        workers: int,
        *,
        chunk_size: int = 4,
        max_in_flight: int | None = None,
        initializer: Callable[..., Any] | None = None,
        initargs: tuple = (),
        preload: tuple[str, ...] = (),
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.workers = workers
        self.chunk_size = max(1, chunk_size)
        self.max_in_flight = max_in_flight or max(2, 2 * workers)
        self.initializer = initializer
        self.initargs = initargs
        self.preload = preload
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        if self.workers > 0:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_pool_context(self.preload),
                initializer=self.initializer,
                initargs=self.initargs,
            )
        elif self.initializer is not None:
            self.initializer(*self.initargs)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            # On an error or interrupt do not wait for queued chunks: their results would be discarded.
            self._pool.shutdown(wait=exc_info[0] is None, cancel_futures=True)
            self._pool = None

    def map_ordered(self, fn: Callable[[list[T]], list[R]], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(chunk)`` results item by item, in input order, with bounded work in flight."""
        chunks = _chunks(items, self.chunk_size)
        if self._pool is None:
            for chunk in chunks:
                yield from fn(chunk)
            return
        pending: deque[Future] = deque()
        for chunk in chunks:
            pending.append(self._pool.submit(fn, chunk))
            while len(pending) >= self.max_in_flight:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def run_local(items: Iterable[Any], plan: Any, summary: Any, bars: Any) -> Iterator[Any]:
    """The local executor: grounding batched in this process, views in ``workers`` processes.

    Results come back in source order; the store writer stays in the caller (this process).
    """
    from functools import partial

    from vzero_data.pipeline.stages import build_views_chunk, ground_stream

    ex = plan.recipe.execution
    grounded = ground_stream(items, plan.make_grounding(), ex.grounding_batch_size, summary, bars)
    with LocalExecutor(
        ex.workers, chunk_size=ex.samples_per_task, max_in_flight=ex.max_in_flight, preload=plan.preload()
    ) as pool:
        for result in pool.map_ordered(partial(build_views_chunk, plan=plan), grounded):
            summary.add_time("views", result.seconds)
            bars.update("views")
            yield result
