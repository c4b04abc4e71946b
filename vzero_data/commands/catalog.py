"""Manage a store's DuckDB catalog. `rebuild` recreates catalog.duckdb from the Parquet shards alone
(e.g. after copying or moving a store) and removes temp batches left by killed writers.

example:
  vzero-data catalog rebuild data/store
"""

from __future__ import annotations

import argparse

HELP = "manage a store's DuckDB catalog (rebuild it from the shards)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    rebuild = sub.add_parser("rebuild", help="recreate STORE/catalog.duckdb from the shards alone")
    rebuild.add_argument("store", help="store directory")


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_data.store.layout import StoreError
    from vzero_data.store.store import open_local_store

    try:
        store = open_local_store(args.store, "catalog rebuild")
        path = store.rebuild_catalog()
        n = store.query("SELECT count(*) AS n FROM samples").column("n")[0].as_py()
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(f"rebuilt {path} over {len(store.batches())} batches ({n} sample rows)")
    return 0
