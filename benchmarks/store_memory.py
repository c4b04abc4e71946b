"""Peak memory of the store's commands at two store sizes 10x apart: it must stay flat.

Two stores are built, of N and 10N samples: `curate` (recipes/demo.yaml) makes a few real samples
from synthetic scenes, and the store is filled by publishing copies of their rows under new sample
ids and image hashes, in batches of about `--batch-mb` (the blobs are the real encoded images and
views, so every byte a command could read is there). Then each command runs in a fresh process and
reports its peak resident memory (its own and its worker processes'):

  curate    curate 8 new scenes into the store (1 worker)
  stats     `vzero-data stats STORE`
  export    `vzero-data export --format hf` (a datasets folder) and `--format verl` (Parquet)
  records   iterate Store.iter_training_records() over every sample (what training reads)

Prints each peak at N and 10N and their ratio (1.00x = flat).

usage: python benchmarks/store_memory.py [--n 400] [--factor 10] [--batch-mb 64]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

# This process's own peak is VmHWM (ru_maxrss would carry over the launching process's peak across
# exec); worker processes report theirs through RUSAGE_CHILDREN, which never exceeds the larger of
# their own peak and this process's at the time they started.
PROBE = r"""
import json, re, resource, sys, time
t0 = time.perf_counter()
{body}
with open("/proc/self/status") as fh:
    self_kb = int(re.search(r"VmHWM:\s+(\d+) kB", fh.read()).group(1))
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({{"peak_mb": max(self_kb, child_kb) / 1024, "seconds": time.perf_counter() - t0}}))
"""

COMMANDS = {
    "curate": """
from vzero_data.commands.demo import demo_recipe
from vzero_data.pipeline.runner import curate
from pathlib import Path
r = demo_recipe(Path(sys.argv[2]), ["execution.progress=false", "execution.workers=1"])
curate(r, sys.argv[1])
""",
    "stats": """
from vzero_data.cli import main
main(["stats", sys.argv[1]])
""",
    "export hf": """
from vzero_data.cli import main
main(["export", sys.argv[1], "--format", "hf", "--out", sys.argv[2] + "/hf"])
""",
    "export verl": """
from vzero_data.cli import main
main(["export", sys.argv[1], "--format", "verl", "--out", sys.argv[2] + "/verl.parquet"])
""",
    "records": """
