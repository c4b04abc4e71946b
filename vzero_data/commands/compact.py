"""Merge a store's many small batches into fewer, larger ones: every run adds a few small batches
(its samples, its two `runs` rows), and each query lists and opens every batch folder. The swap is
crash-safe: killed at any moment, the store keeps every row once (the next open completes it).

example:
  vzero-data compact data/store
  vzero-data compact data/store --max-mb 128
"""

from __future__ import annotations

import argparse

HELP = "merge many small batches into fewer shard files (atomic, crash-safe)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="store directory")
    parser.add_argument(
        "--max-mb", type=float, default=256.0, help="largest merged batch, in MB of Parquet (default 256)"
    )


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_data.store.layout import StoreError
    from vzero_data.store.store import open_local_store

    if args.max_mb <= 0:
        raise CommandError(f"--max-mb must be positive, got {args.max_mb}")
    try:
        summary = open_local_store(args.store, "compact").compact(int(args.max_mb * (1 << 20)))
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(f"compacted {args.store}: {summary.format()}")
    return 0
