"""Publish a local store's finished batches to object storage, an fsspec URI or a shared folder,
where `stats`, `query`, `export`, `verify`, `vzero-train eval --format store` and training read it
(give them the URI). Idempotent: a rerun copies only what is missing, and the manifest is written
last, so a reader never sees part of a batch. Credentials come from the environment and each
backend's own config (AWS_* variables or ~/.aws, gcloud, the Hugging Face token); s3:// and gs://
need the backends: pip install "vzero[remote]".

examples:
  vzero-data sync data/store s3://my-bucket/stores/run1
  vzero-data stats s3://my-bucket/stores/run1
  vzero-data sync data/store /mnt/shared/stores/run1 --prune
"""

from __future__ import annotations

import argparse
import json

HELP = "publish a store's finished batches to object storage (s3://, gs://, ...) or a shared folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="local store directory")
    parser.add_argument(
        "uri", help="where to publish it: s3://bucket/prefix, gs://..., memory://..., or a folder"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="files copied at once (default: 8)")
    parser.add_argument(
        "--prune",
        action="store_true",
        help="remove published batches the store no longer has (merged by compact)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_data.store.layout import StoreError
    from vzero_data.store.store import open_local_store
    from vzero_data.store.sync import sync_store

    if args.concurrency < 1:
        raise CommandError(f"--concurrency: expected at least 1, got {args.concurrency}")
    try:
        store = open_local_store(args.store, "sync")
        summary = sync_store(store, args.uri, concurrency=args.concurrency, prune=args.prune)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary.format_text())
    return 0
