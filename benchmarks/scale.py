"""Cost per 1k samples and peak memory of the store's commands as the store grows: 1k, 10k, 100k.

For each size N a synthetic source of N distinct small images is written (``--base`` scenes of
``vzero-data synth``, each repeated with a unique stamp of three pixels in a corner, so every image
has its own hash and the statistics of a real scene), curated into a store by a light recipe
(annotated boxes, a positive crop and a ``downsampled_distractor`` view), and then each command runs
in a fresh process that reports its wall time and peak resident memory: the largest of its own and
of any process it started (curate's workers; with Ray, its raylet and workers, stopped first).
Memory is bounded by one batch (``store.shard_max_mb``), not by the number of samples, so the batch
size is set small (``--shard-mb 8``) for the smallest store to hold several full batches already:

  curate    `curate` of the whole source (--executor local, 2 workers; or --executor ray)
  stats     `vzero-data stats STORE`
  query     `vzero-data query` grouping every view by strategy and source
  export    `vzero-data export --format verl` (Parquet)
  verify    `vzero-data verify STORE` (every file read, every image and view decoded)
  records   the training record stream: every record of `iter_raw_records`, its image and views
            decoded, as the trainer reads them

The reference of each row is the same command at the smallest size, measured in the same run:
the table prints the ratio of cost per 1k samples and of peak memory to it (1.00x = flat).

usage: python benchmarks/scale.py [--sizes 1000,10000,100000] [--executors local,ray] [--size 128]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from store_memory import PROBE  # this folder's store_memory.py: peak RSS and wall time of one command

RECIPE = """
name: scale
source: {{adapter: synthetic, path: {source}}}
grounding: {{backend: annotated, selection: {{mode: top1, max_area_ratio: 0.5}}}}
crop: {{margin_ratio: 0.5, min_side: 32}}
negatives: [{{strategy: downsampled_distractor}}]
store: {{shard_max_mb: {shard_mb}}}
execution: {{executor: {executor}, workers: {workers}, progress: false}}
"""

COMMANDS = {
    "curate": """
from vzero_data.cli import main
assert main(["curate", sys.argv[3], "--out", sys.argv[1], "--no-progress", "-q"]) in (0, None)
if "ray" in sys.modules:  # stop Ray's processes now, so their peaks are reaped and counted
    sys.modules["ray"].shutdown()
""",
    "stats": """
from vzero_data.cli import main
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["stats", sys.argv[1]]) == 0
""",
    "query": """
from vzero_data.cli import main
import contextlib, io
sql = "SELECT v.strategy, s.source, count(*) AS n FROM views v JOIN samples s USING (sample_id) GROUP BY 1, 2"
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["query", sys.argv[1], sql]) == 0
""",
    "export": """
from vzero_data.cli import main
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["export", sys.argv[1], "--format", "verl", "--out", sys.argv[2] + "/verl.parquet", "--overwrite"]) == 0
""",
    "verify": """
from vzero_data.cli import main
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["verify", sys.argv[1]]) == 0
""",
    "records": """
from vzero_core.image_io import decode_image
from vzero_data.store import iter_raw_records, open_store
n = 0
for raw in iter_raw_records(open_store(sys.argv[1])):
    decode_image(raw.image_bytes); decode_image(raw.positive_bytes)
    for data in raw.negative_bytes.values():
        decode_image(data)
    n += 1
