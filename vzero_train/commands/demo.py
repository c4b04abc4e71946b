"""Run the whole V-Zero demo on CPU in a few minutes: curate, train, then measure learning.

  curation (`vzero-data demo`): synthesize scenes, curate them with the shipped demo recipe (positive
      crops and every negative strategy), summarize the store, write a preview
  training: train tiny random student and teacher models with gated on-policy distillation on that
      store, using the `train:` section of the demo recipe (checkpoints, metrics.jsonl), then
      summarize the last step (losses, the gate's statistics, time per phase)
  learning (`vzero-train sandbox --quick`, skip with --no-sandbox): a tiny teacher and base student
      trained here from scratch, two OPD arms, all evaluated on held-out scenes; prints the teacher's
      accuracy with the positive crop against its negatives, and base vs plain vs gated student

Every `demo_out/` path of the recipe is moved under --out. Run it again and both halves resume:
curation finds nothing to do, training continues from its newest checkpoint.

example:
  vzero-train demo --out demo_out
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = "run the whole demo: synthesize, curate, preview, then train tiny models with V-Zero"

SUMMARY_KEYS = (
    "loss/policy",
    "opd/reverse_kl_k1",
    "rollout/response_length",
    "gate/weight_mean",
    "gate/weight_min",
    "gate/weight_max",
    "gate/frac_delta_pos",
    "gate/delta_mean",
    "time/encode",
    "time/rollout",
    "time/replay",
    "time/update",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="demo_out", help="output directory (default: demo_out)")
    parser.add_argument("--n", type=int, default=16, help="number of synthetic scenes (default: 16)")
    parser.add_argument("--steps", type=int, help="training steps (default: the recipe's)")
    parser.add_argument(
        "--no-sandbox",
        dest="sandbox",
        action="store_false",
        help="skip the quick evidence sandbox (about 3 minutes) that ends the demo",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="redraw the scenes and the preview already in --out"
    )


def moved_paths(section: dict[str, Any], out: str, prefix: str = "") -> dict[str, str]:
    """Dotted overrides moving every ``demo_out/...`` string of ``section`` under ``out``."""
    overrides: dict[str, str] = {}
    for key, value in section.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            overrides.update(moved_paths(value, out, f"{dotted}."))
        elif isinstance(value, str) and value.startswith("demo_out/"):
            overrides[dotted] = f"{out.rstrip('/')}/{value.removeprefix('demo_out/')}"
    return overrides


def last_metrics(history: list[dict[str, Any]], metrics_file: Path | None = None) -> str:
    """One line per interesting metric of the last logged step: this run's, or, when this run
    trained nothing (it was already finished), the last step ``metrics_file`` holds."""
    note = ""
    if not history and metrics_file is not None and metrics_file.is_file():
        from vzero_train.metrics import read_metrics

        history = [r for r in read_metrics(metrics_file) if "loss/policy" in r][-1:]
        note = f" (logged earlier, {metrics_file})"
    if not history:
        return "  (no steps logged)"
    last = history[-1]
    lines = [f"  step {last.get('step')}{note}"]
    keys = [k for k in SUMMARY_KEYS if k in last] + sorted(k for k in last if k.startswith("eval/"))
    for key in keys:
        value = last[key]
        lines.append(f"  {key:<28} {value:.4f}" if isinstance(value, float) else f"  {key:<28} {value}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import yaml

    from vzero_core.cli_support import CommandError
    from vzero_core.recipes import shipped_recipes
    from vzero_core.stage_times import StageTimes
    from vzero_data.cli import main as data_main
    from vzero_train.config import RecipeError, load_train_config

    times = StageTimes()
    data_args = ["demo", "--out", args.out, "--n", str(args.n)]
    data_args += ["--no-progress"] if args.no_progress else []
    data_args += ["--overwrite"] if args.overwrite else []
    with times.stage("curation demo", show=False):
        code = data_main(data_args)
    if code:
        return code

    recipe = shipped_recipes()["demo"]
    section = yaml.safe_load(recipe.read_text(encoding="utf-8"))["train"]
    overrides: dict[str, Any] = moved_paths(section, args.out)
    try:
        config = load_train_config(recipe, overrides)
    except RecipeError as exc:
        raise CommandError(str(exc)) from None

    from vzero_train.metrics import METRICS_FILE
    from vzero_train.trainer import train

    teacher = config.teacher.path or config.teacher.kind
    print(f"\n== training: {config.student} from {teacher} on {config.store} ==", flush=True)
    with times.stage("training", show=False):
        result = train(config, steps=args.steps)
    print(f"\n== training summary ({result.output_dir}) ==")
    if result.already_done:
        print(f"  already at step {result.step} of {args.steps or config.steps}: nothing trained")
    print(last_metrics(result.history, result.output_dir / METRICS_FILE))
    print(f"  checkpoint: {result.checkpoint}\n  metrics:    {result.output_dir / 'metrics.jsonl'}")
    if not result.already_done:
        print(f"  {result.times.format()}")
    if args.sandbox:
        with times.stage("sandbox", show=False):
            sandbox_summary(Path(args.out) / "sandbox")
    print(f"\nfull demo finished: outputs under {args.out}/")
    print(times.format())
    return 0


def sandbox_summary(out: Path) -> None:
    """Run the quick sandbox into ``out`` and print what the models learned on held-out scenes."""
    from vzero_train.commands.sandbox import default_recipe, quiet_trainer_logs
    from vzero_train.sandbox.run import run_sandbox

    print(f"\n== learning: the quick evidence sandbox ({out}) ==", flush=True)
    quiet_trainer_logs()
    report = run_sandbox(out, default_recipe(), quick=True, command="vzero-train sandbox --quick")
    views = report["teacher"]["views"]
    chance = report["world"]["shortcut"]["chance"]
    print(f"\n== what was learned (held-out test scenes; chance {chance:.0%}) ==")
    print("  teacher, trained here from scratch on full image + positive crop:")
    for view, label in (
        ("positive", "with the positive crop"),
        ("distractor", "with a distractor crop"),
        ("none", "with no crop"),
    ):
        if view in views:
            print(f"    {label:<32} {views[view]['accuracy']:6.1%}")
    print("  students (full image only):")
    for name, arm in report["arms"].items():
        flag = "  (collapsed: one answer for most items)" if arm["answers"].get("collapsed") else ""
        print(f"    {name:<30} {arm['accuracy']:6.1%}  [{arm['ci_low']:.1%}, {arm['ci_high']:.1%}]{flag}")
    base = report["arms"].get("base")
    for name, arm in report["arms"].items():
        if base is not None and name != "base":
            lift = 100 * (arm["accuracy"] - base["accuracy"])
            how = "labelled SFT, reads answers" if name == "sft" else "no answer read"
            print(f"  {name} vs the base student: {lift:+.1f} points ({how})")
    print(f"  report: {out / 'report.md'} (what the figures mean: docs/sandbox.md)")
