"""Generate synthetic fine-grained scenes: cluttered images of small shapes, each with a
multiple-choice question about one small target, its answer, target phrase and exact box.

Writes DIR/images/*.png and DIR/manifest.jsonl (the generic JSONL ingest format). The output is a
pure function of the arguments: the same arguments give the same bytes.

Two worlds: `clutter` (default) scatters many small shapes and gives the target a colour no other
object has; `shared_colour` paints every option colour on several objects and names the target by
its shape, so the answer needs localisation (counting colours gives chance). Its difficulty knobs:
--options, --objects-per-colour, --side-fraction, --target-scale (default size 112 px).

example:
  vzero-data synth --out data/synth --n 64 --size 1024 --seed 0
  vzero-data synth --out data/world --n 256 --world shared_colour --objects-per-colour 2
"""

from __future__ import annotations

import argparse
import json

HELP = "generate synthetic fine-grained scenes (images + JSONL manifest)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--n", type=int, default=16, help="number of scenes (default: 16)")
    parser.add_argument(
        "--size", type=int, help="image side in pixels (default: 1024 for clutter, 112 for shared_colour)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--text", action="store_true", help="clutter: also scatter tiny text labels")
    parser.add_argument(
        "--world", choices=("clutter", "shared_colour"), default="clutter", help="scene generator"
    )
    parser.add_argument("--options", type=int, help="shared_colour: option colours per question (default 4)")
    parser.add_argument(
        "--objects-per-colour",
        type=int,
        help="shared_colour: objects painted in each option colour (default 2)",
    )
    parser.add_argument(
        "--side-fraction", help="shared_colour: object side range as a fraction of the image, LOW,HIGH"
    )
    parser.add_argument(
        "--target-scale", type=float, help="shared_colour: target side multiplier (default 1)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing manifest and images")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vzero_core.cli_support import CommandError, refuse_to_overwrite
    from vzero_data.synth import summarize, write_scenes

    refuse_to_overwrite([Path(args.out) / "manifest.jsonl", Path(args.out) / "images"], args.overwrite)
    try:
        knobs = shared_colour_knobs(args)
        if args.world == "clutter":
            manifest = write_scenes(args.out, args.n, size=args.size or 1024, seed=args.seed, text=args.text)
        else:
            manifest = write_scenes(args.out, args.n, seed=args.seed, world=args.world, knobs=knobs)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    summary = summarize(manifest)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def shared_colour_knobs(args: argparse.Namespace):
    """The shared-colour knobs named on the command line (``None`` for the clutter world); a knob
    given to the clutter world is an error rather than silently ignored."""
    from vzero_data.synth import SharedColourKnobs

    given = {
        "n_options": args.options,
        "objects_per_colour": args.objects_per_colour,
        "side_fraction": args.side_fraction,
        "target_scale": args.target_scale,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if args.world == "clutter":
        if given:
            flags = ", ".join("--" + k.replace("n_options", "options").replace("_", "-") for k in given)
            raise ValueError(f"{flags} apply to --world shared_colour only")
        return None
    if args.text:
        raise ValueError("--text applies to --world clutter only")
    if "side_fraction" in given:
        try:
            low, high = (float(v) for v in given["side_fraction"].split(","))
        except ValueError:
            raise ValueError(
                f"--side-fraction must be LOW,HIGH (two numbers), got {given['side_fraction']!r}"
            ) from None
        given["side_fraction"] = (low, high)
    if args.size is not None:
        given["size"] = args.size
    return SharedColourKnobs(**given)


def format_summary(summary: dict) -> str:
    ratio = summary["target_area_ratio"]
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(summary["question_kinds"].items()))
    ex = summary["example"]
    return "\n".join(
        [
            f"synthetic scenes: {summary['n']} images ({', '.join(summary['image_size'])}), "
            f"{summary['bytes_on_disk'] / 1e6:.1f} MB, manifest {summary['manifest']}",
            f"  objects per image: {summary['objects_per_image_mean']:.1f} on average",
            f"  question kinds: {kinds}",
            f"  target area / image area: min {ratio['min']:.3%}, median {ratio['median']:.3%}, max {ratio['max']:.3%}",
            f"  example: {ex['question']} options={ex['options']} answer={ex['answer']!r} "
            f"target={ex['target']!r} bbox={[round(v) for v in ex['bbox']]}",
        ]
    )
