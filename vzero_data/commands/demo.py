"""Run the vzero demo end to end on the embedded data set (synthetic scenes), on CPU:

  1. synthesize cluttered scenes, each with a question about one small target and its exact box
  2. curate them with the shipped demo recipe: positive crops and one view of every negative strategy
  3. summarize the store (samples, views per strategy, rejects, box areas)
  4. write a preview (contact sheet + HTML gallery) of the curated views

Run it again and nothing is redone or replaced: the scenes already written are reused, curation
finds nothing to do (the store is resumable) and the preview is kept; --overwrite redraws the scenes
and the preview.

example:
  vzero-data demo --out demo_out
"""

from __future__ import annotations

import argparse

HELP = "run the end-to-end demo on synthetic scenes (synthesize, curate, stats, preview)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="demo_out", help="output directory (default: demo_out)")
    parser.add_argument("--n", type=int, default=16, help="number of synthetic scenes (default: 16)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--workers", type=int, help="curation worker processes (default: the recipe's)")
    parser.add_argument(
        "--overwrite", action="store_true", help="redraw the scenes and the preview already in --out"
    )


SCENE_SIZE = 1024


def scenes_written(folder, n: int, seed: int) -> bool | None:
    """Whether ``folder`` already holds exactly the demo's ``n`` scenes of ``seed`` (``None``: it
    holds no scenes; ``False``: other ones)."""
    from vzero_data.synth import MANIFEST_NAME
    from vzero_data.synth.manifest import read_manifest

    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return None
    try:
        records = list(read_manifest(manifest))
    except ValueError:
        return False
    wanted = [(seed, i, SCENE_SIZE, SCENE_SIZE) for i in range(n)]
    have = [(r.get("seed"), r.get("index"), r.get("width"), r.get("height")) for r in records]
    return have == wanted and all((folder / str(r.get("image"))).is_file() for r in records)


def demo_recipe_path():
    """The shipped ``demo`` recipe (package data, so the demo runs from any folder)."""
    from vzero_core.recipes import shipped_recipes

    return shipped_recipes()["demo"]


def demo_recipe_mapping(out, overrides: list[str]) -> dict:
    """The demo recipe's parsed YAML with ``overrides`` applied and its ``demo_out/`` paths moved
    under ``out`` (not validated; :func:`demo_recipe` validates it)."""
    import yaml

    from vzero_core.recipe_base import apply_overrides

    path = demo_recipe_path()
    data = apply_overrides(yaml.safe_load(path.read_text(encoding="utf-8")), overrides)

    def moved(value: str) -> str:
        return str(out / value.removeprefix("demo_out/")) if value.startswith("demo_out/") else value

    data["source"]["path"] = moved(data["source"]["path"])
    for neg in data["negatives"]:
        if neg.get("pool"):
            neg["pool"] = moved(neg["pool"])
    return data


def demo_recipe(out, overrides: list[str]):
    """The demo recipe with its ``demo_out/`` paths moved under ``out``."""
    from vzero_data.pipeline.load import recipe_from_mapping

    return recipe_from_mapping(demo_recipe_mapping(out, overrides), demo_recipe_path().name)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vzero_core.cli_support import CommandError
    from vzero_core.stage_times import StageTimes
    from vzero_data.commands.curate import report_outcome
    from vzero_data.commands.synth import format_summary
    from vzero_data.pipeline.runner import curate
    from vzero_data.preview import items_from_store, write_preview
    from vzero_data.store import open_store
    from vzero_data.store.stats import format_stats, store_stats
    from vzero_data.synth import MANIFEST_NAME, summarize, write_scenes

    out = Path(args.out)
    overrides = [f"execution.workers={args.workers}"] if args.workers is not None else []
    if args.no_progress:
        overrides.append("execution.progress=false")
    recipe = demo_recipe(out, overrides)
    store_dir = out / "store"
    synth_dir, preview_dir = out / "synth", out / "preview"
    preview_files = [preview_dir / "contact_sheet.png", preview_dir / "gallery.html"]
    found = scenes_written(synth_dir, args.n, args.seed)
    if found is False and not args.overwrite:
        raise CommandError(
            f"{synth_dir}: holds other scenes than the demo's {args.n} of seed {args.seed}; pass "
            "--overwrite to redraw them, or choose another --out"
        )
    times = StageTimes()

    print(f"[1/4] synthesizing {args.n} scenes into {synth_dir}", flush=True)
    if found and not args.overwrite:
        print(f"found the {args.n} scenes already written there (seed {args.seed}); not redrawn")
        manifest = synth_dir / MANIFEST_NAME
    else:
        with times.stage("synthesize", show=False):
            manifest = write_scenes(
                synth_dir, args.n, size=SCENE_SIZE, seed=args.seed, progress=not args.no_progress
            )
    print(format_summary(summarize(manifest)))

    print(f"\n[2/4] curating with {demo_recipe_path().name} into {store_dir}", flush=True)
    with times.stage("curate", show=False):
        outcome = curate(recipe, store_dir)
    report_outcome(outcome, store_dir, recipe.source.path)

    print(f"\n[3/4] store summary ({store_dir})", flush=True)
    with times.stage("stats"):
        print(format_stats(store_stats(open_store(store_dir))))

    print(f"\n[4/4] preview of the curated views into {preview_dir}", flush=True)
    if all(p.is_file() for p in preview_files) and not args.overwrite:
        print(
            f"contact sheet: {preview_files[0]}\ngallery: {preview_files[1]}\n(kept; --overwrite redraws them)"
        )
    else:
        with times.stage("preview"):
            items = list(items_from_store(store_dir, 8, config_hash=outcome.summary.config_hash))
            sheet, gallery = write_preview(items, preview_dir)
        print(f"contact sheet: {sheet}\ngallery: {gallery}")
    print(f"\ncuration demo finished: outputs under {out}/")
    print(times.format())
    return 0
