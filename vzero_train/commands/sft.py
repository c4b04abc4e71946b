"""Supervised fine-tuning from the `sft:` section of a recipe: (images, question) -> answer.

Reads a store's labelled records (the answers V-Zero itself never reads), asks each question as
evaluation does (lettered options and the answer instruction), and trains on the reference answer:
the option's text or letter. `inputs: full_and_positive` also shows the positive crop through the
teacher template (a teacher that reads the crop). Checkpoints have the trainer's layout, so
`vzero-train eval --model OUTPUT_DIR/checkpoints/step_N/model` evaluates them; a rerun resumes.

examples:
  vzero-train sft recipes/sandbox.yaml --store runs/world/student_store --output-dir runs/student
  vzero-train sft recipe.yaml --steps 200 --set optim.lr=1e-3 --set inputs=full_and_positive
"""

from __future__ import annotations

import argparse

HELP = "supervised fine-tuning on a store's labelled records (recipe's sft: section)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vzero_train.commands.train import add_run_arguments

    add_run_arguments(parser, "sft", "1e-3")


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_train.commands.train import recipe_overrides
    from vzero_train.config import RecipeError
    from vzero_train.sft_config import load_sft_config

    try:
        config = load_sft_config(args.recipe, recipe_overrides(args))
    except RecipeError as exc:
        raise CommandError(str(exc)) from None

    from vzero_train.sft import train_sft

    try:
        result = train_sft(
            config,
            steps=args.steps,
            resume=not args.no_resume,
            progress=not getattr(args, "no_progress", False),
        )
    except (ValueError, FileNotFoundError) as exc:
        raise CommandError(str(exc)) from exc
    last = result.history[-1]["loss/sft"] if result.history else float("nan")
    print(
        f"trained {result.step} SFT steps (last loss {last:.4f}); checkpoint {result.checkpoint}; "
        f"metrics {result.output_dir / 'metrics.jsonl'}"
    )
    return 0
