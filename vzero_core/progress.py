"""Progress reporting for every long loop in vzero, one rule for all of them.

- a terminal on stderr gets a tqdm bar (count, total, rate, time remaining when the total is known);
- stderr that is not a terminal (a log file, a CI job, a pipe) gets a plain line every
  ``PlainProgress.interval`` seconds instead of a bar's carriage returns;
- nothing at all when the caller says ``enabled=False``, when ``TQDM_DISABLE`` is set in the
  environment, or inside :func:`progress_disabled` (what ``--no-progress`` and ``-q`` switch on).

Callers use :func:`progress_bar` exactly like ``tqdm(...)``: iterate it, or ``update``,
``set_postfix`` and ``close`` it (also as a context manager).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

_FALSE_WORDS = ("", "0", "false", "no", "off")
_disabled_depth = 0


def env_disables_progress() -> bool:
    """``TQDM_DISABLE`` set to anything but an empty/false word (tqdm's own convention)."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in _FALSE_WORDS


@contextmanager
def progress_disabled(disabled: bool = True) -> Iterator[None]:
    """While active (and ``disabled``), :func:`progress_bar` shows nothing anywhere in the process."""
    global _disabled_depth
    _disabled_depth += int(disabled)
    try:
        yield
    finally:
        _disabled_depth -= int(disabled)


def progress_allowed() -> bool:
    """Whether any progress may be shown now (not switched off by the environment or the CLI)."""
    return _disabled_depth == 0 and not env_disables_progress()


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class PlainProgress:
    """tqdm's interface, printing ``desc: n/total unit (rate/s, elapsed, eta)`` every ``interval``
    seconds to stderr: readable in a log file, where a bar's carriage returns are noise."""

    interval: float = 10.0

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        initial: int = 0,
    ) -> None:
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total = total
        self.desc = desc.strip()
        self.unit = unit
        self.n = initial
        self.initial = initial
        self.postfix = ""
        self.start = time.monotonic()
        self.last_print = self.start

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.update(1)

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last_print >= self.interval:
            self.last_print = now
            print(self.line(now), file=sys.stderr, flush=True)

    def line(self, now: float | None = None) -> str:
        """The progress line as it would be printed now."""
        elapsed = (now if now is not None else time.monotonic()) - self.start
        done = self.n - self.initial
        rate = done / elapsed if elapsed > 0 else 0.0
        count = f"{self.n}/{self.total}" if self.total is not None else str(self.n)
        parts = [f"{rate:.2f} {self.unit}/s", f"elapsed {format_duration(elapsed)}"]
        if self.total is not None and rate > 0:
            parts.append(f"eta {format_duration(max(0, self.total - self.n) / rate)}")
        text = f"{self.desc}: {count} {self.unit} ({', '.join(parts)})"
        return f"{text} {self.postfix}" if self.postfix else text

    def set_postfix(self, ordered_dict: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        values = {**(ordered_dict or {}), **kwargs}
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def set_description(self, desc: str) -> None:
        self.desc = desc.strip()

    def close(self) -> None:
        pass

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    **tqdm_kwargs: Any,
) -> Any:
    """A tqdm bar on a terminal, a :class:`PlainProgress` elsewhere, a silent one when switched off."""
    from tqdm.auto import tqdm

    if not (enabled and progress_allowed()):
        return tqdm(iterable, total=total, desc=desc, unit=unit, disable=True)
    if not stderr_is_terminal():
        return PlainProgress(
            iterable, total=total, desc=desc, unit=unit, initial=tqdm_kwargs.get("initial", 0)
        )
    tqdm_kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, total=total, desc=desc, unit=unit, **tqdm_kwargs)
