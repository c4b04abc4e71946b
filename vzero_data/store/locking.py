"""Locks that make concurrent writers to one store safe, and tell a live run from a killed one.

* ``store_lock``: an exclusive ``flock`` on ``STORE/.vzero-store.lock``, held while a store is
  created and while a writer checks what is already stored and publishes a batch. Publishing is the
  only step that must not interleave; the work before it (grounding, views) runs in parallel.
* ``RunLease``: a ``flock`` on ``STORE/.runs/<run_id>.lock`` held by a run's main process for as long
  as it lives. The kernel drops it when the process dies, even by ``kill -9``, so a later run can tell
  that a run still recorded as ``running`` is gone.

``flock`` locks are per open file and released on process exit; on NFS, Linux emulates them with
POSIX byte-range locks, which the NFS lock manager shares between hosts. Where ``fcntl`` does not
exist (Windows) both are no-ops: one writer at a time is then the user's job.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".vzero-store.lock"
RUNS_DIR = ".runs"


def _open_lock(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)


@contextmanager
def store_lock(root: Path) -> Iterator[None]:
    """Hold the store's exclusive lock (blocking) for the ``with`` body; ``root`` must exist."""
    fd = _open_lock(root / LOCK_FILE)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


class RunLease:
    """A live run's claim on its run id; see the module docstring."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.path = root / RUNS_DIR / f"{run_id}.lock"
        self._fd: int | None = None

    def acquire(self) -> RunLease:
        self.path.parent.mkdir(exist_ok=True)
        fd = _open_lock(self.path)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLease:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def run_is_alive(root: Path, run_id: str) -> bool:
    """Whether the run ``run_id`` still holds its lease (its main process is alive, on any host)."""
    path = root / RUNS_DIR / f"{run_id}.lock"
    if not path.exists():
        return False
    if fcntl is None:  # pragma: no cover - cannot tell; never call a run dead on a guess
        return True
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:  # released between the two checks: it finished
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
