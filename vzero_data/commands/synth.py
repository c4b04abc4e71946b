"""Generate synthetic fine-grained scenes: cluttered images of small shapes, each with a
multiple-choice question about one small target, its answer, target phrase and exact box.

Writes DIR/images/*.png and DIR/manifest.jsonl (the generic JSONL ingest format). The output is a
pure function of --seed, --n, --size and --text: the same arguments give the same bytes.

example:
  vzero-data synth --out data/synth --n 64 --size 1024 --seed 0
"""

from __future__ import annotations

import argparse
import json

HELP = "generate synthetic fine-grained scenes (images + JSONL manifest)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--n", type=int, default=16, help="number of scenes (default: 16)")
    parser.add_argument("--size", type=int, default=1024, help="image side in pixels (default: 1024)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--text", action="store_true", help="also scatter tiny text labels as clutter")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing manifest and images")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vzero_data.cli_support import CommandError, refuse_to_overwrite
    from vzero_data.synth import summarize, write_scenes

    refuse_to_overwrite([Path(args.out) / "manifest.jsonl", Path(args.out) / "images"], args.overwrite)
    try:
        manifest = write_scenes(args.out, args.n, size=args.size, seed=args.seed, text=args.text)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    summary = summarize(manifest)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


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
