"""Run the vzero demo on the embedded default data set (synthetic scenes), on CPU in minutes.

Today the demo synthesizes scenes and summarizes them; it grows into the full
curate-and-train demo as the pipeline lands.

example:
  vzero-data demo --out demo_out
"""

from __future__ import annotations

import argparse

HELP = "run the end-to-end demo on synthetic scenes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="demo_out", help="output directory (default: demo_out)")
    parser.add_argument("--n", type=int, default=16, help="number of synthetic scenes (default: 16)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vzero_data.commands.synth import format_summary
    from vzero_data.synth import summarize, write_scenes

    out = Path(args.out)
    print(f"[1/1] synthesizing {args.n} scenes into {out / 'synth'}")
    manifest = write_scenes(out / "synth", args.n, size=1024, seed=args.seed)
    print(format_summary(summarize(manifest)))
    print(f"demo finished: outputs under {out}/")
    return 0
