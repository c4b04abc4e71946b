"""Supervised fine-tuning from the `sft:` section of a recipe: (images, question) -> answer.

Reads a store's labelled records (the answers V-Zero itself never reads), asks each question as
evaluation does (lettered options and the answer instruction), and trains on the reference answer:
the option's text or letter. `inputs: full_and_positive` also shows the positive crop through the
teacher template (a teacher that reads the crop). Checkpoints have the trainer's layout, so
`vzero-train eval --model OUTPUT_DIR/checkpoints/step_N/model` evaluates them; a rerun resumes.

examples:
  vzero-train sft sandbox --store runs/world/student_store --output-dir runs/student
  vzero-train sft recipe.yaml --steps 200 --set sft.optim.lr=1e-3 --set sft.inputs=full_and_positive
  vzero-train sft sandbox --store runs/world/student_store --print-config
"""

from __future__ import annotations

import argparse

HELP = "supervised fine-tuning on a store's labelled records (recipe's sft: section)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vzero_train.commands.train import add_run_arguments

    add_run_arguments(parser, "sft", "1e-3")


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_core.recipes import resolve_recipe
    from vzero_train.commands.train import check_run_inputs, load_config
    from vzero_train.trackers import TrackerError

    config = load_config(args, "sft")
    if config is None:  # --print-config
        return 0
    check_run_inputs(
        resolve_recipe(args.recipe).name, "sft", config.store, {"model": config.model}, config.report_to
    )
    if args.dry_run:
        print(
            f"checked: recipe, store {config.store}, model {config.model}\n"
            f"would train to step {args.steps or config.steps} in {config.output_dir}; nothing was run"
        )
        return 0

    from vzero_train.sft import train_sft

    try:
        result = train_sft(
            config,
            steps=args.steps,
            resume=not args.no_resume,
            progress=not getattr(args, "no_progress", False),
        )
    except (ValueError, FileNotFoundError, TrackerError) as exc:
        raise CommandError(str(exc)) from exc
    last = result.history[-1]["loss/sft"] if result.history else float("nan")
    print(
        f"trained {result.step} SFT steps (last loss {last:.4f}); checkpoint {result.checkpoint}; "
        f"metrics {result.output_dir / 'metrics.jsonl'}"
    )
    print(result.times.format())
    return 0
