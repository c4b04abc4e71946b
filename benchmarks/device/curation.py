"""The ``curation`` part: the demo-scale curation benchmark at 1, 4, 8 and 16 worker processes, against
the decode floor, so the scaling curve over a machine's cores exists.

The same scenes, recipe and measurements as ``benchmarks/curate_throughput.py``'s warm runs: the
demo recipe (annotated boxes, a positive crop and one view of each negative strategy, checks, a
Parquet store) in a process that has already run one curation, and the floor (one process decoding
each source once and encoding the same views). Worker counts above the machine's CPUs are skipped.
"""

from __future__ import annotations

import os
from typing import Any


def run(ctx: Any, part: Any) -> None:
    from benchmarks.curate_throughput import QUIET, floor_seconds, warm_curate
    from vzero_data.commands.demo import demo_recipe
    from vzero_data.synth import write_scenes

    s = ctx.sizes
    root = ctx.work / "curation"
    write_scenes(root / "synth", s.scenes, size=s.scene_size, seed=0, progress=False)
    recipe = demo_recipe(root, QUIET)
    part.note(
        f"{s.scenes} synthetic scenes of {s.scene_size} px, 1 positive + {len(recipe.negatives)} negative views "
        f"each; {os.cpu_count()} CPUs; load average before {os.getloadavg()[0]:.1f}"
    )
    rows = part.table(
        "curation throughput (warm runs)",
        ["workers", "samples/s", "time / floor", "speed-up over 1 worker", "per worker"],
    )
    part.data["runs"] = runs = []
    floor = first = None
    for workers in s.workers:
        if workers > (os.cpu_count() or 1):
            part.note(f"{workers} workers: skipped, more than this machine's {os.cpu_count()} CPUs")
            continue
        if ctx.budget.left() < s.curation_min_s:
            part.note(f"{workers} workers: skipped, the part's time was running out")
            break
        store = root / f"store-w{workers}"
        wall, kept, _ = warm_curate(root, store, workers)
        if kept != s.scenes:
            raise RuntimeError(f"{workers} workers kept {kept} of {s.scenes} samples")
        if floor is None:  # decode the sources once and encode the views this run made
            floor, _ = floor_seconds(root / "synth", store, recipe.store.image_format, recipe.store.quality)
            part.data["floor_samples_per_s"] = s.scenes / floor
            part.note(f"decode floor (one process): {s.scenes / floor:.2f} samples/s")
        first = first or (workers, wall)
        speedup = first[1] / wall if first[0] == 1 else None
        runs.append({"workers": workers, "seconds": wall, "samples_per_s": s.scenes / wall})
        rows.append([workers, s.scenes / wall, wall / floor, speedup, speedup / workers if speedup else None])
        part.save()
    part.note(f"load average after {os.getloadavg()[0]:.1f}")
