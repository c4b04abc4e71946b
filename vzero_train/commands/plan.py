"""Plan a training run's GPU memory per process before launching it.

Reads the recipe's train: section, the models' configs (a local folder's own, or the copy shipped
for the hub ids the shipped recipes name; nothing is downloaded), the store's image sizes (through
each model's image processor: visual tokens per image) and the parallelism of the accelerate config
the recipe's header launches with. Prints every component with its formula, the peak, and, when the
peak is over the device's memory, a warning and the recipe changes that would fit (exit code 1).

examples:
  vzero-train plan qwen3vl_2b_from_8b --store data/store
  vzero-train plan qwen35_4b_from_27b --image-size 1280x960
  vzero-train plan my.yaml --accelerate-config fsdp_8gpu.yaml --device-memory-gb 141 --json
"""

from __future__ import annotations

import argparse

from vzero_core.cli_support import add_set_option

HELP = "per-process GPU memory of a training recipe, before launch (warns when over the device)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="YAML recipe with a train: section, or a shipped recipe's name")
    parser.add_argument("--store", help="store whose image sizes to use (default: the recipe's)")
    parser.add_argument(
        "--image-size",
        metavar="WxH",
        help="assume every full image is WxH pixels (views half of it) instead of reading a store",
    )
    parser.add_argument("--device-memory-gb", type=float, default=80.0, help="memory of one GPU (default 80)")
    parser.add_argument("--num-processes", type=int, help="processes (default: the accelerate config's)")
    parser.add_argument(
        "--accelerate-config", help="accelerate config file (default: the one the recipe header names)"
    )
    parser.add_argument(
        "--text-tokens",
        type=int,
        help="text tokens per prompt (default: from the store's longest question, or 256 without one)",
    )
    add_set_option(
        parser,
        "override a recipe field by its path in the recipe (YAML value), e.g. --set "
        "train.micro_batch_size=1; the train. prefix may be left out",
    )
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from vzero_core.cli_support import CommandError
    from vzero_core.recipes import resolve_recipe
    from vzero_data.store import StoreError
    from vzero_train.config import RecipeError, load_train_config
    from vzero_train.memory_plan import build_plan
    from vzero_train.memory_plan.image_sizes import assumed_sizes, parse_size, store_sizes
    from vzero_train.memory_plan.model_shapes import ModelConfigError
    from vzero_train.memory_plan.parallelism import plan_parallelism
    from vzero_train.memory_plan.report import as_dict, render

    overrides: list = list(args.set)
    if args.store:
        overrides.append(("store", args.store))
    try:
        config = load_train_config(args.recipe, overrides)
        recipe = resolve_recipe(args.recipe)
    except RecipeError as exc:
        raise CommandError(str(exc)) from None
    if args.device_memory_gb <= 0:
        raise CommandError(f"--device-memory-gb must be positive, got {args.device_memory_gb}")
    if args.num_processes is not None and args.num_processes < 1:
        raise CommandError(f"--num-processes must be at least 1, got {args.num_processes}")
    try:
        parallelism = plan_parallelism(
            recipe, config_file=args.accelerate_config, num_processes=args.num_processes
        )
        if args.image_size:
            images = assumed_sizes(parse_size(args.image_size))
        elif config.store is None:
            raise CommandError(
                f"{recipe.name}: train.store is not set; pass --store STORE or --image-size WxH"
            )
        else:
            try:
                images = store_sizes(config.store, config.data)
            except StoreError as exc:
                raise CommandError(
                    f"{recipe.name}: train.store: {exc}; curate it first, or plan with --image-size WxH"
                ) from None
        inputs = build_plan(
            config, parallelism, images, text_tokens=args.text_tokens, device_gb=args.device_memory_gb
        )
    except (ValueError, FileNotFoundError, ModelConfigError) as exc:
        raise CommandError(f"{recipe.name}: {exc}") from None
    plan = inputs.plan()
    if args.json:
        print(json.dumps(as_dict(inputs, plan), indent=2))
    else:
        print(render(inputs, plan, recipe.name))
    return 0 if plan.fits else 1
