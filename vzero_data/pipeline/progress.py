"""Curation progress: one tqdm bar per stage on a terminal (count, total, rate, time remaining), one
plain periodic line for all stages elsewhere, nothing when progress is switched off.

The total is the number of source rows when it is cheap to know (a JSONL file or a synthetic
folder's manifest, capped by ``--limit``); otherwise the bars count without a total.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vzero_core.progress import (
    Heartbeat,
    PlainProgress,
    format_duration,
    progress_allowed,
    stderr_is_terminal,
)
from vzero_data.pipeline.summary import STAGES


def count_source_rows(adapter: str, path: str, limit: int | None = None) -> int | None:
    """Rows a line-per-row source holds (``jsonl``, ``synthetic``), capped by ``limit``; else ``limit``."""
    from vzero_data.synth import MANIFEST_NAME

    file = Path(path)
    if adapter == "synthetic" and file.is_dir():
        file = file / MANIFEST_NAME
    rows = None
    if adapter in ("jsonl", "synthetic") and file.is_file():
        with file.open("rb") as fh:
            rows = sum(1 for line in fh if line.strip())
    if limit is not None:
        return limit if rows is None else min(rows, limit)
    return rows


class StageBars:
    """Progress of ``ingest``, ``grounding``, ``views`` and ``store``; a no-op when disabled."""

    def __init__(
        self,
        enabled: bool,
        total: int | None = None,
        stages: Iterable[str] = STAGES,
        *,
        pending: int | None = None,
    ) -> None:
        """``total``: source rows (the first stage's total); ``pending``: samples the later stages
        will see, when known (rows minus those already curated)."""
        self.stages = list(stages)
        self.total = total
        self.totals = {name: total if i == 0 else pending for i, name in enumerate(self.stages)}
        self.counts = dict.fromkeys(self.stages, 0)
        self.mode = (
            "off" if not (enabled and progress_allowed()) else "bars" if stderr_is_terminal() else "lines"
        )
        self.bars: dict[str, Any] = {}
        if self.mode == "bars":
            from tqdm.auto import tqdm

            self.bars = {
                name: tqdm(
                    total=self.totals[name],
                    desc=f"{name:>9}",
                    unit="sample",
                    position=i,
                    leave=True,
                    dynamic_ncols=True,
                    smoothing=0.1,
                )
                for i, name in enumerate(self.stages)
            }
        self.start = time.monotonic()
        # off a terminal: one line for all stages every interval, from a timer (vzero_core.progress)
        self._beat = Heartbeat(self.line, PlainProgress.interval) if self.mode == "lines" else None

    def update(self, stage: str, n: int = 1) -> None:
        self.counts[stage] += n
        if self.mode == "bars":
            self.bars[stage].update(n)

    def line(self, now: float | None = None) -> str:
        """``curate: ingest 40/100, grounding 38, ... (2.10 samples/s, elapsed 0:19, eta 0:28)``."""
        elapsed = (now if now is not None else time.monotonic()) - self.start
        first = self.stages[0]
        counts = ", ".join(
            f"{name} {n}/{self.totals[name]}" if self.totals[name] is not None else f"{name} {n}"
            for name, n in self.counts.items()
        )
        rate = self.counts[first] / elapsed if elapsed > 0 else 0.0
        parts = [f"{rate:.2f} rows/s", f"elapsed {format_duration(elapsed)}"]
        if self.total is not None and rate > 0:
            parts.append(f"eta {format_duration(max(0, self.total - self.counts[first]) / rate)}")
        return f"curate: {counts} ({', '.join(parts)})"

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        if self._beat is not None:
            self._beat.close()

    def __enter__(self) -> StageBars:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
