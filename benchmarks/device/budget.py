"""The check's time: one budget for the whole run, and a cap on each part inside it.

A part runs under :meth:`Budget.capped`: when its cap (or the run's budget, whichever comes first)
runs out, a timer raises :class:`OutOfTime` in the part, wherever it is. ``OutOfTime`` is not an
``Exception``, so the ``except Exception`` blocks of the code a part calls cannot swallow it. A part
that loops over measurements asks :meth:`Budget.left` before starting another one, so it usually
stops between measurements on its own.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator


class OutOfTime(BaseException):
    """A part's cap or the run's budget ran out."""


class Budget:
    """Seconds left for the run (``seconds`` from creation) and for the part running now."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.deadline = clock() + seconds
        self.part_deadline = self.deadline

    def remaining(self) -> float:
        """Seconds left in the run."""
        return self.deadline - self.clock()

    def left(self) -> float:
        """Seconds left for the part running now (the run's, outside a part)."""
        return min(self.part_deadline, self.deadline) - self.clock()

    @contextlib.contextmanager
    def capped(self, cap_s: float) -> Iterator[float]:
        """Run the block for at most ``cap_s`` seconds and within the run's budget; yields the limit.
        Raises :class:`OutOfTime` at once when nothing is left, and inside the block when it overruns."""
        limit = min(cap_s, self.remaining())
        if limit <= 0:
            raise OutOfTime("the run's budget is spent")
        self.part_deadline = self.clock() + limit

        def expire(signum: int, frame: object) -> None:
            raise OutOfTime(f"stopped at its limit of {limit:.3g} s")

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            yield limit
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.part_deadline = self.deadline
