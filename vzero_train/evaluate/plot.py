"""Accuracy against training step, one line per benchmark (and their mean), with 95% CI bands.

Needs matplotlib (the ``plot`` extra: ``pip install "vzero[plot]"``). Checkpoints without a known
step are placed by their order in the report instead, labelled by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class PlotUnavailableError(RuntimeError):
    """matplotlib is not installed."""


def integer_ticks(axis: Any) -> None:
    """Ticks only at whole numbers on ``axis`` (training steps: no 2.5)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def plot_accuracy_vs_step(report: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Draw the report's checkpoints as accuracy (%) against step into a PNG at ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailableError('the accuracy plot needs matplotlib: pip install "vzero[plot]"') from exc

    checkpoints = list(report["checkpoints"])
    by_step = all(c["step"] is not None for c in checkpoints)
    if by_step:
        checkpoints.sort(key=lambda c: c["step"])
    xs = [c["step"] if by_step else i for i, c in enumerate(checkpoints)]
    names = list(dict.fromkeys(n for c in checkpoints for n in c["benchmarks"]))

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for name in names:
        points = [
            (x, c["benchmarks"][name]["overall"])
            for x, c in zip(xs, checkpoints, strict=True)
            if name in c["benchmarks"] and c["benchmarks"][name]["overall"]["accuracy"] is not None
        ]
        if not points:
            continue
        px = [x for x, _ in points]
        (line,) = ax.plot(px, [100 * s["accuracy"] for _, s in points], marker="o", label=name)
        ax.fill_between(
            px,
            [100 * s["ci_low"] for _, s in points],
            [100 * s["ci_high"] for _, s in points],
            color=line.get_color(),
            alpha=0.15,
            linewidth=0,
        )
    if len(names) > 1:
        avg = [(x, c["average"]) for x, c in zip(xs, checkpoints, strict=True) if c["average"] is not None]
        if avg:
            ax.plot([x for x, _ in avg], [100 * a for _, a in avg], "k--", marker="s", label="average")
    if by_step:
        integer_ticks(ax.xaxis)
    else:
        ax.set_xticks(xs, [c["label"] for c in checkpoints], rotation=30, ha="right")
    ax.set_xlabel("training step" if by_step else "checkpoint")
    ax.set_ylabel("accuracy % (95% Wilson CI)")
    ax.set_title("Accuracy against training step" if by_step else "Accuracy by checkpoint")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
