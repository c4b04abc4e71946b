"""Train a student with V-Zero gated on-policy distillation, from the `train:` section of a recipe.

Resumes from the newest complete checkpoint in the run's output folder unless --no-resume.

examples:
  vzero-train train demo
  vzero-train train demo --steps 2 --set gate.enabled=false --set rollout.group_size=4
  accelerate launch --num_processes 8 -m vzero_train.cli train qwen3vl_2b_from_8b
"""

from __future__ import annotations

import argparse

HELP = "train a student VLM with gated on-policy distillation (recipe's train: section)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser, "train", "2e-6")
    parser.add_argument(
        "--audited-by",
        metavar="TEACHER",
        help="train only on views this evidence audit accepted (sets data.audited_by; see `vzero-data audit`)",
    )


def add_run_arguments(parser: argparse.ArgumentParser, section: str, example_lr: str) -> None:
    """The arguments of a command that trains from a recipe's ``section``: the recipe, total steps,
    run folder, store, resume and ``--set`` overrides (``vzero-train train`` and ``sft``)."""
    parser.add_argument(
        "recipe",
        help=f"YAML recipe with a {section}: section (and a store path), or a shipped recipe's name",
    )
    parser.add_argument(
        "--steps", type=int, help="train until this many steps in total (default: the recipe's)"
    )
    parser.add_argument("--output-dir", help=f"run folder (default: the recipe's {section}.output_dir)")
    parser.add_argument("--store", help="store to read (default: the recipe's)")
    parser.add_argument("--no-resume", action="store_true", help="ignore existing checkpoints")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a {section} field (dotted key, YAML value), e.g. --set optim.lr={example_lr}",
    )


def check_inputs(config, where: str) -> None:
    """Fail before any model loads when the store or a model is missing: the store first (it is the
    input), then the student and an external teacher (folders, or hub ids cached or reachable)."""
    from vzero_core.cli_support import CommandError
    from vzero_core.model_source import model_source_problem
    from vzero_data.store import StoreError, open_store
    from vzero_train.config import TINY_PREFIX

    try:
        open_store(config.store)
    except StoreError as exc:
        raise CommandError(f"{where}: train.store: {exc}") from None
    models = {"student": config.student}
    if config.teacher.kind == "external" and config.teacher.path:
        models["teacher.path"] = config.teacher.path
    for field, name in models.items():
        if name.startswith(TINY_PREFIX):
            continue
        problem = model_source_problem(name)
        if problem:
            raise CommandError(f"{where}: train.{field}: {problem}")


def recipe_overrides(args: argparse.Namespace) -> list:
    """``--set`` strings plus ``--output-dir`` and ``--store`` as ``(field, value)`` overrides."""
    overrides: list = list(args.set)
    if args.output_dir:
        overrides.append(("output_dir", args.output_dir))
    if args.store:
        overrides.append(("store", args.store))
    if getattr(args, "audited_by", None):
        overrides.append(("data.audited_by", args.audited_by))
    return overrides


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_train.config import RecipeError, load_train_config

    overrides = recipe_overrides(args)
    try:
        config = load_train_config(args.recipe, overrides)
    except RecipeError as exc:
        raise CommandError(str(exc)) from None

    from vzero_core.recipes import resolve_recipe
    from vzero_train.checkpoint import DamagedCheckpointsError
    from vzero_train.preflight import PreflightError

    check_inputs(config, resolve_recipe(args.recipe).name)
    from vzero_train.trainer import train

    try:
        result = train(config, steps=args.steps, resume=not args.no_resume)
    except (ValueError, FileNotFoundError, DamagedCheckpointsError, PreflightError) as exc:
        raise CommandError(str(exc)) from exc
    if result.already_done:
        print(
            f"already at step {result.step} of {args.steps or config.steps}; checkpoint {result.checkpoint}"
        )
        return 0
    print(
        f"trained {result.step} steps; checkpoint {result.checkpoint}; metrics {result.output_dir / 'metrics.jsonl'}"
    )
    return 0
