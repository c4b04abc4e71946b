"""``DIR/report.json`` and ``DIR/report.md``: the sandbox's measured table, and its plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# vzero sandbox report ({'quick' if report['quick'] else 'full'} run)", ""]
    lines.append(f"Command: `{report['command']}`  ")
    lines.append(f"Wall time: {report['wall_time_s']:.0f} s on {report['machine']['description']}  ")
    lines.append(f"Seeds: {report['seeds']}; test items per seed: {report['world']['sizes']['test']}")
    lines.append("")
    sc = report["world"]["shortcut"]
    lines.append(
        f"**World.** Shared-colour scenes {report['world']['knobs']['size']} px, "
        f"{report['world']['knobs']['n_options']} options, {report['world']['knobs']['objects_per_colour']} objects "
        f"per colour. The rarest-colour rule (no localisation) scores {_pct(sc['accuracy'])}% on the test split "
        f"(n={sc['n']}, chance {_pct(sc['chance'])}%)."
    )
    lines += [
        "",
        "## Teacher (SFT on full image + positive crop)",
        "",
        "| view | accuracy % | n | mean log-prob of the answer |",
        "|---|---|---|---|",
    ]
    for view, s in report["teacher"]["views"].items():
        lines.append(f"| {view} | {_pct(s['accuracy'])} | {s['n']} | {s['correct_logprob']:.3f} |")
    lines += ["", "## Arms (greedy accuracy on held-out test scenes, `vzero-train eval`)", ""]
    lines += [
        "| arm | accuracy % | 95% CI | n | seeds | gate weight mean/min/max | frac at w_min | frac delta>0 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, a in report["arms"].items():
        g = a.get("gate") or {}
        gw = (
            f"{g['gate/weight_mean']:.2f}/{g['gate/weight_min']:.2f}/{g['gate/weight_max']:.2f}"
            if "gate/weight_mean" in g
            else "-"
        )
        lines.append(
            f"| {name} | {_pct(a['accuracy'])} | {_pct(a['ci_low'])}-{_pct(a['ci_high'])} | {a['n']} | {a['seeds']} | {gw} | "
            f"{g.get('gate/frac_at_w_min', float('nan')):.2f} | {g.get('gate/frac_delta_pos', float('nan')):.2f} |"
        )
    if report["paired"]:
        lines += ["", "## Paired differences (same items and seeds)", ""]
        lines += [
            "| A - B | difference (points) | 95% CI (paired bootstrap) | wins/losses | exact p |",
            "|---|---|---|---|---|",
        ]
        for p in report["paired"]:
            lines.append(
                f"| {p['a']} - {p['b']} | {100 * p['difference']:+.1f} | {100 * p['ci_low']:+.1f} to {100 * p['ci_high']:+.1f} | "
                f"{p['wins']}/{p['losses']} | {p['p_value']:.3g} |"
            )
    lines += ["", "## Checkpoints", ""]
    for name, a in report["arms"].items():
        for ckpt in a["checkpoints"]:
            lines.append(f"- {name}: `{ckpt}`")
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], out: Path) -> list[Path]:
    """``arms.png`` (accuracy per arm with CIs) and ``accuracy_vs_step.png``; none without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    names = list(report["arms"])
    arms = [report["arms"][n] for n in names]
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(names)), 4), dpi=110)
    acc = [100 * a["accuracy"] for a in arms]
    err = [
        [100 * (a["accuracy"] - a["ci_low"]) for a in arms],
        [100 * (a["ci_high"] - a["accuracy"]) for a in arms],
    ]
    ax.bar(range(len(names)), acc, yerr=err, capsize=4, color="#4a7bb7")
    ax.axhline(100 * report["world"]["shortcut"]["chance"], color="grey", ls="--", lw=1, label="chance")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("test accuracy (%)")
    ax.legend()
    fig.tight_layout()
    paths = [out / "arms.png"]
    fig.savefig(paths[0])
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for name, a in report["arms"].items():
        steps = sorted((int(s), v) for s, v in a.get("by_step", {}).items())
        if len(steps) > 1:
            ax.plot([s for s, _ in steps], [100 * v for _, v in steps], marker="o", label=name)
    ax.set_xlabel("OPD step")
    ax.set_ylabel("test accuracy (%)")
    if ax.lines:
        ax.legend()
    fig.tight_layout()
    paths.append(out / "accuracy_vs_step.png")
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def write(report: dict[str, Any], out: Path) -> dict[str, Path]:
    paths = {"json": out / "report.json", "markdown": out / "report.md"}
    paths["json"].write_text(json.dumps(report, indent=2, default=str) + "\n")
    paths["markdown"].write_text(markdown(report))
    for p in plot(report, out):
        paths[p.stem] = p
    return paths
