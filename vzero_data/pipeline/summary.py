"""What a curation run did: samples kept, rejected by reason, skipped, and time spent per stage."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

STAGES = ("ingest", "grounding", "views", "store")


def _count_rows(counts: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"stage": stage, "reason": reason, "count": n} for (stage, reason), n in sorted(counts.items())]


@dataclass
class RunSummary:
    """Counters and per-stage seconds of one run; ``format()`` is the end-of-run report."""

    config_hash: str
    shard: str = "0/1"
    seen: int = 0
    already_done: int = 0
    other_shards: int = 0
    duplicates: int = 0
    concurrent: int = 0  # samples a concurrent writer published first (counted here, not written)
    kept: int = 0
    views: int = 0
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @contextmanager
    def timed(self, stage: str):
        """Add the wall time of the ``with`` body to ``stage``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add_time(stage, time.perf_counter() - start)

    def add_time(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds

    def reject(self, stage: str, reason: str) -> None:
        """Count a sample rejected at ``stage``."""
        self.rejected[(stage, reason)] += 1

    def drop(self, stage: str, reason: str) -> None:
        """Count one negative view left out of a kept sample."""
        self.dropped[(stage, reason)] += 1

    @property
    def processed(self) -> int:
        return self.kept + sum(self.rejected.values())

    @property
    def wall_seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    def finish(self) -> None:
        self.finished = time.perf_counter()

    def to_dict(self) -> dict[str, Any]:
        return {
            "config_hash": self.config_hash,
            "shard": self.shard,
            "seen": self.seen,
            "already_done": self.already_done,
            "other_shards": self.other_shards,
            "duplicates": self.duplicates,
            "concurrent": self.concurrent,
            "kept": self.kept,
            "views": self.views,
            "rejected": _count_rows(self.rejected),
            "dropped_views": _count_rows(self.dropped),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "wall_seconds": round(self.wall_seconds, 3),
        }

    def rejected_by_reason(self) -> Counter[str]:
        """Rejected samples per reason, whatever the stage."""
        out: Counter[str] = Counter()
        for (_stage, reason), n in self.rejected.items():
            out[reason] += n
        return out

    def format(self) -> str:
        wall = self.wall_seconds
        rate = self.processed / wall if wall > 0 else 0.0
        n_rejected = sum(self.rejected.values())
        lines = [
            f"read {self.seen} rows, curated {self.processed} samples in {wall:.1f}s "
            f"({rate:.2f} samples/s), config {self.config_hash}, shard {self.shard}",
            f"  kept: {self.kept} samples, {self.views} views",
            f"  rejected: {n_rejected}"
            + (f" ({n_rejected / self.processed:.0%} of curated samples)" if n_rejected else ""),
        ]
        for (stage, reason), n in sorted(self.rejected.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"    {stage}: {reason}: {n} ({n / self.processed:.0%})")
        if self.dropped:
            lines.append(f"  negatives left out of kept samples: {sum(self.dropped.values())}")
            for (stage, reason), n in sorted(self.dropped.items(), key=lambda kv: (-kv[1], kv[0])):
                lines.append(f"    {stage}: {reason}: {n}")
        if self.already_done or self.other_shards or self.duplicates:
            lines.append(
                f"  skipped: {self.already_done} already curated, {self.other_shards} in other shards, "
                f"{self.duplicates} repeated in the source"
            )
        if self.concurrent:
            lines.append(
                f"  {self.concurrent} of these were published first by a concurrent run into the same "
                "store (written once, by it)"
            )
        stage_text = ", ".join(f"{k} {v:.1f}s" for k, v in self.stage_seconds.items())
        lines.append(f"  time per stage: {stage_text} (views: summed over workers)")
        return "\n".join(lines)