from vzero_data.store import open_store
n = sum(1 for _ in open_store(sys.argv[1]).iter_training_records())
print(n, "records", file=sys.stderr)
""",
}


def peak(command: str, store: Path, work: Path) -> dict:
    """Run one command in a fresh interpreter; its peak RSS in MB and wall seconds."""
    work.mkdir(parents=True, exist_ok=True)
    code = PROBE.format(body=COMMANDS[command])
    out = subprocess.run(
        [sys.executable, "-c", code, str(store), str(work)], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"{command} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def template(root: Path, n: int) -> dict[str, pa.Table]:
    """The rows of ``n`` really curated demo scenes: what every copy is made of."""
    from vzero_data.commands.demo import demo_recipe
    from vzero_data.pipeline.runner import curate
    from vzero_data.store import open_store
    from vzero_data.synth import write_scenes

    write_scenes(root / "synth", n, size=1024, seed=0, progress=False)
    recipe = demo_recipe(root, ["execution.progress=false", "execution.workers=1"])
    curate(recipe, root / "template")
    store = open_store(root / "template")
    return {t: store.query(f"SELECT * FROM {t}") for t in ("samples", "images", "regions", "views")}


def _suffixed(column: pa.ChunkedArray, suffix: str) -> pa.Array:
    return pc.binary_join_element_wise(column, pa.scalar(suffix), "")


def _rehash(column: pa.ChunkedArray, k: int) -> pa.Array:
    return pa.array([hashlib.sha256(f"{v}:{k}".encode()).hexdigest() for v in column.to_pylist()])


def copy_rows(rows: dict[str, pa.Table], k: int) -> dict[str, pa.Table]:
    """Copy ``k`` of the template: new sample ids and image hashes, same blobs."""
    suffix = f"-copy{k}"
    out = {}
    for name, table in rows.items():
        if "sample_id" in table.column_names:
            i = table.schema.get_field_index("sample_id")
            table = table.set_column(i, "sample_id", _suffixed(table["sample_id"], suffix))
        for col in ("image_sha256", "sha256"):
            if col in table.column_names:
                i = table.schema.get_field_index(col)
                table = table.set_column(i, col, _rehash(table[col], k))
        for col in ("view_id", "region_id"):
            if col in table.column_names:
                i = table.schema.get_field_index(col)
                table = table.set_column(i, col, _suffixed(table[col], suffix))
        out[name] = table
    return out


def fill(
    store_path: Path, rows: dict[str, pa.Table], copies: int, batch_mb: float, *, runs: bool = False
) -> None:
    """A store holding ``copies`` copies of ``rows``, published batch by batch like a long run; with
    ``runs``, each batch is written by a run of its own (two ``runs`` rows, as ``curate`` records)."""
    from vzero_data.store import open_store
    from vzero_data.store.layout import write_batch
    from vzero_data.store.schema import TABLES

    store = open_store(store_path, create=True)
    per_copy = sum(t.nbytes for t in rows.values())
    per_batch = max(1, int(batch_mb * (1 << 20) // per_copy))
    for start in range(0, copies, per_batch):
        parts = [copy_rows(rows, k) for k in range(start, min(copies, start + per_batch))]
        tables = {
            name: pa.concat_tables([p[name] for p in parts]).select(TABLES[name].names).cast(TABLES[name])
            for name in rows
        }
        if runs:
            store.record_run(f"run-{start}", "cfg", status="running")
        write_batch(store.root, tables)
        if runs:
            store.record_run(f"run-{start}", "cfg", status="finished")
    store.rebuild_catalog()


def scan_seconds(store_path: Path, repeat: int = 3) -> float:
    """Best wall time of what every resumed run and every command starts with: the catalog's scans
    (``stats``, which also covers the done-ids query's tables)."""
    from vzero_data.store import open_store
    from vzero_data.store.stats import store_stats

    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        store_stats(open_store(store_path))
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=400, help="samples in the smaller store (default 400)")
    parser.add_argument("--factor", type=int, default=10, help="size of the larger store / the smaller")
    parser.add_argument(
        "--template", type=int, default=8, help="scenes really curated and copied (default 8)"
    )
    parser.add_argument("--batch-mb", type=float, default=64.0, help="rows per published batch, in MB")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated subset to run")
    args = parser.parse_args()
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]

    with tempfile.TemporaryDirectory(prefix="vzero-mem-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        rows = template(root, args.template)
        sizes = [args.n, args.n * args.factor]
        for n in sizes:
            fill(root / f"store-{n}", rows, max(1, n // args.template), args.batch_mb)
        disk = {
            n: sum(p.stat().st_size for p in (root / f"store-{n}").rglob("*.parquet")) / 1e6 for n in sizes
        }
        print(
            f"stores of {sizes[0]} and {sizes[1]} samples ({disk[sizes[0]]:.0f} MB and {disk[sizes[1]]:.0f} MB "
            f"of Parquet), built in {time.perf_counter() - t0:.0f} s"
        )
        # curate reads its scenes from <work>/synth (demo_out/ paths move under the work folder).
        new_scenes = root / "new"
        from vzero_data.synth import write_scenes

        write_scenes(new_scenes / "synth", 8, size=1024, seed=1, progress=False)
        print(
            f"{'command':<12} {'peak MB @' + str(sizes[0]):>14} {'peak MB @' + str(sizes[1]):>14} {'ratio':>7}"
        )
        for command in commands:
            peaks = []
            for n in sizes:
                work = new_scenes if command == "curate" else root / f"out-{command.replace(' ', '-')}-{n}"
                peaks.append(peak(command, root / f"store-{n}", work)["peak_mb"])
            print(f"{command:<12} {peaks[0]:>14.0f} {peaks[1]:>14.0f} {peaks[1] / peaks[0]:>6.2f}x")

        # Many resumed runs: one small batch per run and its two runs rows, then `compact`.
        from vzero_data.store import open_store

        many = root / "store-many-runs"
        runs = max(1, args.n // args.template)
        fill(many, rows, runs, 0.0, runs=True)
        store = open_store(many)
        before, folders = scan_seconds(many), len(store.batches())
        summary = store.compact()
        after = scan_seconds(many)
        print(
            f"catalog scan (stats) over {args.n} samples from {runs} runs: {folders} batch folders "
            f"{before:.2f} s; after `compact` ({summary.batches_after} folders) {after:.2f} s "
            f"({before / after:.1f}x faster)"
        )


if __name__ == "__main__":
    main()
