"""``DIR/report.json`` and ``DIR/report.md``: the sandbox's measured tables, and its plots.

The report says what happened, not only how often a student was right: every arm's answer
distribution and unparseable share, a flag on a collapsed arm (one answer for most items), chance
next to every accuracy, and a pointer to ``docs/sandbox.md`` for how to read it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

DOCS = "docs/sandbox.md"


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def _num(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _answers(profile: dict[str, Any]) -> str:
    top = ", ".join(f"{a['answer']} {100 * a['share']:.0f}%" for a in profile.get("answers", [])[:3])
    return top or "-"


def _world_line(report: dict[str, Any]) -> str:
    world, knobs, sc = report["world"], report["world"]["knobs"], report["world"]["shortcut"]
    if world.get("name", "shared_colour") == "big_small":
        what = (
            f"Big-small scenes {knobs['size']} px: a big target (side {knobs['target_side'][0]:.2f}-"
            f"{knobs['target_side'][1]:.2f} of the image) and a small distractor in another quadrant, "
            f"{knobs['n_options']} colour options"
        )
    else:
        what = (
            f"Shared-colour scenes {knobs['size']} px, {knobs['n_options']} options, "
            f"{knobs['objects_per_colour']} objects per colour"
        )
    return (
        f"**World.** {what}. The rule '{sc['rule']}' (no model) scores {_pct(sc['accuracy'])}% on the "
        f"test split (n={sc['n']}); chance is {_pct(sc['chance'])}%."
    )


def markdown(report: dict[str, Any]) -> str:
    chance = report["world"]["shortcut"]["chance"]
    lines = [f"# vzero sandbox report ({'quick' if report['quick'] else 'full'} run)", ""]
    lines.append(f"How to read this report, and what the sandbox found so far: `{DOCS}`.  ")
    lines.append(f"Command: `{report['command']}`  ")
    lines.append(f"Wall time: {report['wall_time_s']:.0f} s on {report['machine']['description']}  ")
    lines.append(
        f"Test items: {report['world']['sizes']['test']}; OPD steps per arm: {report['steps']['arm']}"
    )
    lines += ["", _world_line(report), ""]
    collapsed = [name for name, a in report["arms"].items() if a["answers"].get("collapsed")]
    if collapsed:
        lines += [
            f"**Warning: collapsed students.** {', '.join(collapsed)} gave one answer to most test items "
            "(see the answers column): their accuracy measures how often that answer is right, not "
            "what they learned. See the report's guide for the usual causes.",
            "",
        ]
    lines += [
        "## Teacher (SFT on full image + positive crop), by what it sees with the full image",
        "",
        "| view | accuracy % | n | mean log-prob of the answer |",
        "|---|---|---|---|",
    ]
    for view, s in report["teacher"]["views"].items():
        lines.append(f"| {view} | {_pct(s['accuracy'])} | {s['n']} | {s['correct_logprob']:.3f} |")
    lines += [
        "",
        f"## Arms (greedy answers on held-out test scenes, `vzero-train eval`; chance {_pct(chance)}%)",
        "",
        "| arm | accuracy % | 95% CI | n | seeds | unparseable % | top answers | collapsed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, a in report["arms"].items():
        prof = a["answers"]
        lines.append(
            f"| {name} | {_pct(a['accuracy'])} | {_pct(a['ci_low'])}-{_pct(a['ci_high'])} | {a['n']} | "
            f"{a['seeds']} | {_pct(prof.get('unparseable'))} | {_answers(prof)} | "
            f"{'**yes**' if prof.get('collapsed') else 'no'} |"
        )
    if "sft" in report["arms"]:
        lines += [
            "",
            "`sft` is labelled SFT of the base student on the same scenes, batch and steps as the OPD "
            "arms: it reads the answers, so it is the ceiling the OPD arms are measured against, not a "
            "V-Zero arm. Every other arm reads no answer.",
        ]
    gated = {name: a["gate"] for name, a in report["arms"].items() if a.get("gate")}
    if gated:
        lines += [
            "",
            "## The gate in the gated arms (means over their logged steps)",
            "",
            "| arm | weight mean/min/max | frac at w_min | frac delta>0 |",
            "|---|---|---|---|",
        ]
        for name, g in gated.items():
            lines.append(
                f"| {name} | {g['gate/weight_mean']:.2f}/{g['gate/weight_min']:.2f}/{g['gate/weight_max']:.2f} | "
                f"{_num(g.get('gate/frac_at_w_min'))} | {_num(g.get('gate/frac_delta_pos'))} |"
            )
    if report["paired"]:
        lines += [
            "",
            "## Paired differences (same test items; OPD arms paired by training seed)",
            "",
            "| A - B | difference (points) | 95% CI (bootstrap over seeds and items) | seeds | "
            "wins/losses | exact p (sign test) |",
            "|---|---|---|---|---|---|",
        ]
        for p in report["paired"]:
            lines.append(
                f"| {p['a']} - {p['b']} | {100 * p['difference']:+.1f} | {100 * p['ci_low']:+.1f} to "
                f"{100 * p['ci_high']:+.1f} | {p['n_seeds']} | {p['wins']}/{p['losses']} | {p['p_value']:.3g} |"
            )
    if report.get("stages"):
        lines += ["", "## Time per stage (this invocation)", "", "| stage | seconds |", "|---|---|"]
        for stage, seconds in report["stages"].items():
            lines.append(f"| {stage} | {seconds:.0f} |")
    lines += ["", "## Checkpoints", ""]
    for name, a in report["arms"].items():
        for ckpt in a["checkpoints"]:
            lines.append(f"- {name}: `{ckpt}`")
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], out: Path) -> list[Path]:
    """``arms.png`` (accuracy per arm with CIs, chance line) and ``accuracy_vs_step.png`` (each arm's
    accuracy by OPD step with its CI band, from the base student at step 0); none without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return []
    chance = 100 * report["world"]["shortcut"]["chance"]
    names = list(report["arms"])
    arms = [report["arms"][n] for n in names]
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(names)), 4), dpi=110)
    acc = [100 * a["accuracy"] for a in arms]
    err = [
        [100 * (a["accuracy"] - a["ci_low"]) for a in arms],
        [100 * (a["ci_high"] - a["accuracy"]) for a in arms],
    ]
    colours = ["#c44e52" if a["answers"].get("collapsed") else "#4a7bb7" for a in arms]
    ax.bar(range(len(names)), acc, yerr=err, capsize=4, color=colours)
    ax.axhline(chance, color="grey", ls="--", lw=1, label=f"chance {chance:.0f}%")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend()
    fig.tight_layout()
    paths = [out / "arms.png"]
    fig.savefig(paths[0])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    lows, highs = [chance], [chance]
    for name, a in report["arms"].items():
        points = sorted((int(s), v) for s, v in a.get("by_step", {}).items())
        if len(points) < 2:
            continue
        steps = [s for s, _ in points]
        mean = [100 * v["accuracy"] for _, v in points]
        low = [100 * v["ci_low"] for _, v in points]
        high = [100 * v["ci_high"] for _, v in points]
        (line,) = ax.plot(steps, mean, marker="o", label=name)
        ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.15, lw=0)
        lows += low
        highs += high
    base = report["arms"].get("base")
    if base is not None:
        ax.errorbar(
            [0],
            [100 * base["accuracy"]],
            yerr=[[100 * (base["accuracy"] - base["ci_low"])], [100 * (base["ci_high"] - base["accuracy"])]],
            fmt="ks",
            capsize=4,
            label="base student",
        )
        lows.append(100 * base["ci_low"])
        highs.append(100 * base["ci_high"])
    ax.axhline(chance, color="grey", ls="--", lw=1, label=f"chance {chance:.0f}%")
    ax.set_ylim(max(0, min(lows) - 5), min(100, max(highs) + 5))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("OPD step")
    ax.set_ylabel("test accuracy (%), 95% CI")
    ax.legend(fontsize=8)
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
