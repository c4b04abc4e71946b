"""Start a training run on this machine's GPUs under `accelerate launch`, after checking it first.

Everything that can fail before a model loads is checked here, in one process: the recipe and every
--set, the accelerate config (a file, or the name of one that ships with vzero: `fsdp_8gpu`), the
store, the student and teacher (a folder, or a hub id cached or reachable), and one GPU per process.
A problem is one `error:` line and exit code 2, before any process starts. Then it runs
`accelerate launch [its options] -m vzero_train.cli train RECIPE ...` with this Python; the command
is printed first. Options not given come from the recipe header's `vzero-train launch` line, then
from the accelerate config.

examples:
  vzero-train launch qwen3vl_2b_from_8b --num-processes 8
  vzero-train launch qwen35_4b_from_27b --accelerate-config fsdp_8gpu --dry-run
  vzero-train launch demo --cpu --num-processes 1 --steps 2
"""

from __future__ import annotations

import argparse

HELP = "check a training run, then start it under accelerate launch (one process per GPU)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vzero_train.commands.train import add_run_arguments

    add_run_arguments(parser, "train", "2e-6")
    parser.add_argument(
        "--accelerate-config",
        metavar="NAME_OR_FILE",
        help="accelerate config file, or a shipped one's name (default: the recipe header's)",
    )
    parser.add_argument(
        "--num-processes", type=int, help="processes, one per GPU (default: the header's, else the config's)"
    )
    parser.add_argument("--cpu", action="store_true", help="run on the CPU (a trial; no GPU needed)")


def run(args: argparse.Namespace) -> int:
    import sys

    from vzero_core.recipes import resolve_recipe
    from vzero_train.commands.train import check_inputs, load_config, train_arguments
    from vzero_train.launcher import accelerate_command, check_gpus, plan_launch, run_launch, shown
    from vzero_train.precision import mixed_precision_mode

    config = load_config(args)
    if config is None:  # --print-config
        return 0
    recipe = resolve_recipe(args.recipe)
    plan = plan_launch(
        recipe, config_file=args.accelerate_config, num_processes=args.num_processes, cpu=args.cpu
    )
    check_inputs(config, recipe.name)
    check_gpus(plan, recipe.name)
    cmd = accelerate_command(
        plan,
        train_arguments(args),
        mixed_precision=mixed_precision_mode(config.mixed_precision, "cpu" if plan.cpu else config.device),
    )
    if args.dry_run:
        print(f"checked: recipe, store {config.store}, models, {plan.processes} process(es); would run:")
        print(shown(cmd))
        return 0
    print(f"launching: {shown(cmd)}", file=sys.stderr, flush=True)
    return run_launch(cmd)
