"""Run a CPU stage over a stream on one machine: worker processes, bounded in-flight work, input order.

``map_ordered`` pulls items lazily from its input, keeps at most ``max_in_flight`` chunks submitted,
and yields results in input order, so memory stays bounded however long the stream is and the
output does not depend on the worker count. ``workers=0`` runs everything in the calling process
(useful for debugging and for tiny runs where process start-up dominates).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
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


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """Ctrl-C (SIGINT) ignored in this process while it starts helper processes, which keep that
    for good (an ignored signal survives exec): Ctrl-C then reaches the run alone, which stops its
    workers itself, and no helper prints a traceback or a stray ``Process ForkServerProcess-1:``."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """A Ctrl-C arriving in the block is held until its end: a worker process is never left half
    started (forked, not yet registered with its pool) when the run stops."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def start_fork_server(preload: tuple[str, ...]) -> None:
    """Start the fork server now (where there is one), so that it imports ``preload`` while this
    process does its own set-up; worker pools made later fork their workers from it. It and the
    workers it forks ignore Ctrl-C (:func:`_interrupts_ignored`)."""
    ctx = _pool_context(preload)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with _interrupts_ignored():
            forkserver.ensure_running()


def _exit_when_parent_dies(alive: Any) -> None:
    """Block until the parent's end of the ``alive`` pipe closes (it exited or was killed), then exit.

    Workers are children of the fork server, not of the run, and block on a queue whose other end
    they hold themselves, so nothing else ends them when the run is killed (``kill -9``, the OOM
    killer); each would keep its memory and the dead run's stdout open, and keep the fork server and
    resource tracker alive with it.
    """
    with contextlib.suppress(EOFError, OSError):
        alive.recv()
    os._exit(1)


def _worker_init(alive: Any, initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    """Every pool worker's initializer: ignore Ctrl-C (the run stops its workers), watch the parent,
    die with the fork server, then the user's."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_parent_dies, args=(alive,), daemon=True).start()
    _die_with_parent_process()
    if initializer is not None:
        initializer(*initargs)


def _die_with_parent_process() -> None:
    """Linux: ask the kernel to SIGKILL this process when its parent (the fork server) dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the pipe watch above still ends the worker
        return


def default_in_flight(workers: int) -> int:
    """Chunks kept submitted by default: one running per worker and two queued behind it, so a
    worker still has work while the driver is busy between results (a store batch's flush and
    fsync can take longer than a chunk)."""
    return max(4, 3 * workers)


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
        self.max_in_flight = max_in_flight or default_in_flight(workers)
        self.initializer = initializer
        self.initargs = initargs
        self.preload = preload
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        if self.workers > 0:
            start_fork_server(self.preload)
            ctx = _pool_context(self.preload)
            # Only this process holds the send end: workers read EOF the moment it dies.
            alive_recv, self._alive_send = ctx.Pipe(duplex=False)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=ctx,
                initializer=_worker_init,
                initargs=(alive_recv, self.initializer, self.initargs),
            )
        elif self.initializer is not None:
            self.initializer(*self.initargs)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            if exc_info[0] is not None:
                # An error or Ctrl-C: no chunk's result is wanted. Stop the workers (SIGTERM: no
                # traceback, even from one still starting up) before the pool's queues go away.
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.terminate()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._alive_send.close()

    def map_ordered(self, fn: Callable[[list[T]], list[R]], items: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(chunk)`` results item by item, in input order, with bounded work in flight."""
        chunks = _chunks(items, self.chunk_size)
        if self._pool is None:
            for chunk in chunks:
                yield from fn(chunk)
            return
        pending: deque[Future] = deque()
        for chunk in chunks:
            with _interrupts_deferred():  # a submit may start a worker process
                pending.append(self._pool.submit(fn, chunk))
            while len(pending) >= self.max_in_flight:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def run_local(items: Iterable[Any], plan: Any, summary: Any, bars: Any) -> Iterator[Any]:
    """The local executor: grounding batched in this process, views in ``workers`` processes.

    Results come back in source order; the store writer stays in the caller (this process), which
    keeps each sample it sent until its result is back and attaches the source image's bytes to it
    there, instead of having the worker send them back.
    """
    from functools import partial

    from vzero_data.pipeline.stages import Grounded, build_views_chunk, ground_stream, stored_image

    ex = plan.recipe.execution
    grounded = ground_stream(items, plan.make_grounding(), ex.grounding_batch_size, summary, bars)
    sent: dict[str, Grounded] = {}

    def holding(stream: Iterable[Any]) -> Iterator[Any]:
        for item in stream:
            if isinstance(item, Grounded):
                sent[item.sample_id] = item
            yield item

    build = partial(build_views_chunk, plan=plan, keep_image=False)
    with LocalExecutor(
        ex.workers, chunk_size=ex.samples_per_task, max_in_flight=ex.max_in_flight, preload=plan.preload()
    ) as pool:
        for result in pool.map_ordered(build, holding(grounded)):
            item = sent.pop(result.sample_id, None)
            if item is not None and result.kept:
                result.image = stored_image(item)
            summary.add_time("views", result.seconds)
            bars.update("views")
            yield result
