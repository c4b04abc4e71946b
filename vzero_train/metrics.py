"""Training metrics: one JSON line per logged step (and TensorBoard scalars when it is installed,
and the trackers a recipe's ``report_to`` names: :mod:`vzero_train.trackers`).

Only the main process writes. On resume, lines for steps after the checkpoint (written by the
interrupted run) are dropped first, so the file reads as one uninterrupted run.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vzero_core.atomic_text import write_text_atomic

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"


class MetricsLogger:
    """Appends ``{"step": N, "time": unix, **metrics}`` lines to ``out_dir/metrics.jsonl``."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        *,
        enabled: bool = True,
        tensorboard: bool = True,
        resume_step: int | None = None,
        report_to: Sequence[str] = (),
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """``report_to``: trackers (``wandb``, ``mlflow``) that also get every logged step, with
        ``params`` (the resolved recipe section) as the run's parameters."""
        self.enabled = enabled
        self.path = Path(out_dir) / METRICS_FILE
        self._tb = None
        self._trackers: list[Any] = []
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is not None:
            truncate_after(self.path, resume_step)
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                logger.info("tensorboard is not installed; metrics go to %s only", self.path)
            else:
                self._tb = SummaryWriter(log_dir=str(Path(out_dir) / "tensorboard"))
        if report_to:
            from vzero_train.trackers import start_trackers

            self._trackers = start_trackers(report_to, Path(out_dir), params or {})

    def log(self, step: int, metrics: dict[str, Any]) -> None:
        if not self.enabled:
            return
        record = {"step": step, "time": round(time.time(), 3), **{k: _plain(v) for k, v in metrics.items()}}
        with self.path.open("a") as f:
            f.write(json.dumps(record, allow_nan=True) + "\n")
        if self._tb is not None:
            for key, value in record.items():
                if key not in ("step", "time") and isinstance(value, (int, float)):
                    self._tb.add_scalar(key, value, step)
        if self._trackers:
            from vzero_train.trackers import log_to_trackers

            log_to_trackers(
                self._trackers, step, {k: v for k, v in record.items() if k not in ("step", "time")}
            )

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._trackers:
            from vzero_train.trackers import finish_trackers

            finish_trackers(self._trackers)
            self._trackers = []


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of a metrics file, in order."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def truncate_after(path: Path, step: int) -> None:
    """Drop records with ``step`` greater than ``step`` (rewritten atomically)."""
    if not path.exists():
        return
    kept = [r for r in read_metrics(path) if r.get("step", 0) <= step]
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in kept))


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else value
    return value
