"""Check a store against benchmarks: which training images and crops are in a benchmark.

Kinds: exact_bytes (the same file), near_duplicate_image (resized, re-encoded, recoloured or
slightly cropped), training_crop_in_benchmark (a training image or positive crop found inside a
benchmark image), benchmark_region_in_training (a benchmark image or target region found inside a
training image). A benchmark is [FORMAT:]PATH in any `vzero-train eval` format (vstar, hrbench,
mme_realworld, treebench, zoombench, visualprobe, store, synthetic, ...; detected from the path), or
a plain image folder (folder:PATH, or any folder no format recognises). Benchmark fingerprints are cached by image hash ($VZERO_CACHE_DIR, default
~/.cache/vzero). Writes OUT/report.md, report.json and report.html (each pair side by side, the
matched region boxed).

examples:
  vzero-data contamination data/store --against vstar_bench/ --against HR-Bench/hr_bench_4k.tsv
  vzero-data contamination data/store --against folder:eval_images/ --format md,json --out contam/
"""

from __future__ import annotations

import argparse

HELP = "find benchmark images and regions in a store (exact, near-duplicate, crop, region): md/json/html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vzero_data.fingerprints.search import DEFAULT_MAX_DISTANCE

    parser.add_argument("store", help="store directory")
    parser.add_argument(
        "--against", action="append", required=True, metavar="[FORMAT:]PATH", help="a benchmark (repeatable)"
    )
    parser.add_argument(
        "--format", default="md,json,html", help="reports to write: md, json, html (comma-separated)"
    )
    parser.add_argument("--out", default="contamination_report", help="folder for the reports")
    parser.add_argument(
        "--distance", type=int, default=DEFAULT_MAX_DISTANCE, help="pHash bits for a near-duplicate (0-15)"
    )
    parser.add_argument("--no-regions", action="store_true", help="whole images only (exact and pHash)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing reports in --out")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vzero_core.cli_support import CommandError, refuse_to_overwrite
    from vzero_data.benchmarks.items import EvalDataError
    from vzero_data.fingerprints.contamination import contamination
    from vzero_data.fingerprints.phash_index import MAX_DISTANCE_LIMIT
    from vzero_data.fingerprints.pictures import MissingFingerprints
    from vzero_data.fingerprints.report import FORMATS, write_reports
    from vzero_data.store import open_store
    from vzero_data.store.layout import StoreError

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise CommandError(f"--format: expected some of {', '.join(FORMATS)}, got {args.format!r}")
    if not 0 <= args.distance <= MAX_DISTANCE_LIMIT:
        raise CommandError(f"--distance must be within 0..{MAX_DISTANCE_LIMIT} bits, got {args.distance}")
    out = Path(args.out)
    refuse_to_overwrite([out / f"report.{f}" for f in formats], args.overwrite)
    try:
        store = open_store(args.store)
        report = contamination(
            store, args.against, max_distance=args.distance, regions=not args.no_regions, progress=True
        )
        written = write_reports(report, out, formats, store)
    except (StoreError, EvalDataError, MissingFingerprints) as exc:
        raise CommandError(str(exc)) from exc
    for bench in report.benchmarks:
        counts = report.counts().get(bench["name"], {})
        found = ", ".join(f"{k}: {v}" for k, v in counts.items()) or "nothing found"
        print(f"{bench['name']} ({bench['format']}, {bench['images']} images): {found}")
    print("reports: " + ", ".join(str(p) for p in written))
    return 0
