"""In-training validation: the student's greedy full-image accuracy on a held-out benchmark.

The trainer calls :meth:`Validator.evaluate` on the main process at the steps
:func:`validation_due` names. It answers with the training run's student template (V-Zero never
changes inference), writes every response to ``OUTPUT_DIR/eval/step_N/<name>.jsonl`` and returns
flat ``eval/<name>/...`` metrics for ``metrics.jsonl``. Evaluation leaves training untouched: the
global RNG streams (python, numpy, torch, CUDA) are saved before it and restored after it, so a run
with validation ends with the same weights as one without.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import shutil
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from vzero_core.vlm.prompts import PromptTemplates
from vzero_data.benchmarks import open_benchmark
from vzero_data.benchmarks.items import EvalDataError, Skipped
from vzero_train.config import ValidationConfig
from vzero_train.evaluate.report import prediction_writer, safe_name
from vzero_train.evaluate.runner import evaluate_model

if TYPE_CHECKING:
    from vzero_core.vlm.models import LoadedVLM

logger = logging.getLogger(__name__)

EVAL_DIRNAME = "eval"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def validation_due(config: ValidationConfig, step: int, total: int) -> bool:
    """Whether to evaluate after ``step`` (0: before training) of a run of ``total`` steps."""
    if not config.data:
        return False
    if step == 0:
        return config.at_start
    return step == total or (config.every > 0 and step % config.every == 0)


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Run the body and put the python, numpy, torch and CUDA random states back as they were."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


class Validator:
    """One held-out benchmark, opened (and its first entry read) up front so a bad path, format or
    file fails before training starts rather than at the first evaluation."""

    def __init__(
        self, config: ValidationConfig, templates: PromptTemplates, output_dir: str | os.PathLike[str]
    ) -> None:
        if not config.data:
            raise ValueError("validation.data names no benchmark")
        self.config = config
        self.templates = templates
        self.output_dir = Path(output_dir)
        try:
            self.benchmark = open_benchmark(config.data, config.format, name=config.name)
            first = next(iter(self.benchmark.items()), None)
        except EvalDataError as exc:
            raise ValueError(f"train.validation.data: {exc}") from exc
        if first is None:
            raise ValueError(f"train.validation.data: {config.data} holds no questions")
        if isinstance(first, Skipped):
            logger.warning("validation set %s: first entry skipped (%s)", config.data, first.reason)

    @property
    def name(self) -> str:
        return self.benchmark.name

    def predictions_path(self, step: int) -> Path:
        return self.output_dir / EVAL_DIRNAME / f"step_{step}" / f"{safe_name(self.name)}.jsonl"

    def discard_after(self, step: int) -> None:
        """Remove the predictions of steps after ``step`` (left by an interrupted run being resumed)."""
        root = self.output_dir / EVAL_DIRNAME
        if not root.is_dir():
            return
        for folder in root.iterdir():
            match = _STEP_DIR.match(folder.name)
            if match and int(match.group(1)) > step:
                shutil.rmtree(folder)

    def evaluate(self, vlm: LoadedVLM, step: int, *, progress: bool = True) -> dict[str, float]:
        """Greedy answers of ``vlm`` to the first ``limit`` questions, scored; the RNG streams and
        the model's train/eval mode are as they were afterwards."""
        cfg = self.config
        items = islice(self.benchmark.items(), cfg.limit) if cfg.limit else self.benchmark.items()
        t0 = time.perf_counter()
        with preserved_rng(), prediction_writer(self.predictions_path(step)) as write:
            try:
                result = evaluate_model(
                    vlm,
                    items,
                    batch_size=cfg.batch_size,
                    max_new_tokens=cfg.max_new_tokens,
                    templates=self.templates,
                    name=self.name,
                    progress=progress,
                    total=cfg.limit,
                    on_result=write,
                )
            except EvalDataError as exc:
                raise ValueError(f"train.validation.data: {exc}") from exc
        metrics = result.metrics(prefix=EVAL_DIRNAME)
        metrics["time/eval"] = time.perf_counter() - t0
        accuracy = metrics.get(f"{EVAL_DIRNAME}/{self.name}/accuracy")
        logger.info(
            "step %d: %s accuracy %s on %d questions",
            step,
            self.name,
            "n/a" if accuracy is None else f"{accuracy:.3f}",
            len(result.results),
        )
        return metrics
