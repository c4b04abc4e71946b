"""Check a store for damage: every shard file is read in full (Parquet page checksums verified) and
every stored image and view is decoded. Damage is reported by file and by sample. With --repair,
each damaged batch moves to STORE/quarantine/ (nothing is deleted), so the store reads cleanly and
rerunning the same curate recipe regenerates exactly the quarantined samples.

Exit status: 0 when the store is sound (or was repaired), 1 when damage was found and left.

examples:
  vzero-data verify data/store
  vzero-data verify data/store --repair && vzero-data curate recipe.yaml --out data/store
"""

from __future__ import annotations

import argparse
import json

HELP = "check every shard file, page checksum, image and view; --repair quarantines damaged batches"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="store directory, or a published store's URI (s3://...)")
    parser.add_argument("--repair", action="store_true", help="move damaged batches to STORE/quarantine/")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_data.store import open_store
    from vzero_data.store.layout import StoreError
    from vzero_data.store.published import PublishedStore
    from vzero_data.store.verify import quarantine, verify_published, verify_store

    try:
        store = open_store(args.store)
        if isinstance(store, PublishedStore):
            if args.repair:
                raise CommandError(
                    f"{store.root}: a published store is read-only; verify --repair the local store, "
                    "curate again and sync it"
                )
            report = verify_published(store)
        else:
            report = verify_store(store.root)
        if args.repair and report.damage:
            quarantine(store.root, report)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.format_text())
    return 1 if report.damage and not report.quarantined else 0