print(n, "records", file=sys.stderr)
""",
}


def run_probe(command: str, store: Path, work: Path, recipe: Path) -> dict:
    """One command in a fresh interpreter: its wall seconds and peak RSS in MB."""
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=COMMANDS[command]), str(store), str(work), str(recipe)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    if done.returncode != 0:
        raise SystemExit(f"{command} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_source(folder: Path, n: int, base: int, size: int) -> float:
    """``n`` distinct images made from ``base`` synthetic scenes; the seconds it took."""
    import io

    import numpy as np
    from PIL import Image

    from vzero_data.synth import MANIFEST_NAME, write_scenes

    t0 = time.perf_counter()
    scenes = folder.parent / f"scenes-{base}-{size}"
    if not (scenes / MANIFEST_NAME).exists():
        write_scenes(scenes, base, size=size, seed=0, progress=False)
    rows = [json.loads(line) for line in (scenes / MANIFEST_NAME).read_text().splitlines()]
    pixels = [np.asarray(Image.open(scenes / r["image"]).convert("RGB")) for r in rows]
    (folder / "images").mkdir(parents=True)
    with open(folder / MANIFEST_NAME, "w") as out:
        for k in range(n):
            row = dict(rows[k % base])
            px = pixels[k % base].copy()
            x1, y1 = row["bbox"][:2]
            corner = (-1, -3) if x1 < size / 2 and y1 < size / 2 else (0, 0)  # away from the target
            px[corner[0], corner[1] : corner[1] + 3 or None] = [(k >> 16) & 255, (k >> 8) & 255, k & 255]
            buf = io.BytesIO()
            Image.fromarray(px).save(buf, format="PNG", compress_level=1)
            name = f"images/scene-{k:07d}.png"
            (folder / name).write_bytes(buf.getvalue())
            row.update(image=name, id=f"scale-{k:07d}")
            out.write(json.dumps(row) + "\n")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="store sizes in samples")
    parser.add_argument("--executors", default="local,ray", help="curate executors: local, ray or both")
    parser.add_argument("--workers", type=int, default=2, help="curate workers (default 2)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--base", type=int, default=1000, help="distinct synthetic scenes (default 1000)")
    parser.add_argument(
        "--shard-mb",
        type=float,
        default=8.0,
        help="store.shard_max_mb: a batch's size, which bounds every command's memory (default 8, so "
        "even the smallest store holds several full batches)",
    )
    parser.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated subset")
    parser.add_argument("--keep", help="keep the stores in this folder (default: a temporary one)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    executors = [e.strip() for e in args.executors.split(",") if e.strip()]
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]

    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vzero-scale-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print(
        f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}",
        flush=True,
    )
    rows: dict[tuple[str, str, int], dict] = {}
    try:
        for n in sizes:
            source = tmp / f"source-{n}"
            if not source.exists():
                seconds = write_source(source, n, args.base, args.size)
                print(f"source of {n} images ({args.size} px) written in {seconds:.0f} s", flush=True)
            for executor in executors:
                recipe = tmp / f"recipe-{executor}.yaml"
                recipe.write_text(
                    RECIPE.format(
                        source=tmp / "SOURCE", executor=executor, workers=args.workers, shard_mb=args.shard_mb
                    )
                )
                recipe_n = tmp / f"recipe-{executor}-{n}.yaml"
                recipe_n.write_text(recipe.read_text().replace(str(tmp / "SOURCE"), str(source)))
                store = tmp / f"store-{executor}-{n}"
                shutil.rmtree(store, ignore_errors=True)
                for command in commands:
                    got = run_probe(command, store, tmp / f"work-{executor}-{n}", recipe_n)
                    rows[(executor, command, n)] = got
                    print(
                        f"  {executor:5s} {command:8s} n={n:>6d}: {got['seconds']:8.1f} s "
                        f"({got['seconds'] / n * 1000:6.2f} s/1k), peak {got['peak_mb']:7.0f} MB",
                        flush=True,
                    )
                shutil.rmtree(tmp / f"work-{executor}-{n}", ignore_errors=True)
                if not args.keep:
                    shutil.rmtree(store, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows, sizes, executors, commands)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")


def print_table(rows: dict, sizes: list[int], executors: list[str], commands: list[str]) -> None:
    """One line per executor and command: s/1k and peak MB at each size, and the ratio of the
    largest to the smallest size (the reference, measured in this run)."""
    lo, hi = sizes[0], sizes[-1]
    head = " | ".join(f"{n // 1000}k s/1k | {n // 1000}k peak MB" for n in sizes)
    print(
        f"\n| executor | command | {head} | s/1k {hi // 1000}k/{lo // 1000}k | peak {hi // 1000}k/{lo // 1000}k |"
    )
    print("|" + "---|" * (2 + 2 * len(sizes) + 2))
    for executor in executors:
        for command in commands:
            got = [rows.get((executor, command, n)) for n in sizes]
            if any(g is None for g in got):
                continue
            cells = " | ".join(
                f"{g['seconds'] / n * 1000:.2f} | {g['peak_mb']:.0f}" for g, n in zip(got, sizes, strict=True)
            )
            cost = (got[-1]["seconds"] / hi) / (got[0]["seconds"] / lo)
            mem = got[-1]["peak_mb"] / got[0]["peak_mb"]
            print(f"| {executor} | {command} | {cells} | {cost:.2f}x | {mem:.2f}x |")


if __name__ == "__main__":
    main()
