"""End-to-end curation throughput on the synthetic set, against its decode floor and a naive loop.

All make the same views for every scene: the demo recipe's positive crop and one view of each of
its negative strategies, from the scenes' annotated boxes.

  pipeline  `curate` (the shipped demo recipe): source ingest with hashing and decode-validation, grounding
            (annotated), views + checks + encoding in 1 and 2 worker processes, Parquet store with
            atomic batches. Wall time includes starting the worker processes.
  naive     one process; for every view: PIL open + decode the image file, make the view with the
            same function, save it as a PNG file with PIL. No checks, no store.
  floor     one process: decode each source once and encode the views the pipeline made (the
            1-worker store's, decoded back to pixels untimed) in the recipe's format. What no
            curation of these views can avoid.

Prints samples/s of each, pipeline time / floor time (1.0x = at the floor) and pipeline speed /
naive speed.

usage: python benchmarks/curate_throughput.py [--n 48] [--size 1024]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from vzero_data.boxes import Box
from vzero_data.commands.demo import demo_recipe
from vzero_data.pipeline.runner import curate
from vzero_data.store import open_store
from vzero_data.synth import write_scenes
from vzero_data.views import POSITIVE_STRATEGY, negative_view, pool_from_paths, positive_view, view_seed
from vzero_data.views.encoding import decode_rgb, encode_rgb


def naive_loop(synth: Path, recipe, out: Path) -> int:
    """The loop a script would write: open the image for every view, make it, save it."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in (synth / "manifest.jsonl").read_text().splitlines()]
    pools = {
        neg.pool: pool_from_paths(neg.pool, max_images=neg.pool_images, max_side=neg.pool_max_side)
        for neg in recipe.negatives
        if neg.pool
    }

    def load(path: Path) -> np.ndarray:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))

    n_views = 0
    for row in rows:
        path, sid, target = synth / row["image"], row["id"], Box.from_xyxy(row["bbox"])
        positive = positive_view(load(path), target, recipe.crop, view_seed(sid, POSITIVE_STRATEGY, 0))
        Image.fromarray(positive.pixels).save(out / f"{sid}-positive.png")
        for i, neg in enumerate(recipe.negatives):
            view = negative_view(
                neg.strategy,
                load(path),
                target,
                neg.params,
                view_seed(sid, neg.strategy, 0),
                positive=positive,
                pool=pools.get(neg.pool),
            )
            Image.fromarray(view.pixels).save(out / f"{sid}-neg{i}.png")
            n_views += 1
    return len(rows)


def floor_seconds(synth: Path, store_path: Path, fmt: str, quality: int) -> float:
    """Decode each source once and encode the same views: the work every run must do, timed."""
    rows = [json.loads(line) for line in (synth / "manifest.jsonl").read_text().splitlines()]
    views = [
        decode_rgb(b)
        for b in open_store(store_path).query("SELECT image_bytes FROM views").column(0).to_pylist()
    ]
    t0 = time.perf_counter()
    for row in rows:
        decode_rgb((synth / row["image"]).read_bytes())
    for pixels in views:
        encode_rgb(pixels, fmt, quality)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=48, help="synthetic scenes (default 48)")
    parser.add_argument("--size", type=int, default=1024, help="scene side in pixels (default 1024)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vzero-bench-") as tmp:
        root = Path(tmp)
        write_scenes(root / "synth", args.n, size=args.size, seed=0, progress=False)
        print(
            f"{args.n} synthetic scenes of {args.size}x{args.size} px, views per scene: 1 positive + ", end=""
        )
        recipe = demo_recipe(root, ["execution.progress=false"])
        print(f"{len(recipe.negatives)} negatives ({', '.join(n.strategy for n in recipe.negatives)})")

        t0 = time.perf_counter()
        n = naive_loop(root / "synth", recipe, root / "naive")
        naive = n / (time.perf_counter() - t0)
        print(f"naive loop (1 process, PIL open/crop/save per view): {naive:6.2f} samples/s")

        floor = None
        for workers in (1, 2):
            r = demo_recipe(root, ["execution.progress=false", f"execution.workers={workers}"])
            t0 = time.perf_counter()
            outcome = curate(r, root / f"store-w{workers}")
            seconds = time.perf_counter() - t0
            rate = outcome.summary.kept / seconds
            assert outcome.summary.kept == args.n, outcome.summary.format()
            if floor is None:
                floor = floor_seconds(
                    root / "synth", root / "store-w1", r.store.image_format, r.store.quality
                )
                print(
                    f"floor (1 process: decode each source once, encode the same views): "
                    f"{args.n / floor:6.2f} samples/s"
                )
            print(
                f"pipeline, {workers} worker(s): {rate:6.2f} samples/s  "
                f"(pipeline/floor {seconds / floor:.2f}x, pipeline/naive {rate / naive:.2f}x)"
            )


if __name__ == "__main__":
    main()
