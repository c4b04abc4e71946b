"""Run a curation recipe: ingest, grounding, views, checks and store, streaming and resumable.

The recipe is validated before any work starts. A run killed at any moment (even kill -9) and
started again finishes the remaining samples with no duplicates; started again once finished, it
does nothing and says so. --shard i/N processes only the samples whose id hashes to i mod N, so N
launches (a Slurm array, a job queue) can share one store.

examples:
  vzero-data curate demo --out demo_out/store
  vzero-data curate my_recipe.yaml --out store --workers 4 --limit 100
  vzero-data curate groundingdino_vstar --shard 3/8 --set execution.device=cuda:0
  vzero-data curate demo --executor ray
  vzero-data curate demo --set execution.workers=4 --print-config
  vzero-data curate groundingdino_vstar --set source.path=data/vstar_bench --dry-run
"""

from __future__ import annotations

import argparse

from vzero_core.cli_support import add_set_option

HELP = "run a curation recipe into a store (resumable, parallel, shardable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "recipe", help="recipe YAML file, or the name of a shipped recipe (see `vzero-data recipes`)"
    )
    parser.add_argument("--out", help="store directory (default: the recipe's store.path)")
    parser.add_argument("--limit", type=int, help="curate only the first N samples of the source")
    parser.add_argument("--workers", type=int, help="worker processes for decode/crop/encode (0: none)")
    parser.add_argument("--shard", default="0/1", help="process only shard i of N, written i/N (default 0/1)")
    parser.add_argument("--executor", choices=("local", "ray"), help="where stages run (default: recipe)")
    add_set_option(
        parser,
        "override a recipe field, e.g. --set execution.device=cuda (repeatable; YAML values)",
        dest="overrides",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the recipe as it would run (defaults filled in, every --set applied) with its "
        "config hash, and stop",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the recipe, the source, the grounding model and the store as a run would, say "
        "what it would start from, and stop (nothing is written)",
    )


def cli_overrides(args: argparse.Namespace) -> list[str]:
    """The recipe overrides implied by the command-line flags (validated like the recipe itself)."""
    out = list(args.overrides)
    for flag, key in (
        ("limit", "execution.limit"),
        ("workers", "execution.workers"),
        ("executor", "execution.executor"),
    ):
        value = getattr(args, flag)
        if value is not None:
            out.append(f"{key}={value}")
    if args.no_progress:
        out.append("execution.progress=false")
    return out


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_core.recipe_base import RecipeError
    from vzero_core.recipes import UnknownRecipe, resolve_recipe
    from vzero_data.pipeline.load import load_recipe
    from vzero_data.pipeline.runner import curate
    from vzero_data.pipeline.sharding import ShardSpecError, parse_shard

    try:
        shard = parse_shard(args.shard)
        path = resolve_recipe(args.recipe)
        recipe = load_recipe(path, cli_overrides(args))
    except (RecipeError, ShardSpecError, UnknownRecipe) as exc:
        raise CommandError(str(exc)) from None
    if args.print_config:
        print(recipe_yaml(recipe, path.name), end="")
        return 0
    store_path = args.out or recipe.store.path
    if not store_path:
        raise CommandError(f"{path.name}: no store given: pass --out STORE or set store.path in the recipe")
    from vzero_data.pipeline.runner import check_curation
    from vzero_data.sources import SourceError
    from vzero_data.store.layout import StoreError

    try:
        if args.dry_run:
            print(check_curation(recipe, store_path).format(recipe, store_path))
            return 0
        outcome = curate(recipe, store_path, shard=shard)
    except SourceError as exc:
        raise CommandError(f"{path.name}: source.path: {exc}{source_hint(recipe)}") from None
    except RecipeError as exc:
        raise CommandError(f"{path.name}: {exc}") from None
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    report_outcome(outcome, store_path, recipe.source.path, as_json=args.json)
    return 0


def recipe_yaml(recipe, name: str) -> str:
    """The validated recipe as YAML, every field in declaration order, after its config hash."""
    import yaml

    from vzero_core.recipe_base import RecipeError
    from vzero_data.pipeline.config_hash import config_hash

    try:
        chash = config_hash(recipe)
    except RecipeError as exc:  # an image pool that does not exist yet has no content to hash
        chash = f"not known yet ({exc})"
    body = yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False, width=100)
    return f"# {name} as it would run (defaults filled in, --set applied); config hash {chash}\n{body}"


def source_hint(recipe) -> str:
    """What makes a missing synthetic source, for the error message."""
    if recipe.source.adapter != "synthetic":
        return ""
    return (
        f"; make the scenes with `vzero-data synth --out {recipe.source.path}`, "
        "or add `synthesize: {n: 16}` to the recipe's source section"
    )


def report_outcome(outcome, store_path, source: str, *, as_json: bool = False) -> None:
    """Print a curation run's summary; warn on stderr when most samples were rejected; raise
    :class:`EmptyResult` (exit code 1) when a run kept nothing from a non-empty source, or the
    source was empty."""
    import json
    import sys

    from vzero_core.cli_support import EmptyResult
    from vzero_data.pipeline.reject_report import empty_run_problem, rejection_warning

    summary = outcome.summary
    if as_json:
        print(
            json.dumps(
                {
                    **summary.to_dict(),
                    "nothing_to_do": outcome.nothing_to_do,
                    "store": str(store_path),
                    **({"audit": outcome.audit.as_dict()} if outcome.audit is not None else {}),
                }
            )
        )
    elif outcome.nothing_to_do and outcome.already_curated:
        print(
            f"nothing to do: {outcome.already_curated} samples already curated for config "
            f"{summary.config_hash} in {store_path}"
            + (f" ({summary.other_shards} belong to other shards)" if summary.other_shards else "")
        )
    elif summary.seen:
        print(summary.format())
        print(f"store: {store_path}")
    if outcome.audit is not None and not as_json:
        print(outcome.audit.format())
    by_reason = summary.rejected_by_reason()
    warning = rejection_warning(by_reason, summary.processed)
    problem = empty_run_problem(
        rows_read=summary.seen,
        kept=summary.kept,
        already_done=summary.already_done + outcome.already_curated,
        rejected=by_reason,
        source=source,
    )
    if problem:
        raise EmptyResult(problem)
    if warning:
        print(warning, file=sys.stderr)
