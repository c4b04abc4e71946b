"""Progress reporting for every long loop in vzero, one rule for all of them.

- a terminal on stderr gets a tqdm bar (count, total, rate, time remaining when the total is known);
- stderr that is not a terminal (a log file, a CI job, a pipe) gets a plain line every
  ``PlainProgress.interval`` seconds instead of a bar's carriage returns, from a timer, so a single
  slow step (a model's forward, a checkpoint) still shows the clock moving; the line is written
  when it is due, never at an update (so it shows the postfix set after that update), and a bar
  that printed ends with a last line holding its final count and postfix;
- nothing at all when the caller says ``enabled=False``, when ``TQDM_DISABLE`` is set in the
  environment, or inside :func:`progress_disabled` (what ``--no-progress`` and ``-q`` switch on).

Only the innermost open display prints: a validation pass inside a training loop speaks for both.
Work with no count (loading a model, a long single call) runs inside :func:`activity`, which gives
it the same periodic line (``loading models: elapsed 0:20``).

Callers use :func:`progress_bar` exactly like ``tqdm(...)``: iterate it, or ``update``,
``set_postfix`` and ``close`` it (also as a context manager).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
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


def main_process() -> bool:
    """Whether this is the main process of a launched job (``RANK`` unset or 0, as ``torchrun`` and
    ``accelerate launch`` set it): the other processes show no progress, or every line comes N times."""
    return os.environ.get("RANK", "0").strip() in ("", "0")


def progress_allowed() -> bool:
    """Whether any progress may be shown now (not switched off by the environment or the CLI, and
    this is a job's main process)."""
    return _disabled_depth == 0 and not env_disables_progress() and main_process()


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


_open_beats: list[Heartbeat] = []  # the open periodic displays, innermost last
_beats_lock = threading.Lock()


class Heartbeat:
    """Writes ``line()`` of its owner to stderr every ``interval`` seconds from a daemon thread,
    while the owner is the innermost open display and is alive; :meth:`close` writes a last line
    when the owner has printed, or lived for an interval. ``interval`` 0 starts no thread."""

    def __init__(self, line: Callable[[], str], interval: float) -> None:
        self._line = weakref.WeakMethod(line) if hasattr(line, "__self__") else (lambda: line)
        self.interval = interval
        self.start = time.monotonic()
        self.printed = False
        self._stop = threading.Event()
        with _beats_lock:
            _open_beats.append(self)
        if interval > 0:
            threading.Thread(target=self._run, name="vzero-progress", daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            line = self._line()
            if line is None:  # the owner is gone without closing
                self.close(final=False)
                return
            if self.innermost():
                self.emit(line())
            del line

    def innermost(self) -> bool:
        with _beats_lock:
            return bool(_open_beats) and _open_beats[-1] is self

    def emit(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)
        self.printed = True

    def close(self, *, final: bool = True) -> None:
        """Stop the timer; with ``final``, write the owner's last line if it printed or lived for
        an interval (a short loop stays silent; a long one ends on its true final state)."""
        if self._stop.is_set():
            return
        self._stop.set()
        with _beats_lock:
            if self in _open_beats:
                _open_beats.remove(self)
        line = self._line()
        if final and line is not None and (self.printed or time.monotonic() - self.start >= self.interval):
            self.emit(line())


class PlainProgress:
    """tqdm's interface, printing ``desc: n/total unit (rate/s, elapsed, eta)`` every ``interval``
    seconds to stderr (see :class:`Heartbeat`): readable in a log file, where a bar's carriage
    returns are noise."""

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
        self._beat = Heartbeat(self.line, self.interval)

    def __iter__(self) -> Iterator[Any]:
        try:
            for item in self.iterable or ():
                yield item
                self.update(1)
        finally:
            self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

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
        self._beat.close()

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


class _Activity:
    """What :func:`activity` shows: ``desc: elapsed 0:20``."""

    def __init__(self, desc: str) -> None:
        self.desc = desc.strip()
        self.start = time.monotonic()

    def line(self) -> str:
        return f"{self.desc}: elapsed {format_duration(time.monotonic() - self.start)}"


@contextmanager
def activity(desc: str, *, enabled: bool = True) -> Iterator[None]:
    """Show that work with no count is going on (``loading models``): off a terminal a line
    ``desc: elapsed M:SS`` every interval while the block runs and nothing inner reports; on a
    terminal a one-line timer that disappears at the end."""
    if not (enabled and progress_allowed()):
        yield
        return
    shown = _Activity(desc)
    if not stderr_is_terminal():
        beat = Heartbeat(shown.line, PlainProgress.interval)
        try:
            yield
        finally:
            beat.close()
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=None, desc=shown.desc, bar_format="{desc}: {elapsed}", leave=False, dynamic_ncols=True)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(1.0):
            bar.refresh()

    threading.Thread(target=tick, name="vzero-activity", daemon=True).start()
    try:
        yield
    finally:
        stop.set()
        bar.close()
