"""Train a student with V-Zero gated on-policy distillation, from the `train:` section of a recipe.

Resumes from the newest complete checkpoint in the run's output folder unless --no-resume. A --set
key is the field's path in the recipe (train.optim.lr); the train. prefix may be left out. On GPUs,
start it with `vzero-train launch`, which checks the run before starting one process per GPU.

examples:
  vzero-train train demo
  vzero-train train demo --steps 2 --set train.gate.enabled=false --set train.rollout.group_size=4
  vzero-train train demo --set train.store=other/store --print-config
  vzero-train launch qwen3vl_2b_from_8b --num-processes 8
"""

from __future__ import annotations

import argparse
from typing import Any

from vzero_core.cli_support import add_set_option

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
    run folder, store, resume, ``--set`` overrides, ``--print-config`` and ``--dry-run``
    (``vzero-train train``, ``sft`` and ``launch``)."""
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
    add_set_option(
        parser,
        f"override a recipe field by its path in the recipe (YAML value), e.g. --set "
        f"{section}.optim.lr={example_lr}; the {section}. prefix may be left out",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help=f"print the {section}: section as it would run (defaults filled in, every --set applied) and stop",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the recipe, the store and the models as a run would, say what it would do, and stop",
    )


def load_config(args: argparse.Namespace, section: str = "train") -> Any:
    """The recipe's ``section`` with every override applied (a :class:`CommandError` naming the
    file and field otherwise); with ``--print-config``, printed as YAML, and ``None`` returned."""
    from vzero_core.cli_support import CommandError
    from vzero_core.recipe_base import RecipeError

    if section == "sft":
        from vzero_train.sft_config import load_sft_config as load
    else:
        from vzero_train.config import load_train_config as load
    try:
        config = load(args.recipe, recipe_overrides(args))
    except RecipeError as exc:
        raise CommandError(str(exc)) from None
    if getattr(args, "print_config", False):
        print(config_yaml(config, section, args.recipe), end="")
        return None
    return config


def config_yaml(config: Any, section: str, recipe: str) -> str:
    """``section:`` as YAML, every field (defaults included) in declaration order, after a comment
    naming the recipe."""
    import yaml

    body = yaml.safe_dump({section: config.model_dump(mode="json")}, sort_keys=False, width=100)
    return f"# {section}: section of {recipe}, as it would run (defaults filled in, --set applied)\n{body}"


def train_arguments(args: argparse.Namespace) -> list[str]:
    """The ``vzero-train train`` arguments that repeat ``args`` (what ``launch`` passes on)."""
    out = [args.recipe]
    for flag, value in (("--steps", args.steps), ("--output-dir", args.output_dir), ("--store", args.store)):
        if value is not None:
            out += [flag, str(value)]
    if args.no_resume:
        out.append("--no-resume")
    for override in args.set:
        out += ["--set", override]
    for flag in ("quiet", "verbose", "no_progress"):
        if getattr(args, flag, False):
            out.append("--" + flag.replace("_", "-"))
    return out


def check_inputs(config, where: str) -> None:
    """Fail before any model loads when the store or a model is missing: the store first (it is the
    input), then the student and an external teacher, then the trackers ``report_to`` names."""
    models = {"student": config.student}
    if config.teacher.kind == "external" and config.teacher.path:
        models["teacher.path"] = config.teacher.path
    check_run_inputs(where, "train", config.store, models, config.report_to)


def check_run_inputs(
    where: str, section: str, store: str | None, models: dict[str, str], report_to: list[str]
) -> None:
    """A :class:`CommandError` naming ``section``'s field when the store does not open, a model
    (a folder, or a hub id cached or reachable; ``tiny:`` ones are built here) cannot load, or a
    tracker's package is missing."""
    from vzero_core.cli_support import CommandError
    from vzero_core.model_source import model_source_problem
    from vzero_data.store import StoreError, open_store
    from vzero_train.config import TINY_PREFIX
    from vzero_train.trackers import TrackerError, require_trackers

    try:
        open_store(store)
    except StoreError as exc:
        raise CommandError(f"{where}: {section}.store: {exc}") from None
    for field, name in models.items():
        problem = None if name.startswith(TINY_PREFIX) else model_source_problem(name)
        if problem:
            raise CommandError(f"{where}: {section}.{field}: {problem}")
    try:
        require_trackers(report_to, f"{section}.report_to")
    except TrackerError as exc:
        raise CommandError(f"{where}: {exc}") from None


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
    from vzero_core.recipes import resolve_recipe
    from vzero_train.checkpoint import DamagedCheckpointsError
    from vzero_train.preflight import PreflightError
    from vzero_train.trackers import TrackerError

    config = load_config(args)
    if config is None:  # --print-config
        return 0
    check_inputs(config, resolve_recipe(args.recipe).name)
    if args.dry_run:
        print(dry_run_text(config, args.steps))
        return 0
    from vzero_train.trainer import train

    try:
        result = train(config, steps=args.steps, resume=not args.no_resume)
    except (ValueError, FileNotFoundError, DamagedCheckpointsError, PreflightError, TrackerError) as exc:
        raise CommandError(str(exc)) from exc
    if result.already_done:
        print(
            f"already at step {result.step} of {args.steps or config.steps}; checkpoint {result.checkpoint}"
        )
        return 0
    print(
        f"trained {result.step} steps; checkpoint {result.checkpoint}; metrics {result.output_dir / 'metrics.jsonl'}"
    )
    print(result.times.format())
    return 0


def dry_run_text(config: Any, steps: int | None) -> str:
    """What ``--dry-run`` prints once the inputs are found: the run it would start."""
    from vzero_train.checkpoint import latest_checkpoint

    teacher = config.teacher.path or config.teacher.kind
    newest = latest_checkpoint(config.output_dir)
    start = f"resume from {newest}" if newest is not None else "start at step 0"
    return (
        f"checked: recipe, store {config.store}, student {config.student}, teacher {teacher}\n"
        f"would train to step {steps or config.steps} in {config.output_dir} ({start}); nothing was run"
    )
