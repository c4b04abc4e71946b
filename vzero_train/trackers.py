"""Experiment trackers beyond ``metrics.jsonl`` and TensorBoard: Weights & Biases and MLflow, through
accelerate's own tracker classes (``accelerate.tracking``), named in a recipe's ``report_to``.

Each run logs the resolved recipe section as its parameters and every logged step's numbers as
metrics. Where they go is the tracker's own business, set by its usual environment variables:

- ``wandb``: the project is ``WANDB_PROJECT`` (default ``vzero``), files go under the run folder;
  ``WANDB_MODE=offline`` keeps the run on disk (``wandb sync`` uploads it later);
- ``mlflow``: the experiment is ``MLFLOW_EXPERIMENT_NAME`` (default ``vzero``), the store
  ``MLFLOW_TRACKING_URI`` (a server, ``sqlite:///mlflow.db``, or a folder; MLflow asks for
  ``MLFLOW_ALLOW_FILE_STORE=true`` before it writes to a folder).

The run is named after the run folder. Only the main process logs.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

TRACKERS = ("wandb", "mlflow")
# the package each tracker needs, and the extra that installs it
PACKAGES = {"wandb": "wandb", "mlflow": "mlflow"}
DEFAULT_PROJECT = "vzero"


class TrackerError(ValueError):
    """A tracker that is not installed or could not start; the message says what to do."""


def missing_trackers(report_to: Iterable[str]) -> list[str]:
    """The trackers in ``report_to`` whose package is not installed."""
    return [name for name in report_to if importlib.util.find_spec(PACKAGES[name]) is None]


def require_trackers(report_to: Iterable[str], field: str = "report_to") -> None:
    """Raise :class:`TrackerError` naming the trackers whose package is missing."""
    missing = missing_trackers(report_to)
    if missing:
        raise TrackerError(
            f"{field}: {', '.join(missing)} is not installed (pip install "
            f"'vzero[track]', or pip install {' '.join(PACKAGES[m] for m in missing)})"
        )


def flat_params(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"optim": {"lr": 1e-6}}`` -> ``{"optim.lr": 1e-6}``; lists become their text."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_params(value, f"{name}."))
        else:
            out[name] = value if isinstance(value, (bool, int, float, str)) or value is None else str(value)
    return out


def start_trackers(report_to: Sequence[str], out_dir: Path, params: Mapping[str, Any]) -> list[Any]:
    """Started accelerate trackers for ``report_to``, each holding ``params`` (flattened)."""
    if not report_to:
        return []
    require_trackers(report_to)
    from accelerate import PartialState
    from accelerate.tracking import MLflowTracker, WandBTracker

    PartialState()  # the trackers ask it which process is the main one (an Accelerator made it already)

    run_name = out_dir.resolve().name
    trackers = []
    for name in dict.fromkeys(report_to):
        if name == "wandb":
            (out_dir / "wandb").mkdir(parents=True, exist_ok=True)
            tracker = WandBTracker(
                os.environ.get("WANDB_PROJECT", DEFAULT_PROJECT), name=run_name, dir=str(out_dir)
            )
        else:
            tracker = MLflowTracker(experiment_name=DEFAULT_PROJECT, run_name=run_name)
        try:
            tracker.start()
            tracker.store_init_configuration(flat_params(params))
        except Exception as exc:  # the tracker's own failure (no login, no server): say which and why
            finish_trackers(trackers)
            raise TrackerError(f"report_to {name}: could not start a run: {exc}{_hint(name)}") from exc
        trackers.append(tracker)
    return trackers


def _hint(name: str) -> str:
    if name == "wandb":
        return " (log in with `wandb login`, or set WANDB_MODE=offline to keep the run on disk)"
    return " (set MLFLOW_TRACKING_URI to a server or sqlite:///mlflow.db)"


def log_to_trackers(trackers: Sequence[Any], step: int, values: Mapping[str, Any]) -> None:
    """Log the numbers among ``values`` at ``step`` to every tracker."""
    numbers = {
        k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    for tracker in trackers:
        tracker.log(numbers, step=step)


def finish_trackers(trackers: Sequence[Any]) -> None:
    for tracker in trackers:
        tracker.finish()
