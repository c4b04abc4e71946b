"""The evidence sandbox: measure, with tiny models trained here on CPU, whether the gate and each
negative-view strategy change what a student learns.

Stages (each resumes when rerun): a shared-colour world in five splits disjoint by seed, curated
into stores; a tiny teacher trained by SFT on (full image, question, positive crop) -> answer and
checked with the positive crop, every negative view and no crop; a tiny base student trained by SFT
on full images of another split; the arms (base, plain OPD, the gate with each negative strategy,
random crops) trained from the base student without reading answers; every arm's checkpoints
evaluated on the test split with `vzero-train eval`; DIR/report.md and DIR/report.json with
accuracy, 95% CIs, paired differences and gate statistics, plus plots.

examples:
  vzero-train sandbox --out sandbox_out --quick
  vzero-train sandbox --out sandbox_full --seeds 3
  vzero-train sandbox --out sandbox_out --arms base,plain,gate_downsampled_distractor,random_crop
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

HELP = "evidence sandbox: teacher, base student and OPD arms trained on CPU, compared with CIs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="output folder (rerun to resume)")
    parser.add_argument("--quick", action="store_true", help="1 seed, 3 arms, small splits, few steps")
    parser.add_argument("--seeds", type=int, help="OPD seeds per arm (default: the recipe's)")
    parser.add_argument(
        "--arms", help="comma-separated arms (default: the recipe's), e.g. base,plain,random_crop"
    )
    parser.add_argument("--recipe", help="sandbox recipe file or shipped name (default: sandbox)")


def default_recipe() -> Path:
    """The shipped ``sandbox`` recipe (package data, so it is there after any install)."""
    from vzero_core.recipes import shipped_recipes

    return shipped_recipes()["sandbox"]


def quiet_trainer_logs() -> None:
    """Keep the trainers' info logs off the terminal: the sandbox prints its own progress per stage and arm."""
    import logging

    for name in ("vzero_train", "accelerate"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from vzero_core.cli_support import CommandError
    from vzero_train.config import RecipeError

    if args.seeds is not None and args.seeds < 1:
        raise CommandError(f"--seeds must be at least 1, got {args.seeds}")
    arms = [a.strip() for a in args.arms.split(",") if a.strip()] if args.arms else None
    if args.arms is not None and not arms:
        raise CommandError("--arms names no arm")
    from vzero_core.recipes import UnknownRecipe, resolve_recipe

    try:
        recipe = resolve_recipe(args.recipe) if args.recipe else default_recipe()
    except UnknownRecipe as exc:
        raise CommandError(str(exc)) from None
    quiet_trainer_logs()

    from vzero_train.sandbox.run import run_sandbox

    command = (
        "vzero-train sandbox " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if len(sys.argv) > 1 else ""
    )
    try:
        run_sandbox(args.out, recipe, quick=args.quick, seeds=args.seeds, arms=arms, command=command)
    except (ValueError, FileNotFoundError, RecipeError, ValidationError) as exc:
        raise CommandError(
            str(exc).splitlines()[0] if isinstance(exc, ValidationError) else str(exc)
        ) from exc
    return 0
