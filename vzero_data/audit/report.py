"""An audit's report: ``report.json`` (the summary), ``report.md`` (its tables) and, with matplotlib
(the ``plot`` extra), ``gaps.png``: the histogram of each negative strategy's gaps, with the
``min_gap`` threshold marked."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from vzero_core.atomic_text import write_text_atomic
from vzero_data.audit.verdicts import FLAGS

CONTEXT_LABELS = {
    "positive": "full image + positive crop",
    "full_image": "full image alone",
    "crop_only": "positive crop alone",
    "text_only": "question alone",
}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _interval(d: dict[str, Any], scale: float = 100.0, digits: int = 1) -> str:
    if d.get("ci_low") is None:
        return "-"
    return f"{scale * d['ci_low']:.{digits}f}-{scale * d['ci_high']:.{digits}f}"


def strategy_table(summary: dict[str, Any]) -> list[str]:
    """The per-strategy table: removal rate with its Wilson interval, mean gap with its bootstrap
    interval, the teacher's accuracy with the view, and the reference's gate weight (median, 5-95%)."""
    lines = [
        "| negative strategy | evidence removed % | 95% CI | mean gap (nats) | 95% CI | accuracy with it % | gate weight median (5-95%) | n |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ranked = sorted(summary["strategies"].items(), key=lambda kv: -(kv[1]["removal"]["rate"] or 0.0))
    for name, s in ranked:
        gw = s["gate_weight"]
        weight = f"{gw['q50']:.2f} ({gw['q05']:.2f}-{gw['q95']:.2f})" if gw.get("n") else "-"
        gap = s["gap"]
        lines.append(
            f"| `{name}` | {_pct(s['removal']['rate'])} | {_interval(s['removal'])} | "
            f"{gap['mean']:.2f} | {_interval(gap, 1.0, 2)} | {_pct(s['accuracy']['rate'])} | {weight} | "
            f"{s['removal']['n']} |"
        )
    return lines


def markdown(summary: dict[str, Any], threshold: float | None = None) -> str:
    s = summary
    lines = [
        f"# Evidence audit: {s['teacher_id']}",
        "",
        f"Teacher `{s['teacher']}` (revision `{s['teacher_revision']}`), audit `{s['audit_hash']}` of the views "
        f"curated under config `{s['config_hash']}`: {s['samples']} samples "
        f"({s['modes']['labelled']} labelled, {s['modes']['label_free']} label-free"
        + (f", {s['failed']} failed" if s["failed"] else "")
        + ").",
        "",
        "## Negative views",
        "",
        "A negative removes the evidence when, in the crop's place, it lowers the reference answer's "
        "log-prob by at least the threshold"
        + (f" ({threshold:.3f} nats)" if threshold is not None else "")
        + ". Intervals: Wilson for rates, bootstrap for the mean gap.",
        "",
        *strategy_table(s),
        "",
        "## The teacher's accuracy by context (multiple choice)",
        "",
        "| context | accuracy % | 95% CI | n |",
        "|---|---|---|---|",
    ]
    for context, label in CONTEXT_LABELS.items():
        c = s["contexts"][context]
        lines.append(f"| {label} | {_pct(c['rate'])} | {_interval(c)} | {c['n']} |")
    zoom = s["zooming_gap"]
    lines += [
        "",
        f"Chance: {_pct(s['chance'])}%. Zooming gap: with the crop minus the full image alone "
        f"{_points(zoom['crop_minus_full'])} points; the crop alone minus the full image alone "
        f"{_points(zoom['crop_only_minus_full'])} points.",
        "",
        "## Flags",
        "",
        "| flag | rows |",
        "|---|---|",
        *(f"| `{f}` | {s['flags'].get(f, 0)} |" for f in FLAGS),
        "",
    ]
    gw = s["gate_weight"]
    if gw.get("n"):
        lines.append(
            "Gate weight of the reference over every negative: "
            + ", ".join(f"{k} {v:.2f}" for k, v in gw.items() if k != "n")
            + f" (n={gw['n']})."
        )
    return "\n".join(lines) + "\n"


def _points(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}"


def plot_gaps(gaps: dict[str, list[float]], path: Path, threshold: float | None = None) -> Path | None:
    """One histogram of gaps per strategy into ``path``; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = list(gaps)
    if not names:
        return None
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), dpi=110, squeeze=False, sharex=True)
    for ax, name in zip(axes.flat, names, strict=False):
        ax.hist(gaps[name], bins=30, color="#4c72b0")
        if threshold is not None:
            ax.axvline(threshold, color="#c44e52", linestyle="--", linewidth=1)
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.supxlabel("gap: log p(reference | positive) - log p(reference | negative), nats")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(
    summary: dict[str, Any],
    gaps: dict[str, list[float]],
    out: str | os.PathLike[str],
    *,
    threshold: float | None = None,
    plot: bool = True,
) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and (when it can) ``gaps.png`` into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "report.json", "markdown": folder / "report.md"}
    write_text_atomic(paths["json"], json.dumps({**summary, "min_gap": threshold}, indent=2) + "\n")
    write_text_atomic(paths["markdown"], markdown(summary, threshold))
    if plot:
        drawn = plot_gaps(gaps, folder / "gaps.png", threshold)
        if drawn is not None:
            paths["plot"] = drawn
    return paths
